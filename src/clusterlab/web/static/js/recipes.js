// Recipe pages: the Prepare editor (steps, processors, live preview), the settings of
// the other recipe types, and the New recipe form.

import { $, $$, api, busy, clearFlash, escapeHtml, flash } from "./core.js";
import { greyOut, recipeProblems, showProblems } from "./engines.js";
import { build } from "./jobs.js";

function previewTable(outputs) {
  return Object.entries(outputs).map(([name, t]) => `<h3>${escapeHtml(name)}</h3><table class="grid"><thead><tr>${
    t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead><tbody>${
    t.rows.map((r) => `<tr>${r.map((v) => `<td>${v === null ? '<span class="null"></span>' : escapeHtml(String(v))}</td>`).join("")}</tr>`).join("")
  }</tbody></table>`).join("");
}

export function initRecipe() {
  const box = $("#recipe-editor");
  if (!box) return;
  const project = box.dataset.project;
  const recipe = JSON.parse($("#recipe-json").textContent);
  const processors = JSON.parse($("#processors-json").textContent);
  const url = `/api/projects/${project}/recipes/${recipe.name}`;
  const current = () => {
    if (recipe.type !== "prepare") recipe.params = { type: recipe.type, ...JSON.parse($("#params").value) };
    return recipe;
  };
  // What the engine this recipe runs on cannot run: processors greyed out, problems listed.
  const engines = JSON.parse($("#engines-json").textContent);
  const applyEngine = () => {
    const engine = recipe.engine || engines.project_engine;
    const table = engines.tables[engine];
    for (const b of $$("[data-add-step]")) {
      greyOut(b, table.processors[b.dataset.addStep] || { supported: false, note: `not verified on the ${engine} engine` });
    }
    let problems;
    try {
      problems = recipeProblems(table, current(), engines.external_inputs);
    } catch {
      return; // settings that are not JSON yet: Save and Preview say so
    }
    showProblems($("#engine-problems"), problems, engine);
  };
  $("#recipe-engine").addEventListener("change", (event) => {
    recipe.engine = event.target.value || null;
    applyEngine();
  });
  const preview = async () => {
    const target = $("#preview");
    target.classList.add("loading");
    try {
      target.innerHTML = previewTable(await api("POST", `/api/projects/${project}/recipes/preview`, { recipe: current() }));
      clearFlash();
    } catch (err) {
      target.innerHTML = `<p class="error">${escapeHtml(err.message)}</p>`;
    } finally {
      target.classList.remove("loading");
    }
  };
  const saveRecipe = () => api("PUT", url, current());
  $("[data-recipe-save]").addEventListener("click", async (e) => {
    try {
      await busy(e.target, "Saving…", saveRecipe);
      flash("Saved.", "ok");
    } catch (err) {
      flash(err.message.startsWith("Unexpected token") ? "The settings are not valid JSON." : err.message);
    }
  });
  $("[data-recipe-run]").addEventListener("click", async (e) => {
    try {
      await saveRecipe();
      await build(e.target, recipe.outputs, { upstream: false, force: true },
        () => flash("Run finished: the outputs are built.", "ok"));
    } catch (err) {
      flash(err.message);
    }
  });
  if (recipe.type !== "prepare") {
    $("[data-preview]").addEventListener("click", preview);
    $("#params").addEventListener("change", applyEngine);
    return;
  }
  const list = $("#steps");
  const draw = () => {
    $("#no-steps").hidden = recipe.params.steps.length > 0;
    list.innerHTML = recipe.params.steps.map((step, i) => `<li class="step${step.enabled === false ? " disabled" : ""}" data-i="${i}">
      <div class="step-head"><strong>${escapeHtml(step.type)}</strong>
      <label class="check"><input type="checkbox" data-toggle ${step.enabled === false ? "" : "checked"}> on</label>
      <button type="button" data-move="-1" title="Move up">↑</button><button type="button" data-move="1" title="Move down">↓</button>
      <button type="button" data-edit>Edit</button><button type="button" data-delete title="Delete">✕</button></div>
      <textarea data-json rows="5" hidden spellcheck="false">${escapeHtml(JSON.stringify(step, null, 2))}</textarea></li>`).join("");
  };
  const changed = () => { draw(); preview(); applyEngine(); };
  list.addEventListener("click", (event) => {
    const li = event.target.closest("li[data-i]");
    if (!li) return;
    const i = Number(li.dataset.i);
    const steps = recipe.params.steps;
    const b = event.target.closest("button");
    if (!b) return;
    if ("move" in b.dataset) {
      const j = i + Number(b.dataset.move);
      if (j < 0 || j >= steps.length) return;
      [steps[i], steps[j]] = [steps[j], steps[i]];
      changed();
    } else if ("delete" in b.dataset) {
      steps.splice(i, 1);
      changed();
    } else if ("edit" in b.dataset) {
      const area = $("[data-json]", li);
      area.hidden = !area.hidden;
    }
  });
  list.addEventListener("change", (event) => {
    const li = event.target.closest("li[data-i]");
    const step = recipe.params.steps[Number(li.dataset.i)];
    if ("toggle" in event.target.dataset) {
      step.enabled = event.target.checked;
      changed();
    } else if ("json" in event.target.dataset) {
      try {
        recipe.params.steps[Number(li.dataset.i)] = JSON.parse(event.target.value);
        changed();
      } catch {
        flash("This step is not valid JSON: check quotes, commas and brackets.");
      }
    }
  });
  $("#processor-search").addEventListener("input", (event) => {
    const q = event.target.value.toLowerCase();
    for (const li of $$("#processors li")) li.hidden = !li.textContent.toLowerCase().includes(q);
  });
  $("#processors").addEventListener("click", (event) => {
    const b = event.target.closest("[data-add-step]");
    if (!b) return;
    const proc = processors.find((p) => p.type === b.dataset.addStep);
    recipe.params.steps.push(structuredClone(proc.template));
    draw();
    const last = $$("li[data-i]", list).at(-1);
    $("[data-json]", last).hidden = false;
    $("[data-json]", last).focus();
  });
  draw();
  preview();
}

export function initNewRecipe() {
  const form = $("#new-recipe");
  if (!form) return;
  const skeletons = JSON.parse($("#skeletons").textContent);
  const prefill = () => {
    form.elements.params.value = JSON.stringify(skeletons[form.elements.type.value], null, 2);
  };
  form.elements.type.addEventListener("change", prefill);
  prefill();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const type = form.elements.type.value;
    const name = form.elements.name.value.trim();
    let params;
    try {
      params = JSON.parse(form.elements.params.value || "{}");
    } catch {
      flash("The settings are not valid JSON: check quotes, commas and brackets.");
      return;
    }
    const body = {
      name, type,
      inputs: [...form.elements.inputs.selectedOptions].map((o) => o.value),
      outputs: form.elements.outputs.value.split(",").map((s) => s.trim()).filter(Boolean),
      params: { type, ...params },
    };
    try {
      await api("PUT", `/api/projects/${form.dataset.project}/recipes/${encodeURIComponent(name)}`, body);
      location.href = `/projects/${form.dataset.project}/recipes/${encodeURIComponent(name)}`;
    } catch (err) {
      flash(err.message);
    }
  });
}
