// Plotly charts fetched from the JSON API: report panels, dataset charts, the elbow.
// Plotly is the global from /vendor/plotly.min.js, loaded only by pages with charts.

import { $, $$, api, busy, escapeHtml, flash, formJson } from "./core.js";

export async function plot(target, url, key) {
  target.innerHTML = '<p class="muted loading">Loading…</p>';
  try {
    const data = await api("GET", url);
    const figure = key ? data[key] : data;
    target.innerHTML = "";
    await Plotly.newPlot(target, figure.data, figure.layout, { responsive: true, displaylogo: false });
    target.dataset.drawn = "true";
    return data;
  } catch (err) {
    target.innerHTML = `<p class="empty">${escapeHtml(target.dataset.empty && /needs/.test(err.message) ? target.dataset.empty : err.message)}</p>`;
    return null;
  }
}

function picker(form, target, url) {
  if (!form) return;
  const draw = () => plot(target, url(form));
  form.addEventListener("change", draw);
  draw();
}

function initHeatmap() {
  const heat = $("form[data-heatmap]");
  if (!heat) return;
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

export function initCharts() {
  for (const el of $$("[data-plot-src]")) plot(el, el.dataset.plotSrc, el.dataset.figureKey);
  const chartForm = $("form[data-chart]");
  if (chartForm) {
    chartForm.addEventListener("submit", (event) => {
      event.preventDefault();
      plot($("#chart"), `${chartForm.dataset.chart}?${new URLSearchParams(formJson(chartForm))}`);
    });
  }
  const profile = $("form[data-profile]");
  picker(profile, $("#profile"), (f) => profile.dataset.profile + encodeURIComponent(formJson(f).feature));
  const scatter = $("form[data-scatter]");
  picker(scatter, $("#scatter"), (f) => {
    const params = { x: f.elements.x.value, y: f.elements.y.value };
    // An unticked box is absent from the form data, but the API shows outliers by default.
    if (f.elements.outliers) params.outliers = String(f.elements.outliers.checked);
    return `${scatter.dataset.scatter}?${new URLSearchParams(params)}`;
  });
  initHeatmap();
  initHierarchy();
}

function initHierarchy() {
  const form = $("form[data-cluster-node]");
  const target = $("#hierarchy");
  if (!form || !target) return;
  // Node markers carry their node id in customdata: a click picks the node.
  const pick = () => {
    if (!target.on) return setTimeout(pick, 200);
    target.on("plotly_click", (event) => {
      const id = event.points[0].customdata;
      if (id !== undefined && id !== null) form.elements.node.value = Array.isArray(id) ? id[0] : id;
    });
  };
  pick();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button");
    try {
      await busy(button, "Re-scoring…", () =>
        api("POST", form.dataset.clusterNode, { node: Number(form.elements.node.value) }),
      );
      window.location.reload();
    } catch (err) {
      flash(err.message);
    }
  });
}
