"""What the benchmarks measure the same way: fresh child processes, peak memory, workers.

A benchmark script runs each measured piece as ``python SCRIPT --child NAME PARAMS``
(`measure`); its ``main`` starts with ``if child_main(CHILDREN): return``.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

Child = Callable[[dict[str, Any]], dict[str, Any]]


def vmhwm_mib(pid: int | str = "self") -> float | None:
    """Peak RSS of process ``pid`` (its own address space), None once it has exited.

    Not ``ru_maxrss``: a forked child starts with its parent's high-water mark, so every
    child would report at least the memory of the process that spawned it.
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return None


def child_main(children: Mapping[str, Child]) -> bool:
    """Run the child named on the command line, if any, and print what it measured
    (with its own ``peak_mib``) as JSON; False when this is not a child process."""
    if len(sys.argv) != 4 or sys.argv[1] != "--child":
        return False
    result = children[sys.argv[2]](json.loads(sys.argv[3]))
    result["peak_mib"] = vmhwm_mib() or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))
    return True


def measure(script: str, name: str, **params: Any) -> dict[str, Any]:
    """Run child ``name`` of ``script`` in a fresh process and return what it measured.

    When the child ran a job and reported its worker's peak (``worker_peak_mib``),
    ``peak_mib`` is the larger of the two.
    """
    done = subprocess.run(
        [sys.executable, script, "--child", name, json.dumps(params)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if "worker_peak_mib" in result:
        result["peak_mib"] = max(result["peak_mib"], result["worker_peak_mib"])
    return result


def _logged(project: Any, job_id: str, prefix: str) -> float:
    for line in project.workspace.runtime.logs(job_id):
        if line.message.startswith(prefix):
            return float(line.message.removeprefix(prefix).split()[0].replace(",", ""))
    raise RuntimeError(f"job {job_id} logged no {prefix!r} line")


def worker_cpu_seconds(project: Any, job_id: str) -> float:
    """The CPU seconds a finished job's worker logged (its own, whoever started it: the
    warm job server forks workers that are not this process's children)."""
    return _logged(project, job_id, "CPU time: ")


def worker_peak_mib(project: Any, job_id: str) -> float:
    """The peak memory a job's worker logged (its own VmHWM, see `vmhwm_mib`)."""
    return _logged(project, job_id, "Peak memory: ")


class Clock:
    """Wall seconds of a block, and CPU seconds of every thread of this process in it.

    CPU time shows the work done even when other processes slow the wall clock down.
    """

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.seconds = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu

    def result(self, **extra: Any) -> dict[str, Any]:
        """Seconds and CPU seconds, with ``extra``, as a child returns them."""
        return {"seconds": self.seconds, "cpu": self.cpu, **extra}


def median_of(runs: list[dict[str, Any]], key: str = "seconds") -> float:
    """The median of ``key`` over runs."""
    return statistics.median(r[key] for r in runs)


def print_table(header: list[str], rows: list[list[str]]) -> None:
    """An indented text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i == 0 else str(c).rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    print("   " + line(header))
    print("   " + "  ".join("-" * w for w in widths))
    for row in rows:
        print("   " + line(row))
