// Lab pages: the Design tab saved as you edit it, stars on models, new tasks.

import { $, $$, api, clearFlash, flash, projectKey } from "./core.js";
import { newTask } from "./flow.js";

function parseValue(kind, raw) {
  const list = (text) => text.split(",").map((s) => s.trim()).filter(Boolean);
  switch (kind) {
    case "bool": return raw;
    case "int": return raw === "" ? null : Number.isInteger(Number(raw)) ? Number(raw) : raw;
    case "float": return raw === "" ? null : Number.isNaN(Number(raw)) ? raw : Number(raw);
    case "intlist": case "floatlist": return list(raw).map((v) => (Number.isNaN(Number(v)) ? v : Number(v)));
    case "strlist": return list(raw);
    default: return raw === "" ? null : (raw !== "auto" && !Number.isNaN(Number(raw)) && /^[\d.eE+-]+$/.test(raw)) ? Number(raw) : raw;
  }
}

function setPath(target, path, value) {
  const keys = path.split(".");
  let obj = target;
  for (const k of keys.slice(0, -1)) obj = obj[k];
  obj[keys.at(-1)] = value;
}

export function initDesign() {
  const box = $("#design");
  if (!box) return;
  let design = JSON.parse($("#design-json").textContent);
  const status = $("[data-design-state]");
  box.addEventListener("change", async (event) => {
    const input = event.target.closest("[data-path]");
    if (!input) return;
    const value = input.type === "checkbox" ? input.checked : input.value;
    const before = JSON.stringify(design);
    setPath(design, input.dataset.path, parseValue(input.dataset.kind, value));
    status.textContent = "Saving…";
    try {
      const task = await api("PUT", box.dataset.url, design);
      design = task.design;
      status.textContent = "Saved.";
      clearFlash();
      // Role and type change which fields apply: show the new ones.
      if (/\.(role|type)$/.test(input.dataset.path)) location.reload();
    } catch (err) {
      design = JSON.parse(before);
      status.textContent = "Not saved.";
      flash(err.message);
    }
  });
}

export function initStars() {
  const stars = new Set(JSON.parse(localStorage.getItem("clusterlab.stars") || "[]"));
  for (const b of $$("[data-star]")) {
    const paint = () => {
      b.textContent = stars.has(b.dataset.star) ? "★" : "☆";
      b.classList.toggle("on", stars.has(b.dataset.star));
    };
    paint();
    b.addEventListener("click", () => {
      if (stars.has(b.dataset.star)) stars.delete(b.dataset.star);
      else stars.add(b.dataset.star);
      localStorage.setItem("clusterlab.stars", JSON.stringify([...stars]));
      paint();
    });
  }
  for (const b of $$("[data-new-task]")) {
    b.addEventListener("click", () =>
      newTask(projectKey(), b.dataset.newTask, b.dataset.preset, b).catch((e) => flash(e.message)));
  }
}
