// Engine pickers: the project's (Flow side panel), a recipe's (recipe editors) and a Lab
// task's (Design tab). What the chosen engine cannot run is greyed out with the reason,
// read from the engines' declared capability tables (GET /api/projects/KEY/engines).

import { $, api, clearFlash, escapeHtml, flash, projectKey } from "./core.js";

// Why `table` (one engine's capabilities) cannot run `recipe`, as the server says it:
// recipe type, enabled prepare steps, group aggregations, external input formats.
export function recipeProblems(table, recipe, externalInputs = {}) {
  const lookup = (kind, name) => table[kind][name] || { supported: false, note: `not verified on the ${table.engine} engine` };
  const found = [];
  const kind = lookup("recipes", recipe.type);
  if (!kind.supported) found.push(`${recipe.type} recipes: ${kind.note}`);
  const params = recipe.params || {};
  if (recipe.type === "prepare") {
    (params.steps || []).forEach((step, i) => {
      const cap = lookup("processors", step.type);
      if (step.enabled !== false && !cap.supported) found.push(`step ${i + 1} (${step.type}): ${cap.note}`);
    });
  }
  if (recipe.type === "group") {
    for (const column of params.aggregations || []) {
      for (const agg of column.aggregations || []) {
        const cap = lookup("aggregations", agg);
        if (!cap.supported) found.push(`${agg} of ${column.column}: ${cap.note}`);
      }
    }
  }
  for (const [name, format] of Object.entries(externalInputs)) {
    const cap = lookup("input_formats", format);
    if (!cap.supported) found.push(`input ${name} (${format} file): ${cap.note}`);
  }
  return found;
}

// Grey out (or back in) one control for a capability; the reason is its tooltip and,
// when the control has a [data-engine-note] beside it, a visible note.
export function greyOut(control, cap) {
  const off = !cap.supported;
  control.disabled = off;
  control.title = off ? cap.note : "";
  control.closest("li, label, fieldset")?.classList.toggle("unsupported", off);
  const note = control.parentElement.querySelector("[data-engine-note]");
  if (note) {
    note.textContent = off ? cap.note : "";
    note.hidden = !off;
  }
}

export function showProblems(list, problems, engine) {
  list.innerHTML = problems.map((p) => `<li class="warning">On ${escapeHtml(engine)}: ${escapeHtml(p)}</li>`).join("");
}

export function initProjectEngine() {
  const select = $("[data-project-engine]");
  if (!select) return;
  let before = select.value;
  select.addEventListener("change", async () => {
    try {
      const answer = await api("PUT", `/api/projects/${projectKey()}/engine`, { engine: select.value });
      before = select.value;
      const refused = answer.recipes.filter((r) => r.problems.length);
      $("[data-engine-problems]").innerHTML = refused.map((r) =>
        `<li class="warning">${escapeHtml(r.name)} cannot run on ${escapeHtml(r.runs_on)}: ${escapeHtml(r.problems.join("; "))}</li>`).join("");
      flash(`Recipes now run on ${answer.engine} unless they name their own engine.`, "ok");
    } catch (err) {
      select.value = before;
      flash(err.message);
    }
  });
}

// The Lab Design tab: the task's engine; the page is drawn again with what it greys out.
export function initTaskEngine() {
  const select = $("[data-task-engine]");
  if (!select) return;
  const before = select.value;
  select.addEventListener("change", async () => {
    clearFlash();
    try {
      await api("PUT", select.dataset.url, { engine: select.value || null });
      location.reload();
    } catch (err) {
      select.value = before;
      flash(err.message);
    }
  });
}

