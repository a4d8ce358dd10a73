"""Jobs: builds and trainings, their progress and log, and cancelling them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from clusterlab.services.jobs import cancel_job
from clusterlab.storage.atomic import pid_alive
from clusterlab.storage.runtime import JobStatus
from clusterlab.web import deps
from clusterlab.web.serialize import job_json, log_json

router = APIRouter(tags=["jobs"])


@router.get("/projects/{key}/jobs")
def list_jobs(
    request: Request, key: str, limit: int = Query(50, ge=1, le=500)
) -> list[dict[str, Any]]:
    """The project's jobs, newest first."""
    return [job_json(j) for j in deps.project(request, key).jobs(limit=limit)]


@router.get("/jobs/{job_id}")
def get_job(request: Request, job_id: str) -> dict[str, Any]:
    """A job's status and progress (a worker that died is reported as failed)."""
    ws = deps.workspace(request)
    job = ws.runtime.get_job(job_id)
    # Only a running job whose process is gone needs the (writing) dead-job check.
    if job.status is JobStatus.RUNNING and job.pid and not pid_alive(job.pid):
        ws.runtime.fail_dead_jobs()
        job = ws.runtime.get_job(job_id)
    return job_json(job)


@router.get("/jobs/{job_id}/log")
def get_log(
    request: Request, job_id: str, after: int = Query(0, ge=0, description="Last seq seen.")
) -> dict[str, Any]:
    """Log lines after ``after`` (to follow a running job), with the job's status."""
    ws = deps.workspace(request)
    job = ws.runtime.get_job(job_id)
    return {"job": job_json(job), "lines": [log_json(x) for x in ws.runtime.logs(job_id, after)]}


@router.post("/jobs/{job_id}/cancel")
def cancel(request: Request, job_id: str) -> dict[str, Any]:
    """Ask a job to stop; its unpublished outputs are discarded."""
    return job_json(cancel_job(deps.workspace(request), job_id))
