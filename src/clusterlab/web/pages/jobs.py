"""Jobs pages: the project's builds and trainings, and one job's live log with Cancel."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from clusterlab.core.errors import NotFoundError
from clusterlab.web import deps
from clusterlab.web.serialize import log_json
from clusterlab.web.templating import render

router = APIRouter()


@router.get("/projects/{key}/jobs")
def jobs_page(request: Request, key: str) -> Response:
    """The project's jobs, newest first."""
    project = deps.project(request, key)
    crumbs = [("Projects", "/"), (project.name, f"/projects/{key}/flow"), ("Jobs", None)]
    return render(
        request,
        "jobs.html",
        {"project": project, "section": "jobs", "crumbs": crumbs, "jobs": project.jobs(100)},
    )


@router.get("/projects/{key}/jobs/{job_id}")
def job_page(request: Request, key: str, job_id: str) -> Response:
    """One job: status, progress, its log followed live, and Cancel while it runs."""
    project = deps.project(request, key)
    ws = deps.workspace(request)
    job = ws.runtime.get_job(job_id)
    if job.project != key:
        raise NotFoundError(f"Job {job_id} belongs to project {job.project}, not {key}.")
    lines = [log_json(x) for x in ws.runtime.logs(job_id)]
    crumbs = [
        ("Projects", "/"),
        (project.name, f"/projects/{key}/flow"),
        ("Jobs", f"/projects/{key}/jobs"),
        (f"{job.kind} {job.id}", None),
    ]
    return render(
        request,
        "job.html",
        {"project": project, "section": "jobs", "crumbs": crumbs, "job": job, "lines": lines},
    )
