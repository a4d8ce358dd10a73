"""The warm job server forks each job's worker; without it, jobs start the usual way."""

from __future__ import annotations

import os
import socket
import tempfile
import time

import numpy as np
import pandas as pd
import pytest

import clusterlab as cl
from clusterlab.services import job_server
from clusterlab.services.jobs import wait_job
from clusterlab.services.lab import Model
from clusterlab.storage.runtime import JobStatus


def _wait_for_server(timeout: float = 120.0) -> None:
    path = job_server.socket_path()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            try:
                conn.connect(str(path))
                return
            except OSError:
                time.sleep(0.2)
    raise AssertionError("the job server never answered")


@pytest.fixture
def points(project: cl.Project) -> cl.Project:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(200, 2)), columns=["x", "y"])
    project.create_dataset("points", frame)
    return project


def test_a_job_runs_in_a_worker_forked_by_the_server(points: cl.Project, monkeypatch) -> None:
    monkeypatch.setenv(job_server.ENV_SWITCH, "1")
    job_server.warm_up()
    _wait_for_server()
    task = points.create_clustering_task("points")
    task.set_algorithm("kmeans", k=[2])
    ws = points.workspace
    job = ws.runtime.create_job("train", points.key, f'{{"task": "{task.id}"}}')
    pid = job_server.request_worker(ws.home, job.id)
    assert pid is not None
    done = wait_job(ws, job.id)
    assert done.status is JobStatus.SUCCEEDED, done.error
    # The worker that ran it is the process the server forked, not a child of ours.
    assert done.pid == pid
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    messages = [line.message for line in ws.runtime.logs(job.id)]
    assert messages[-2].startswith("CPU time: ")
    assert messages[-1].startswith("Peak memory: ")
    assert len(task.sessions()) == 1


def test_the_worker_gets_the_callers_environment(points: cl.Project, monkeypatch) -> None:
    """Custom code runs only when the caller allows it: the forked worker reads the
    caller's variables, not the server's."""
    monkeypatch.setenv(job_server.ENV_SWITCH, "1")
    job_server.warm_up()
    _wait_for_server()
    code = "from sklearn.cluster import KMeans\nclf = KMeans(n_clusters=2, n_init=1)\n"
    task = points.create_clustering_task("points")
    task.set_algorithm("custom", code=code)

    def custom_model() -> Model:
        return next(m for m in task.train().models if m.algorithm == "custom")

    monkeypatch.setenv("CLUSTERLAB_ALLOW_CUSTOM_CODE", "1")
    allowed = custom_model()
    assert allowed.error is None
    monkeypatch.setenv("CLUSTERLAB_ALLOW_CUSTOM_CODE", "0")
    refused = custom_model()
    assert refused.error is not None
    assert "CLUSTERLAB_ALLOW_CUSTOM_CODE" in refused.error


def test_switched_off_jobs_start_as_new_processes(points: cl.Project, monkeypatch) -> None:
    monkeypatch.setenv(job_server.ENV_SWITCH, "0")
    job = points.workspace.runtime.create_job("build", points.key, "{}")
    assert job_server.request_worker(points.workspace.home, job.id) is None
    task = points.create_clustering_task("points")
    task.set_algorithm("kmeans", k=[2])
    done = wait_job(points.workspace, task.start_training().id)
    assert done.status is JobStatus.SUCCEEDED, done.error
    # Started by this process: its own child, which it can reap.
    assert done.pid is not None
    assert os.waitpid(done.pid, 0)[0] == done.pid


def test_the_socket_folder_is_private() -> None:
    folder = job_server.server_folder()
    assert folder.stat().st_mode & 0o777 == 0o700
    assert folder.stat().st_uid == os.getuid()


def test_a_temp_folder_too_long_for_a_socket_runs_jobs_without_a_server(
    points: cl.Project, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv(job_server.ENV_SWITCH, "1")
    long = tmp_path / ("t" * 120)
    long.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(long))
    job = points.workspace.runtime.create_job("build", points.key, "{}")
    assert job_server.request_worker(points.workspace.home, job.id) is None
    job_server.warm_up()
    # Nothing was started to fail on bind: no server folder holds a socket or a lock.
    assert not [p for p in long.rglob("*") if p.suffix in (".sock", ".lock")]
    task = points.create_clustering_task("points")
    task.set_algorithm("kmeans", k=[2])
    assert task.train().models[0].error is None
