"""The runtime database: job lifecycle, logs, WAL mode, other processes, dead jobs."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from clusterlab.core.errors import InvalidInputError, NotFoundError, StorageError
from clusterlab.storage.runtime import SCHEMA_VERSION, JobStatus, RuntimeDB, dead_job_message


@pytest.fixture
def db(tmp_path: Path) -> RuntimeDB:
    return RuntimeDB(tmp_path / "home" / "runtime.db")


def run_python(code: str, *args: str) -> subprocess.Popen[str]:
    """Start a real, separate Python process, as the job runner does."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(predicate: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting for the other process"
        time.sleep(0.01)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# --- schema ---------------------------------------------------------------------------


def test_database_is_in_wal_mode_with_a_schema_version(db: RuntimeDB) -> None:
    con = sqlite3.connect(db.path)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        con.close()
    assert {"jobs", "job_logs"} <= tables


def test_reopening_keeps_the_jobs(db: RuntimeDB) -> None:
    job = db.create_job("build", "CLUSTERING", "web")
    assert RuntimeDB(db.path).get_job(job.id) == job


def test_newer_schema_is_refused(db: RuntimeDB) -> None:
    con = sqlite3.connect(db.path)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(StorageError, match="newer than this ClusterLab"):
        RuntimeDB(db.path)


def test_a_file_that_is_not_a_database_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "runtime.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="cannot be used"):
        RuntimeDB(path)


# --- jobs -----------------------------------------------------------------------------


def test_job_lifecycle_to_success(db: RuntimeDB) -> None:
    job = db.create_job("build", "CLUSTERING", "web_prepared")
    assert (job.status, job.progress, job.pid, job.started_at) == (
        JobStatus.QUEUED,
        0.0,
        None,
        None,
    )
    assert job.created_at.tzinfo is not None

    running = db.mark_running(job.id, pid=4242)
    assert (running.status, running.pid) == (JobStatus.RUNNING, 4242)
    assert running.started_at is not None
    assert running.heartbeat_at == running.started_at

    db.set_progress(job.id, 0.25, "Reading web_logs")
    halfway = db.get_job(job.id)
    assert (halfway.progress, halfway.progress_text) == (0.25, "Reading web_logs")
    assert halfway.heartbeat_at is not None
    assert halfway.heartbeat_at >= running.started_at

    db.heartbeat(job.id)
    assert db.get_job(job.id).heartbeat_at >= halfway.heartbeat_at  # type: ignore[operator]

    done = db.finish(job.id, "succeeded")
    assert (done.status, done.progress, done.error) == (JobStatus.SUCCEEDED, 1.0, None)
    assert done.finished_at is not None
    assert done.finished_at >= running.started_at
    assert done.status.finished


def test_failed_job_keeps_its_progress_and_error(db: RuntimeDB) -> None:
    job = db.create_job("train", "CLUSTERING", "analysis-1")
    db.mark_running(job.id, pid=1)
    db.set_progress(job.id, 0.4)
    failed = db.finish(job.id, JobStatus.FAILED, error="Column 'age' is empty.")
    assert (failed.status, failed.progress, failed.error) == (
        JobStatus.FAILED,
        0.4,
        "Column 'age' is empty.",
    )


def test_finished_jobs_do_not_change(db: RuntimeDB) -> None:
    job = db.create_job("build", "CLUSTERING", "web")
    db.mark_running(job.id, pid=1)
    db.finish(job.id, "succeeded")
    db.set_progress(job.id, 0.5, "late report")  # a straggler's report is ignored
    db.heartbeat(job.id)
    assert db.get_job(job.id).progress == 1.0
    with pytest.raises(StorageError, match="already finished as succeeded"):
        db.finish(job.id, "failed", error="late")
    with pytest.raises(StorageError, match="cannot start: it is succeeded"):
        db.mark_running(job.id, pid=2)


def test_invalid_arguments_are_refused(db: RuntimeDB) -> None:
    job = db.create_job("build", "CLUSTERING", "web")
    db.mark_running(job.id, pid=1)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(InvalidInputError, match="between 0 and 1"):
            db.set_progress(job.id, bad)
    with pytest.raises(InvalidInputError, match="not 'running'"):
        db.finish(job.id, "running")
    with pytest.raises(InvalidInputError, match="not 'done'"):
        db.finish(job.id, "done")
    with pytest.raises(InvalidInputError, match="Unknown log level"):
        db.append_log(job.id, "x", level="loud")
    with pytest.raises(InvalidInputError, match="limit"):
        db.list_jobs(limit=0)
    with pytest.raises(InvalidInputError):
        db.create_job("", "CLUSTERING", "web")
    with pytest.raises(ValueError, match="Invalid project key"):
        db.create_job("build", "../etc", "web")


def test_unknown_job_is_not_found(db: RuntimeDB) -> None:
    for call in (
        lambda: db.get_job("nope"),
        lambda: db.mark_running("nope", 1),
        lambda: db.heartbeat("nope"),
        lambda: db.set_progress("nope", 0.5),
        lambda: db.finish("nope", "failed"),
        lambda: db.request_cancel("nope"),
        lambda: db.append_log("nope", "hello"),
        lambda: db.logs("nope"),
    ):
        with pytest.raises(NotFoundError, match="'nope' does not exist"):
            call()


def test_list_jobs_newest_first_and_by_project(db: RuntimeDB) -> None:
    ids = [db.create_job("build", project, f"t{i}").id for i, project in enumerate("ABABA")]
    assert [j.id for j in db.list_jobs()] == ids[::-1]
    assert [j.id for j in db.list_jobs(project="A")] == [ids[4], ids[2], ids[0]]
    assert [j.id for j in db.list_jobs(limit=2)] == [ids[4], ids[3]]
    assert db.list_jobs(project="C") == []


def test_cancel_a_queued_job_at_once(db: RuntimeDB) -> None:
    job = db.create_job("build", "CLUSTERING", "web")
    cancelled = db.request_cancel(job.id)
    assert (cancelled.status, cancelled.cancel_requested) == (JobStatus.CANCELLED, True)
    assert cancelled.finished_at is not None
    with pytest.raises(StorageError, match="cannot start: it is cancelled"):
        db.mark_running(job.id, pid=os.getpid())


def test_cancel_a_running_job_is_a_request_to_its_runner(db: RuntimeDB) -> None:
    job = db.create_job("build", "CLUSTERING", "web")
    db.mark_running(job.id, pid=os.getpid())
    assert not db.cancel_requested(job.id)
    assert db.request_cancel(job.id).status is JobStatus.RUNNING
    assert db.cancel_requested(job.id)
    assert db.finish(job.id, "cancelled").status is JobStatus.CANCELLED
    assert db.request_cancel(job.id).status is JobStatus.CANCELLED  # finished: no change


# --- logs -----------------------------------------------------------------------------


def test_logs_are_numbered_in_order_and_polled_incrementally(db: RuntimeDB) -> None:
    job = db.create_job("build", "CLUSTERING", "web")
    other = db.create_job("build", "CLUSTERING", "other")
    assert db.logs(job.id) == []
    seqs = [db.append_log(job.id, f"line {i}") for i in range(5)]
    db.append_log(other.id, "other job's line")
    db.append_log(job.id, "disk almost full", level="warning")
    assert seqs == [1, 2, 3, 4, 5]
    lines = db.logs(job.id)
    assert [(line.seq, line.message) for line in lines[:5]] == [
        (i + 1, f"line {i}") for i in range(5)
    ]
    assert (lines[-1].seq, lines[-1].level) == (6, "warning")
    assert [line.at for line in lines] == sorted(line.at for line in lines)
    assert [line.seq for line in db.logs(job.id, after_seq=4)] == [5, 6]
    assert [line.message for line in db.logs(other.id)] == ["other job's line"]


# --- several processes ----------------------------------------------------------------


def test_a_job_process_reports_progress_while_this_process_reads(
    db: RuntimeDB, tmp_path: Path
) -> None:
    job = db.create_job("build", "CLUSTERING", "web")
    go = tmp_path / "go"
    child = run_python(
        """
        import os, sys, time
        from pathlib import Path
        from clusterlab.storage.runtime import RuntimeDB

        db, job_id, go = RuntimeDB(Path(sys.argv[1])), sys.argv[2], Path(sys.argv[3])
        db.mark_running(job_id, os.getpid())
        db.append_log(job_id, "halfway there")
        db.set_progress(job_id, 0.5, "halfway")
        while not go.exists():
            time.sleep(0.01)
        db.set_progress(job_id, 0.9, "almost")
        db.finish(job_id, "succeeded")
        """,
        str(db.path),
        job.id,
        str(go),
    )
    try:
        wait_for(lambda: db.get_job(job.id).progress == 0.5)
        seen = db.get_job(job.id)
        assert (seen.status, seen.pid, seen.progress_text) == (
            JobStatus.RUNNING,
            child.pid,
            "halfway",
        )
        assert [line.message for line in db.logs(job.id)] == ["halfway there"]
        go.touch()
        _, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    final = db.get_job(job.id)
    assert (final.status, final.progress) == (JobStatus.SUCCEEDED, 1.0)


def test_concurrent_log_writers_get_distinct_sequence_numbers(db: RuntimeDB) -> None:
    job = db.create_job("build", "CLUSTERING", "web")
    code = """
        import sys
        from pathlib import Path
        from clusterlab.storage.runtime import RuntimeDB

        db = RuntimeDB(Path(sys.argv[1]))
        for i in range(150):
            db.append_log(sys.argv[2], f"{sys.argv[3]} {i}")
        """
    children = [run_python(code, str(db.path), job.id, name) for name in ("a", "b")]
    for i in range(150):
        db.append_log(job.id, f"parent {i}")
    for child in children:
        _, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
    lines = db.logs(job.id)
    assert [line.seq for line in lines] == list(range(1, 451))
    for writer in ("a", "b", "parent"):
        mine = [line.message for line in lines if line.message.startswith(writer + " ")]
        assert mine == [f"{writer} {i}" for i in range(150)]


# --- dead jobs ------------------------------------------------------------------------


def test_fail_dead_jobs_with_a_real_dead_process(db: RuntimeDB) -> None:
    pid = dead_pid()
    dead = db.create_job("build", "CLUSTERING", "dead")
    alive = db.create_job("build", "CLUSTERING", "alive")
    queued = db.create_job("build", "CLUSTERING", "queued")
    db.mark_running(dead.id, pid)
    db.mark_running(alive.id, os.getpid())
    db.set_progress(dead.id, 0.3)

    assert db.fail_dead_jobs() == [dead.id]

    failed = db.get_job(dead.id)
    assert (failed.status, failed.progress) == (JobStatus.FAILED, 0.3)
    assert failed.error == dead_job_message(pid)
    assert failed.error == (
        f"The job's process died (pid {pid}); its partial outputs were not published."
    )
    assert failed.finished_at is not None
    assert db.get_job(alive.id).status is JobStatus.RUNNING
    assert db.get_job(queued.id).status is JobStatus.QUEUED
    assert db.fail_dead_jobs() == []  # already failed: not reported twice


def test_fail_dead_jobs_uses_the_given_liveness_check(db: RuntimeDB) -> None:
    jobs = [db.create_job("build", "CLUSTERING", f"t{i}") for i in range(3)]
    for pid, job in enumerate(jobs, start=100):
        db.mark_running(job.id, pid)
    assert db.fail_dead_jobs(is_alive=lambda pid: pid == 101) == [jobs[0].id, jobs[2].id]
    assert db.get_job(jobs[1].id).status is JobStatus.RUNNING
