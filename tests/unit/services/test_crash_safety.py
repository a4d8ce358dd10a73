"""A process killed in the middle of a dataset write leaves the previous version readable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import clusterlab as cl

WRITER = textwrap.dedent(
    """
    import sys
    import clusterlab as cl
    ws = cl.Workspace(sys.argv[1])
    ws.project("CRASH").import_dataset("data", sys.argv[2], overwrite=True)
    """
)


def test_sigkill_during_write_keeps_previous_version(tmp_path: Path) -> None:
    home = tmp_path / "home"
    project = cl.Workspace(home).create_project("CRASH")
    project.import_dataset("data", _csv(tmp_path / "small.csv", 10))
    big = _csv(tmp_path / "big.csv", 3_000_000)
    data_dir = home / "projects" / "CRASH" / "data" / "data"

    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(home), str(big)])
    deadline = time.monotonic() + 60
    while not any(p.name.startswith(".staging-") for p in data_dir.iterdir()):
        assert proc.poll() is None, "the writer finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    time.sleep(0.2)  # well inside the Parquet write
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    dataset = cl.Workspace(home).project("CRASH").dataset("data")
    assert dataset.rows == 10
    assert dataset.to_pandas()["i"].tolist() == list(range(10))
    visible = [p.name for p in data_dir.iterdir() if not p.name.startswith(".")]
    assert sorted(visible) == ["CURRENT", dataset.versions.current().name]  # type: ignore[union-attr]

    dataset.versions.collect_garbage()
    assert not [p for p in data_dir.iterdir() if p.name.startswith(".staging-")]
    assert dataset.rows == 10


def _csv(path: Path, rows: int) -> Path:
    with open(path, "w") as fh:
        fh.write("i,label,value\n")
        for start in range(0, rows, 100_000):
            fh.write(
                "".join(f"{i},row{i},{i * 0.5}\n" for i in range(start, min(rows, start + 100_000)))
            )
    return path
