// ClusterLab's page script: forms that call the JSON API, job polling, charts, editors.
// Plain ES module, no build step. Plotly is the global from /vendor/plotly.min.js,
// included only by pages that draw charts.

const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const POLL_MS = 700;

// ---------------------------------------------------------------- API and messages

async function api(method, url, body) {
  const init = { method, headers: {} };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new Error("ClusterLab did not answer: check that `clusterlab serve` is still running.");
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Error((data && data.error) || `The request failed (${response.status}).`);
  return data;
}

function flash(message, kind = "error") {
  const box = $("#flash");
  box.textContent = message;
  box.className = `flash ${kind}`;
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
}

function clearFlash() {
  $("#flash").hidden = true;
}

function fill(template, data) {
  return template.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(data[k] ?? ""));
}

async function busy(button, label, work) {
  const before = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.textContent = before;
  }
}

// ---------------------------------------------------------------- forms

function formJson(form) {
  const data = {};
  for (const [key, value] of new FormData(form)) {
    if (value instanceof File) continue;
    if (value !== "") data[key] = value;
  }
  return data;
}

function upload(url, formData, bar) {
  // XMLHttpRequest, because fetch does not report upload progress.
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", url);
    if (bar) {
      bar.hidden = false;
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) bar.value = e.loaded / e.total; };
    }
    xhr.onload = () => {
      const data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      if (xhr.status < 300) resolve(data);
      else reject(new Error((data && data.error) || `The upload failed (${xhr.status}).`));
    };
    xhr.onerror = () => reject(new Error("The upload was interrupted: try again."));
    xhr.send(formData);
  });
}

function initApiForms() {
  for (const form of $$("form[data-api]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearFlash();
      const button = $("button[type=submit]", form);
      try {
        const data = await busy(button, form.dataset.busy || "Working…", () =>
          "upload" in form.dataset
            ? upload(form.dataset.api, new FormData(form), $("progress.upload", form))
            : api(form.dataset.method || "POST", form.dataset.api, formJson(form)));
        if (form.dataset.redirect) location.href = fill(form.dataset.redirect, data || {});
        else location.reload();
      } catch (err) {
        flash(err.message);
      }
    });
  }
  // The dataset name defaults to the uploaded file's name.
  for (const input of $$("input[data-from-file]")) {
    const file = $("input[type=file]", input.form);
    file.addEventListener("change", () => {
      if (!input.value && file.files[0]) {
        input.value = file.files[0].name.split(".")[0].replace(/[^A-Za-z0-9_-]+/g, "_");
      }
    });
  }
  for (const select of $$("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
}

// ---------------------------------------------------------------- jobs

async function followJob(job, box, onDone) {
  box.hidden = false;
  const link = $(".job-link", box);
  const project = document.body.dataset.project;
  if (link && project) {
    link.href = `/projects/${project}/jobs/${job.id}`;
    link.hidden = false;
  }
  for (;;) {
    $("progress", box).value = job.progress;
    $(".job-text", box).textContent = `${job.status}: ${job.progress_text || ""}`;
    if (job.finished) break;
    await new Promise((r) => setTimeout(r, POLL_MS));
    job = await api("GET", `/api/jobs/${job.id}`);
  }
  if (job.status === "succeeded") onDone(job);
  else flash(job.error || `The job ended: ${job.status}.`);
}

function startJob(button, url, body, after) {
  button.addEventListener("click", async () => {
    clearFlash();
    try {
      const job = await busy(button, "Starting…", () => api("POST", url, body()));
      await followJob(job, $("#job-progress"), after);
    } catch (err) {
      flash(err.message);
    }
  });
}

function initJobs() {
  const project = document.body.dataset.project;
  for (const b of $$("[data-build-all]")) {
    startJob(b, `/api/projects/${project}/build`, () => ({ datasets: null, force: "force" in b.dataset }),
      () => location.reload());
  }
  for (const b of $$("[data-build]")) {
    startJob(b, `/api/projects/${project}/build`, () => ({ datasets: [b.dataset.build] }), () => location.reload());
  }
  for (const b of $$("[data-train]")) {
    startJob(b, b.dataset.train, () => undefined, () => { location.href = b.dataset.done; });
  }
  for (const b of $$("[data-cancel]")) {
    b.addEventListener("click", async () => {
      try {
        await busy(b, "Cancelling…", () => api("POST", b.dataset.cancel));
        if (!$("#job")) location.reload();
      } catch (err) {
        flash(err.message);
      }
    });
  }
  const page = $("#job");
  if (page && page.dataset.finished === "false") followLog(page);
}

async function followLog(page) {
  let after = Number(page.dataset.after);
  for (;;) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    let data;
    try {
      data = await api("GET", `/api/jobs/${page.dataset.job}/log?after=${after}`);
    } catch (err) {
      flash(err.message);
      return;
    }
    const log = $("[data-log]", page);
    for (const line of data.lines) {
      const span = document.createElement("span");
      span.className = `level-${line.level}`;
      span.textContent = `${line.at.slice(11, 19)} ${line.message}\n`;
      log.append(span);
      after = line.seq;
    }
    const job = data.job;
    $("[data-status]", page).textContent = job.status;
    $("[data-status]", page).className = `badge ${job.status}`;
    $("[data-progress]", page).value = job.progress;
    $("[data-progress-text]", page).textContent = job.progress_text || "";
    if (job.finished) {
      if (job.error) {
        $("[data-error]", page).textContent = job.error;
        $("[data-error]", page).hidden = false;
      }
      for (const b of $$("[data-cancel]")) b.hidden = true;
      return;
    }
  }
}

// ---------------------------------------------------------------- the Flow

function initFlow() {
  const canvas = $("#flow-canvas");
  if (!canvas) return;
  const project = document.body.dataset.project;
  const selected = new Map();
  const panel = $("[data-panel-selection]");

  const render = () => {
    $("[data-panel-empty]").hidden = selected.size > 0;
    panel.hidden = selected.size === 0;
    const items = [...selected.values()];
    const datasets = items.filter((n) => n.dataset.kind === "dataset");
    const models = items.filter((n) => n.dataset.kind === "saved_model");
    const parts = [`<h2>${items.length === 1 ? "Selected" : `${items.length} selected`}</h2>`];
    for (const node of items) {
      const name = node.dataset.name;
      parts.push(`<h3>${node.dataset.kind.replace("_", " ")}: ${escapeHtml(name)}</h3><div class="panel-actions">`);
      parts.push(`<a class="button" href="${node.getAttribute("href")}">Open</a>`);
      if (node.dataset.kind === "dataset") {
        parts.push(`<button type="button" data-lab="${escapeHtml(name)}" data-preset="kmeans">Lab → AutoML Clustering (K-Means)</button>`);
        parts.push(`<button type="button" data-lab="${escapeHtml(name)}" data-preset="anomaly">Lab → Anomaly detection</button>`);
        parts.push(`<button type="button" data-build-one="${escapeHtml(name)}">Build</button>`);
      } else if (node.dataset.kind === "recipe") {
        parts.push(`<button type="button" data-run-recipe="${escapeHtml(name)}">Run</button>`);
      } else {
        parts.push(`<button type="button" disabled title="Deploy comes with saved models">Retrain</button>`);
      }
      parts.push("</div>");
    }
    if (datasets.length && models.length) {
      parts.push(`<p><button type="button" disabled>Apply</button> <span class="muted">Apply comes with saved models.</span></p>`);
    } else if (datasets.length === 1) {
      parts.push(`<p class="muted small">Apply a model: select this dataset and a saved model (Deploy comes with saved models).</p>`);
    }
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
    const b = event.target.closest("button");
    if (!b) return;
    clearFlash();
    try {
      if (b.dataset.lab) await newTask(project, b.dataset.lab, b.dataset.preset, b);
      const target = b.dataset.buildOne
        || (b.dataset.runRecipe && (await api("GET", `/api/projects/${project}/recipes/${b.dataset.runRecipe}`)).outputs[0]);
      if (target) {
        const job = await busy(b, "Starting…", () =>
          api("POST", `/api/projects/${project}/build`, { datasets: [target], upstream: !b.dataset.runRecipe }));
        await followJob(job, $("#job-progress"), () => location.reload());
      }
    } catch (err) {
      flash(err.message);
    }
  });
}

async function newTask(project, dataset, preset, button) {
  const task = await busy(button, "Creating…", () =>
    api("POST", `/api/projects/${project}/tasks`, { dataset, preset }));
  location.href = `/projects/${project}/lab/${task.id}`;
}

function escapeHtml(text) {
  const div = document.createElement("div");
  div.textContent = text;
  return div.innerHTML;
}

// ---------------------------------------------------------------- dataset explore

function initExplore() {
  const box = $("#explore");
  if (!box) return;
  const state = { offset: 0, limit: Number(box.dataset.limit), sort: null, descending: false, filters: [] };
  const load = async () => {
    const params = new URLSearchParams({ offset: state.offset, limit: state.limit });
    if (state.sort) params.set("sort", state.sort);
    if (state.descending) params.set("descending", "true");
    if (state.filters.length) params.set("filters", JSON.stringify(state.filters));
    const tbody = $("tbody", box);
    tbody.classList.add("loading");
    try {
      const data = await api("GET", `${box.dataset.rowsUrl}?${params}`);
      tbody.innerHTML = data.rows.map((row) => `<tr>${row.map((v) =>
        v === null ? '<td><span class="null"></span></td>' : `<td>${escapeHtml(String(v))}</td>`).join("")}</tr>`).join("")
        || `<tr><td colspan="99" class="empty">No row matches these filters: change or clear them.</td></tr>`;
      $("[data-count]", box).textContent = `${data.total.toLocaleString()} rows${state.filters.length ? " match" : ""}`;
      const last = Math.min(state.offset + state.limit, data.total);
      $("[data-page-info]", box).textContent = data.total ? `${state.offset + 1}–${last}` : "0";
      state.total = data.total;
      clearFlash();
    } catch (err) {
      flash(err.message);
    } finally {
      tbody.classList.remove("loading");
    }
  };
  for (const th of $$("th[data-column]", box)) {
    th.addEventListener("click", () => {
      const column = th.dataset.column;
      state.descending = state.sort === column ? !state.descending : false;
      state.sort = column;
      state.offset = 0;
      for (const other of $$(".sort-mark", box)) other.textContent = "";
      $(".sort-mark", th).textContent = state.descending ? "▼" : "▲";
      load();
    });
  }
  for (const b of $$("[data-page]", box)) {
    b.addEventListener("click", () => {
      const next = state.offset + Number(b.dataset.page) * state.limit;
      if (next < 0 || next >= (state.total ?? Number(box.dataset.total))) return;
      state.offset = next;
      load();
    });
  }
  $("form[data-filter]", box).addEventListener("submit", (event) => {
    event.preventDefault();
    const f = formJson(event.target);
    state.filters.push({ column: f.column, op: f.op, value: f.value ?? null });
    state.offset = 0;
    load();
  });
  $("[data-clear-filters]", box).addEventListener("click", () => {
    state.filters = [];
    state.offset = 0;
    load();
  });
}

function initSchema() {
  for (const select of $$("select[data-meaning]")) {
    select.addEventListener("change", async () => {
      try {
        await api("PUT", select.dataset.url, { meaning: select.value });
        showSaved(select.parentElement);
      } catch (err) {
        flash(err.message);
      }
    });
  }
}

function showSaved(root) {
  const mark = $(".saved", root);
  if (!mark) return;
  mark.hidden = false;
  setTimeout(() => { mark.hidden = true; }, 1500);
}

// ---------------------------------------------------------------- charts

async function plot(target, url, key) {
  target.innerHTML = '<p class="muted loading">Loading…</p>';
  try {
    const data = await api("GET", url);
    const figure = key ? data[key] : data;
    target.innerHTML = "";
    await Plotly.newPlot(target, figure.data, figure.layout, { responsive: true, displaylogo: false });
    return data;
  } catch (err) {
    target.innerHTML = `<p class="empty">${escapeHtml(target.dataset.empty && /needs/.test(err.message) ? target.dataset.empty : err.message)}</p>`;
    return null;
  }
}

function initCharts() {
  for (const el of $$("[data-plot-src]")) plot(el, el.dataset.plotSrc, el.dataset.figureKey);
  const chartForm = $("form[data-chart]");
  if (chartForm) {
    chartForm.addEventListener("submit", (event) => {
      event.preventDefault();
      plot($("#chart"), `${chartForm.dataset.chart}?${new URLSearchParams(formJson(chartForm))}`);
    });
  }
  const picker = (form, target, url) => {
    if (!form) return;
    const draw = () => plot(target, url(formJson(form)));
    form.addEventListener("change", draw);
    draw();
  };
  const profile = $("form[data-profile]");
  picker(profile, $("#profile"), (f) => profile.dataset.profile + encodeURIComponent(f.feature));
  const scatter = $("form[data-scatter]");
  picker(scatter, $("#scatter"), (f) => `${scatter.dataset.scatter}?${new URLSearchParams(f)}`);
  const heat = $("form[data-heatmap]");
  if (heat) {
    const target = $("#heatmap");
    const draw = async () => {
      const data = await plot(target, `${heat.dataset.heatmap}?${new URLSearchParams(formJson(heat))}`, "figure");
      if (!data) return;
      target.on("plotly_click", (event) => {
        const cluster = event.points[0].x;
        heat.elements.sort_cluster.value = [...heat.elements.sort_cluster.options].find((o) => o.text === cluster)?.value || "";
        heat.elements.sort_feature.value = "";
        draw();
      });
    };
    heat.addEventListener("change", (event) => {
      // Sorting by a cluster and by a feature are alternatives: the last choice wins.
      if (event.target.name === "sort_cluster") heat.elements.sort_feature.value = "";
      if (event.target.name === "sort_feature") heat.elements.sort_cluster.value = "";
      draw();
    });
    draw();
  }
}

// ---------------------------------------------------------------- Lab design and results

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

function initDesign() {
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

function initStars() {
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
      newTask(document.body.dataset.project, b.dataset.newTask, b.dataset.preset, b).catch((e) => flash(e.message)));
  }
}

// ---------------------------------------------------------------- model report: summary

function initClusters() {
  for (const card of $$(".cluster[data-url]")) {
    const nameEl = $("[data-name]", card);
    const save = async (name, description) => {
      try {
        const saved = await api("PUT", card.dataset.url, { name, description });
        nameEl.textContent = saved.name;
        showSaved(card);
        clearFlash();
      } catch (err) {
        flash(err.message);
      }
    };
    $("[data-rename]", card).addEventListener("click", () => {
      const input = document.createElement("input");
      input.value = nameEl.textContent;
      input.className = "rename";
      nameEl.replaceWith(input);
      input.focus();
      input.select();
      const done = async (keep) => {
        input.replaceWith(nameEl);
        if (keep && input.value.trim() && input.value !== nameEl.textContent) await save(input.value.trim(), null);
      };
      input.addEventListener("keydown", (e) => {
        if (e.key === "Enter") done(true);
        if (e.key === "Escape") done(false);
      });
      input.addEventListener("blur", () => { if (input.isConnected) done(true); });
    });
    const use = $("[data-use-name]", card);
    if (use) use.addEventListener("click", () => save(use.dataset.useName, null));
    const text = $("[data-description]", card);
    let timer;
    text.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => save(nameEl.textContent, text.value), 600);
    });
  }
  for (const b of $$("[data-open-dialog]")) {
    b.addEventListener("click", () => document.getElementById(b.dataset.openDialog).showModal());
  }
}

// ---------------------------------------------------------------- recipe editors

function previewTable(outputs) {
  return Object.entries(outputs).map(([name, t]) => `<h3>${escapeHtml(name)}</h3><table class="grid"><thead><tr>${
    t.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("")}</tr></thead><tbody>${
    t.rows.map((r) => `<tr>${r.map((v) => `<td>${v === null ? '<span class="null"></span>' : escapeHtml(String(v))}</td>`).join("")}</tr>`).join("")
  }</tbody></table>`).join("");
}

function initRecipe() {
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
      const job = await busy(e.target, "Starting…", () =>
        api("POST", `/api/projects/${project}/build`, { datasets: recipe.outputs, upstream: false, force: true }));
      await followJob(job, $("#job-progress"), () => flash("Run finished: the outputs are built.", "ok"));
    } catch (err) {
      flash(err.message);
    }
  });
  if (recipe.type !== "prepare") {
    $("[data-preview]").addEventListener("click", preview);
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
  const changed = () => { draw(); preview(); };
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

function initNewRecipe() {
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

// ---------------------------------------------------------------- keyboard

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
initExplore();
initSchema();
initCharts();
initDesign();
initStars();
initClusters();
initRecipe();
initNewRecipe();
initShortcuts();
