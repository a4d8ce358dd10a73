// ClusterLab's page script, the one entry module every page loads. Plain ES modules
// under js/, no build step: each init function does nothing on pages without its part.

import { $ } from "./js/core.js";
import { initCharts } from "./js/charts.js";
import { initExplore, initSchema } from "./js/datasets.js";
import { initProjectEngine, initTaskEngine } from "./js/engines.js";
import { initFlow } from "./js/flow.js";
import { initApiForms, initJobs } from "./js/jobs.js";
import { initDesign, initStars } from "./js/lab.js";
import { initModels } from "./js/models.js";
import { initNewRecipe, initRecipe } from "./js/recipes.js";

// g then f: go to the project's Flow (as in DSS).
function initShortcuts() {
  let pending = false;
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select, [contenteditable]") || event.ctrlKey || event.metaKey || event.altKey) return;
    const project = document.body.dataset.project;
    if (pending && event.key === "f" && project) location.href = `/projects/${project}/flow`;
    pending = event.key === "g";
    if (pending) setTimeout(() => { pending = false; }, 1500);
  });
}

initApiForms();
initJobs();
initFlow();
initProjectEngine();
initExplore();
initSchema();
initCharts();
initDesign();
initTaskEngine();
initStars();
initModels();
initRecipe();
initNewRecipe();
initShortcuts();
// Lets the end-to-end test (and anyone curious) know every module loaded and ran.
$("body").dataset.ready = "true";
