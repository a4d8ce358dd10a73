// The Flow page: select items, the side panel of actions (Open, Build, Run, Lab,
// Retrain, Apply), and the Flow redrawn after something was added to it.

import { $, api, busy, clearFlash, escapeHtml, flash, projectKey } from "./core.js";
import { build } from "./jobs.js";

export async function newTask(project, dataset, preset, button) {
  const task = await busy(button, "Creating…", () =>
    api("POST", `/api/projects/${project}/tasks`, { dataset, preset }));
  location.href = `/projects/${project}/lab/${task.id}`;
}

function nodeActions(node) {
  const name = escapeHtml(node.dataset.name);
  const kind = node.dataset.kind;
  const title = escapeHtml(node.querySelector("title")?.textContent || `${kind} ${node.dataset.name}`);
  const parts = [`<h3>${title}</h3><div class="panel-actions">`];
  parts.push(`<a class="button" href="${node.getAttribute("href")}">Open</a>`);
  if (kind === "dataset") {
    parts.push(`<button type="button" data-lab="${name}" data-preset="kmeans">Lab → AutoML Clustering (K-Means)</button>`);
    parts.push(`<button type="button" data-lab="${name}" data-preset="anomaly">Lab → Anomaly detection</button>`);
    parts.push(`<button type="button" data-build-one="${name}">Build</button>`);
  } else if (kind === "recipe") {
    parts.push(`<button type="button" data-run-recipe="${name}">Run</button>`);
  } else {
    parts.push(`<button type="button" data-retrain="${name}" title="Run its train recipe: a new version, names kept by matching">Retrain</button>`);
  }
  parts.push("</div>");
  return parts.join("");
}

function applyForm(dataset, model) {
  const d = escapeHtml(dataset);
  const m = escapeHtml(model);
  return `<form class="apply-form" data-apply-dataset="${d}" data-apply-model="${m}">
    <h3>Apply ${m} to ${d}</h3>
    <p class="muted small">An Apply recipe writes the rows of ${d} with their cluster name in <code>cluster_labels</code>.</p>
    <label>Output dataset <input name="output" required value="${d}_scored" pattern="[A-Za-z0-9][A-Za-z0-9_-]*"></label>
    <button type="submit" class="primary">Create the Apply recipe</button>
    <div data-apply-done hidden></div>
  </form>`;
}

export function initFlow() {
  const canvas = $("#flow-canvas");
  if (!canvas) return;
  const project = projectKey();
  const selected = new Map();
  const panel = $("[data-panel-selection]");

  const render = () => {
    $("[data-panel-empty]").hidden = selected.size > 0;
    panel.hidden = selected.size === 0;
    const items = [...selected.values()];
    const datasets = items.filter((n) => n.dataset.kind === "dataset");
    const models = items.filter((n) => n.dataset.kind === "saved_model");
    const parts = [`<h2>${items.length === 1 ? "Selected" : `${items.length} selected`}</h2>`];
    if (datasets.length === 1 && models.length === 1) {
      parts.push(applyForm(datasets[0].dataset.name, models[0].dataset.name));
    } else if (datasets.length && models.length) {
      parts.push(`<p class="muted small">To apply a saved model, select one dataset and one saved model.</p>`);
    } else if (datasets.length === 1 && $("svg.flow .node-saved_model")) {
      parts.push(`<p class="muted small">Apply a model: shift-click a saved model (green diamond) to select it too.</p>`);
    }
    for (const node of items) parts.push(nodeActions(node));
    panel.innerHTML = parts.join("");
  };

  canvas.addEventListener("click", (event) => {
    const node = event.target.closest(".node");
    if (!node) return;
    event.preventDefault();
    if (!event.shiftKey) {
      for (const other of selected.values()) other.classList.remove("selected");
      selected.clear();
    }
    const key = `${node.dataset.kind}:${node.dataset.name}`;
    if (selected.has(key)) {
      selected.delete(key);
      node.classList.remove("selected");
    } else {
      selected.set(key, node);
      node.classList.add("selected");
    }
    render();
  });
  canvas.addEventListener("dblclick", (event) => {
    const node = event.target.closest(".node");
    if (node) location.href = node.getAttribute("href");
  });
  canvas.addEventListener("keydown", (event) => {
    const node = event.target.closest(".node");
    if (node && event.key === "Enter") location.href = node.getAttribute("href");
  });
  panel.addEventListener("click", async (event) => {
    const b = event.target.closest("button:not([type=submit])");
    if (!b) return;
    clearFlash();
    try {
      if (b.dataset.lab) await newTask(project, b.dataset.lab, b.dataset.preset, b);
      else if (b.dataset.buildOne) await build(b, [b.dataset.buildOne], {}, () => location.reload());
      else if (b.dataset.retrain) {
        await build(b, [b.dataset.retrain], { force: true, upstream: false }, () => location.reload());
      } else if (b.dataset.runRecipe) {
        const recipe = await api("GET", `/api/projects/${project}/recipes/${encodeURIComponent(b.dataset.runRecipe)}`);
        await build(b, recipe.outputs, { upstream: false }, () => location.reload());
      } else if (b.dataset.buildApplied) {
        const output = b.dataset.buildApplied;
        await build(b, [output], {}, () => {
          const href = `/projects/${project}/datasets/${encodeURIComponent(output)}`;
          flash(`Apply finished: <a href="${href}">open ${escapeHtml(output)}</a> to see its cluster_labels.`, "ok", true);
          redraw(canvas, selected);
        });
      }
    } catch (err) {
      flash(err.message);
    }
  });
  panel.addEventListener("submit", async (event) => {
    const form = event.target.closest("form.apply-form");
    if (!form) return;
    event.preventDefault();
    clearFlash();
    const output = form.elements.output.value.trim();
    const model = form.dataset.applyModel;
    try {
      const recipe = await busy($("button[type=submit]", form), "Creating…", () =>
        api("POST", `/api/projects/${project}/saved-models/${encodeURIComponent(model)}/apply`,
          { dataset: form.dataset.applyDataset, output }));
      const done = $("[data-apply-done]", form);
      done.innerHTML = `<p class="ok">Recipe <a href="/projects/${project}/recipes/${encodeURIComponent(recipe.name)}">${escapeHtml(recipe.name)}</a> created.</p>
        <button type="button" class="primary" data-build-applied="${escapeHtml(output)}">Build ${escapeHtml(output)} now</button>`;
      done.hidden = false;
      $("button[type=submit]", form).hidden = true;
      await redraw(canvas, selected);
    } catch (err) {
      flash(err.message);
    }
  });
}

// Draw the Flow again (a recipe or dataset was added): the SVG comes from the server.
async function redraw(canvas, selected) {
  const response = await fetch(`/api/projects/${projectKey()}/flow.svg`);
  if (!response.ok) return;
  const old = $("svg.flow", canvas);
  const holder = document.createElement("div");
  holder.innerHTML = await response.text();
  const svg = $("svg", holder);
  if (old && svg) old.replaceWith(svg);
  for (const [key, node] of selected) {
    const [kind, ...rest] = key.split(":");
    const fresh = [...canvas.querySelectorAll(".node")].find(
      (n) => n.dataset.kind === kind && n.dataset.name === rest.join(":"));
    if (fresh) {
      fresh.classList.add("selected");
      selected.set(key, fresh);
    } else {
      selected.delete(key);
      node.classList.remove("selected");
    }
  }
}
