"""An apply run killed half-way leaves its output at the previous version."""

from __future__ import annotations

import os
import signal
import time

import numpy as np
import pandas as pd

import clusterlab as cl
from clusterlab.services.jobs import start_job, wait_job
from clusterlab.storage.runtime import JobStatus


def test_sigkill_during_apply_keeps_the_previous_output(project: cl.Project) -> None:
    rng = np.random.default_rng(0)
    project.create_dataset("small", pd.DataFrame(rng.normal(size=(300, 2)), columns=["x", "y"]))
    rows = 600_000
    big = pd.DataFrame({"x": rng.normal(size=rows), "y": rng.normal(size=rows)})
    project.create_dataset("big", big)
    task = project.create_clustering_task("small")
    task.set_algorithm("kmeans", k=[3])
    task.train().models[0].deploy("segments")
    project.create_recipe(
        {
            "name": "score_big",
            "type": "apply",
            "inputs": ["big", "segments"],
            "outputs": ["big_scored"],
            "params": {"batch_rows": 5_000},
        }
    )
    project.build("big_scored", upstream=False)
    before = project.dataset("big_scored").versions.current()
    assert before is not None
    ws = project.workspace
    job = start_job(
        ws, "build", project.key, {"datasets": ["big_scored"], "force": True, "upstream": False}
    )
    deadline = time.monotonic() + 120
    while (state := ws.runtime.get_job(job.id)).progress < 0.2:
        assert state.status in (JobStatus.QUEUED, JobStatus.RUNNING), state.error
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert state.progress < 1.0, "the apply finished before it could be killed"
    os.kill(state.pid or 0, signal.SIGKILL)
    finished = wait_job(ws, job.id)
    assert finished.status is JobStatus.FAILED
    assert project.dataset("big_scored").versions.current() == before
    assert project.dataset("big_scored").rows == rows
