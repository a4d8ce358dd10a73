// What every page script shares: DOM shortcuts, the JSON API client, messages.

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
export const POLL_MS = 700;

export async function api(method, url, body) {
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

// A message at the top of the page; `kind` is "error" or "ok". `html` is trusted markup
// built by our own code (links to what was just made), never text from a response.
export function flash(message, kind = "error", html = false) {
  const box = $("#flash");
  if (html) box.innerHTML = message;
  else box.textContent = message;
  box.className = `flash ${kind}`;
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
}

export function clearFlash() {
  $("#flash").hidden = true;
}

export function fill(template, data) {
  return template.replace(/\{(\w+)\}/g, (_, k) => encodeURIComponent(data[k] ?? ""));
}

// Disable a button and change its label while `work` runs: no double submissions.
export async function busy(button, label, work) {
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

export function escapeHtml(text) {
  const div = document.createElement("div");
  div.textContent = text;
  return div.innerHTML;
}

export function formJson(form) {
  const data = {};
  for (const [key, value] of new FormData(form)) {
    if (value instanceof File) continue;
    if (value !== "") data[key] = value;
  }
  return data;
}

export function showSaved(root) {
  const mark = $(".saved", root);
  if (!mark) return;
  mark.hidden = false;
  setTimeout(() => { mark.hidden = true; }, 1500);
}

export function projectKey() {
  return document.body.dataset.project;
}
