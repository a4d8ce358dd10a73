"""The process that runs one job: `python -m clusterlab.services.worker HOME JOB_ID`."""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import threading
import traceback
from pathlib import Path
from types import FrameType

from clusterlab.core.errors import ClusterLabError
from clusterlab.services.build import run_build
from clusterlab.services.workspace import Workspace
from clusterlab.storage.runtime import JobStatus, RuntimeDB

HEARTBEAT_SECONDS = 2.0


class Cancelled(BaseException):
    """Raised in the worker when it is asked to stop; unwinds so staging is removed."""


# Set on SIGTERM: the Cancelled exception may surface wrapped (DuckDB wraps exceptions
# raised inside a Python UDF), so the outcome is decided by this flag, not its type.
_stop_requested = threading.Event()


def _on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    _stop_requested.set()
    raise Cancelled()


def run(home: str, job_id: str) -> int:
    """Run the job and record how it ended; the exit code is 0 unless it failed."""
    ws = Workspace(home)
    db = ws.runtime
    job = db.mark_running(job_id, os.getpid())
    signal.signal(signal.SIGTERM, _on_sigterm)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            db.heartbeat(job_id)

    threading.Thread(target=beat, daemon=True).start()
    payload = json.loads(job.target)

    def progress(fraction: float, text: str) -> None:
        db.set_progress(job_id, fraction, text)

    def log(message: str) -> None:
        db.append_log(job_id, message)

    try:
        if job.kind == "train":
            from clusterlab.services.lab import run_training  # only training needs sklearn

            number = run_training(ws.project(job.project), payload["task"], progress, log)
            db.append_log(job_id, f"Done: session {number}")
            _finish(db, job_id, JobStatus.SUCCEEDED)
            return 0
        if job.kind != "build":
            raise ClusterLabError(f"Unknown job kind {job.kind!r}.")
        report = run_build(
            ws.project(job.project),
            payload.get("datasets"),
            force=bool(payload.get("force")),
            upstream=bool(payload.get("upstream", True)),
            engine=payload.get("engine", "local"),
            progress=progress,
            log=log,
        )
        db.append_log(job_id, f"Done: {len(report.ran)} ran, {len(report.skipped)} skipped")
        _finish(db, job_id, JobStatus.SUCCEEDED)
        return 0
    except BaseException as exc:
        if _stop_requested.is_set() or isinstance(exc, Cancelled):
            db.append_log(job_id, "Cancelled: unpublished outputs were discarded", "warning")
            _finish(db, job_id, JobStatus.CANCELLED, "Cancelled by the user.")
            return 1
        return _record_failure(db, job_id, exc)
    finally:
        stop.set()


def _finish(db: RuntimeDB, job_id: str, status: JobStatus, error: str | None = None) -> None:
    """Record the job's CPU time and peak memory, then how it ended."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    db.append_log(job_id, f"CPU time: {usage.ru_utime + usage.ru_stime:.2f} s")
    if (peak := peak_memory_mib()) is not None:
        db.append_log(job_id, f"Peak memory: {peak:,.0f} MiB")
    db.finish(job_id, status, error)


def peak_memory_mib() -> float | None:
    """This process's peak resident memory in MiB (Linux), None where unknown.

    VmHWM, not ``getrusage``: a child's ``ru_maxrss`` starts at the peak of the process
    that spawned it (the fork copies its high-water mark), so a worker started by a
    large process would report that process's peak as its own.
    """
    status = Path("/proc/self/status")
    if not status.is_file():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def _record_failure(db: RuntimeDB, job_id: str, exc: BaseException) -> int:
    if isinstance(exc, ClusterLabError):
        db.append_log(job_id, str(exc), "error")
        _finish(db, job_id, JobStatus.FAILED, str(exc))
    else:
        trace = "".join(traceback.format_exception(exc))
        db.append_log(job_id, trace, "error")
        _finish(db, job_id, JobStatus.FAILED, f"Internal error: {type(exc).__name__}: {exc}")
    return 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1], sys.argv[2]))
