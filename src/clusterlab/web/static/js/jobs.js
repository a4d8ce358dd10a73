// Forms posting to the JSON API, and jobs (builds, trainings) followed until they end.

import { $, $$, POLL_MS, api, busy, clearFlash, fill, flash, formJson, projectKey } from "./core.js";

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

export function initApiForms() {
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

// Show a job's progress in `box` until it ends; `onDone(job)` runs if it succeeded.
export async function followJob(job, box, onDone) {
  box.hidden = false;
  const link = $(".job-link", box);
  const project = projectKey();
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

// Build `datasets` (dataset or saved model names; null for all) and follow the job.
export async function build(button, datasets, options, after) {
  const body = { datasets, ...options };
  const job = await busy(button, "Starting…", () => api("POST", `/api/projects/${projectKey()}/build`, body));
  await followJob(job, $("#job-progress"), after);
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

export function initJobs() {
  const project = projectKey();
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
