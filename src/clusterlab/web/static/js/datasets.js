// Dataset pages: Explore (rows paged, sorted, filtered) and the Schema's meanings.

import { $, $$, api, clearFlash, escapeHtml, flash, formJson, showSaved } from "./core.js";

export function initExplore() {
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

export function initSchema() {
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
