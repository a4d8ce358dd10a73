// The model report's Summary (rename, color, description), the Deploy dialog, and the
// saved model page (activate a version, roll back, retrain).

import { $, $$, api, busy, clearFlash, escapeHtml, flash, formJson, projectKey, showSaved } from "./core.js";
import { build } from "./jobs.js";

function initClusterCard(card) {
  const nameEl = $("[data-name]", card);
  const save = async (change) => {
    try {
      const saved = await api("PUT", card.dataset.url, change);
      nameEl.textContent = saved.name;
      $("[data-gauge]", card).style.background = saved.color;
      showSaved(card);
      clearFlash();
      return saved;
    } catch (err) {
      flash(err.message);
      return null;
    }
  };
  $("[data-rename]", card).addEventListener("click", () => {
    const input = document.createElement("input");
    input.value = nameEl.textContent;
    input.className = "rename";
    input.setAttribute("aria-label", "Cluster name");
    nameEl.replaceWith(input);
    input.focus();
    input.select();
    let finished = false;
    const done = async (keep) => {
      // Replacing the input blurs it, which would call done a second time.
      if (finished) return;
      finished = true;
      input.replaceWith(nameEl);
      const name = input.value.trim();
      if (keep && name && name !== nameEl.textContent) await save({ name });
    };
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter") done(true);
      if (e.key === "Escape") done(false);
    });
    input.addEventListener("blur", () => done(true));
  });
  const use = $("[data-use-name]", card);
  if (use) use.addEventListener("click", () => save({ name: use.dataset.useName }));
  const color = $("[data-color]", card);
  color.addEventListener("change", () => save({ color: color.value }));
  const text = $("[data-description]", card);
  let timer;
  text.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => save({ description: text.value }), 600);
  });
}

function initDeploy() {
  const form = $("#deploy-form");
  if (!form) return;
  const dialog = form.closest("dialog");
  const result = $("[data-deploy-result]", form);
  const showMode = () => {
    const mode = form.elements.mode.value;
    for (const box of $$("[data-mode]", form)) box.hidden = box.dataset.mode !== mode;
  };
  for (const radio of form.elements.mode) radio.addEventListener("change", showMode);
  $("[data-close-dialog]", form).addEventListener("click", () => dialog.close());
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = formJson(form);
    const update = f.mode === "update";
    const body = update
      ? { saved_model: f.existing, update: true }
      : { saved_model: (f.saved_model || "").trim(), name: f.name || null, update: false };
    result.hidden = true;
    try {
      const saved = await busy($("button[type=submit]", form), "Deploying…", () =>
        api("POST", form.dataset.deploy, body));
      const project = projectKey();
      const href = `/projects/${project}/saved-models/${encodeURIComponent(saved.id)}`;
      result.className = "ok";
      result.innerHTML = `${update ? "Activated" : "Deployed"}: <a href="${href}">${escapeHtml(saved.name)}</a>, version ${escapeHtml(saved.active)} is active. <a href="/projects/${project}/flow">Go to the Flow</a> to apply it to a dataset.`;
    } catch (err) {
      result.className = "error";
      result.textContent = err.message;
    }
    result.hidden = false;
  });
}

function initSavedModel() {
  const box = $("#saved-model");
  if (!box) return;
  const url = box.dataset.api;
  const act = async (button, label, work) => {
    clearFlash();
    try {
      await busy(button, label, work);
      location.reload();
    } catch (err) {
      flash(err.message);
    }
  };
  for (const b of $$("[data-activate]")) {
    b.addEventListener("click", () => act(b, "Activating…", () =>
      api("POST", `${url}/activate`, { version: b.dataset.activate })));
  }
  const rollback = $("[data-rollback]");
  if (rollback) rollback.addEventListener("click", () => act(rollback, "Rolling back…", () => api("POST", `${url}/rollback`)));
  const retrain = $("[data-retrain]", box);
  if (retrain) {
    retrain.addEventListener("click", async () => {
      clearFlash();
      try {
        await build(retrain, [retrain.dataset.retrain], { force: true, upstream: false }, () => location.reload());
      } catch (err) {
        flash(err.message);
      }
    });
  }
}

export function initModels() {
  for (const card of $$(".cluster[data-url]")) initClusterCard(card);
  for (const b of $$("[data-open-dialog]")) {
    b.addEventListener("click", () => document.getElementById(b.dataset.openDialog).showModal());
  }
  initDeploy();
  initSavedModel();
}
