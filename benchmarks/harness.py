"""What several benchmarks measure the same way."""

from __future__ import annotations

from typing import Any


def worker_peak_mib(project: Any, job_id: str) -> float:
    """The peak memory a job's worker logged (its own VmHWM).

    Not the child's ``ru_maxrss``: a forked child starts with its parent's high-water
    mark, so a worker spawned by a large process would report that process's peak.
    """
    for line in project.workspace.runtime.logs(job_id):
        if line.message.startswith("Peak memory: "):
            return float(line.message.split()[2].replace(",", ""))
    raise RuntimeError(f"job {job_id} logged no peak memory")
