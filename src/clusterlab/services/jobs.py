"""Run long work (builds, later training) as jobs: one subprocess per job.

A subprocess isolates crashes and can be cancelled by a signal; it records status,
progress, heartbeat and log lines in the runtime DB, where the CLI and the UI read them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from clusterlab.core.errors import ClusterLabError
from clusterlab.services.job_server import request_worker
from clusterlab.storage.atomic import pid_alive
from clusterlab.storage.runtime import Job, JobStatus

if TYPE_CHECKING:
    from clusterlab.services.workspace import Workspace

POLL_SECONDS = 0.05


class JobFailedError(ClusterLabError):
    """A job ended in failure; the message is the job's error."""

    def __init__(self, job: Job) -> None:
        super().__init__(
            f"{job.error or 'The job failed.'} (job {job.id}; see `clusterlab job log {job.id}`)"
        )
        self.job = job


def start_job(ws: Workspace, kind: str, project: str, payload: dict[str, Any]) -> Job:
    """Record a job and start its worker process; returns at once.

    The worker is forked by the warm job server when one answers (see `job_server`),
    else started as a new Python process.
    """
    ws.runtime.fail_dead_jobs()
    job = ws.runtime.create_job(kind, project, json.dumps(payload, sort_keys=True))
    if request_worker(ws.home, job.id) is not None:
        return job
    subprocess.Popen(
        [sys.executable, "-m", "clusterlab.services.worker", str(ws.home), job.id],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    return job


def wait_job(ws: Workspace, job_id: str, on_update: Callable[[Job], None] | None = None) -> Job:
    """Wait until the job finishes; a worker that died is marked failed."""
    started = time.monotonic()
    while True:
        job = ws.runtime.get_job(job_id)
        if on_update:
            on_update(job)
        if job.status.finished:
            return job
        if job.status is JobStatus.RUNNING and job.pid and not pid_alive(job.pid):
            ws.runtime.fail_dead_jobs()
        elif job.status is JobStatus.QUEUED and time.monotonic() - started > 60:
            ws.runtime.finish(job_id, JobStatus.FAILED, "The job's worker never started.")
        time.sleep(POLL_SECONDS)


def run_job(
    ws: Workspace,
    kind: str,
    project: str,
    payload: dict[str, Any],
    on_update: Callable[[Job], None] | None = None,
) -> Job:
    """Start a job and wait for it; raises `JobFailedError` unless it succeeded."""
    job = wait_job(ws, start_job(ws, kind, project, payload).id, on_update)
    if job.status is not JobStatus.SUCCEEDED:
        raise JobFailedError(job)
    return job


def cancel_job(ws: Workspace, job_id: str) -> Job:
    """Ask a job to stop; a running worker gets SIGTERM and discards unpublished outputs."""
    job = ws.runtime.request_cancel(job_id)
    if job.status is JobStatus.RUNNING and job.pid and pid_alive(job.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(job.pid, signal.SIGTERM)
    return ws.runtime.get_job(job_id)
