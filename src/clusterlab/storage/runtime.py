"""The runtime database: jobs, their progress and their log lines, in SQLite.

Each job runs in its own process, and the CLI, the web app and the job processes all
use the same database file at once. WAL mode lets readers proceed while one process
writes, ``busy_timeout`` makes writers wait for each other instead of failing, and
every call opens a short-lived connection, so no connection crosses a ``fork`` and a
crashed process never leaves a transaction open.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from clusterlab.core.errors import InvalidInputError, NotFoundError, StorageError
from clusterlab.core.ids import validate_project_key
from clusterlab.storage.atomic import pid_alive

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000
LOG_LEVELS = ("debug", "info", "warning", "error")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    project TEXT NOT NULL,
    target TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    progress REAL NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
    progress_text TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    pid INTEGER,
    heartbeat_at TEXT,
    error TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS jobs_by_project ON jobs (project);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status);
CREATE TABLE IF NOT EXISTS job_logs (
    job_id TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    level TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);
"""


class JobStatus(StrEnum):
    """Where a job is in its life: queued → running → succeeded | failed | cancelled."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        """Whether the job reached a final status."""
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED)


@dataclass(frozen=True)
class Job:
    """One build or training run, as last recorded."""

    id: str
    kind: str
    project: str
    target: str
    status: JobStatus
    progress: float
    progress_text: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    pid: int | None
    heartbeat_at: datetime | None
    error: str | None
    cancel_requested: bool


@dataclass(frozen=True)
class LogLine:
    """One line of a job's log; ``seq`` counts from 1 in the order lines were added."""

    job_id: str
    seq: int
    at: datetime
    level: str
    message: str


def _now() -> str:
    # Fixed-width ISO text (always with microseconds) sorts in time order.
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _time(raw: str | None) -> datetime | None:
    return None if raw is None else datetime.fromisoformat(raw)


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"],
        kind=row["kind"],
        project=row["project"],
        target=row["target"],
        status=JobStatus(row["status"]),
        progress=float(row["progress"]),
        progress_text=row["progress_text"],
        created_at=datetime.fromisoformat(row["created_at"]),
        started_at=_time(row["started_at"]),
        finished_at=_time(row["finished_at"]),
        pid=row["pid"],
        heartbeat_at=_time(row["heartbeat_at"]),
        error=row["error"],
        cancel_requested=bool(row["cancel_requested"]),
    )


def dead_job_message(pid: int | None) -> str:
    """The error recorded for a running job whose process is gone."""
    return f"The job's process died (pid {pid}); its partial outputs were not published."


class RuntimeDB:
    """Jobs and job logs of a workspace, in the SQLite file ``path``.

    Parameters
    ----------
    path : Path
        The database file (``WorkspaceLayout.runtime_db``); created if missing.

    Examples
    --------
    >>> db = RuntimeDB(tmp_path / "runtime.db")  # doctest: +SKIP
    >>> job = db.create_job("build", "CLUSTERING", "web_prepared")  # doctest: +SKIP
    >>> db.get_job(job.id).status  # doctest: +SKIP
    <JobStatus.QUEUED: 'queued'>
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._init_schema()

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # Autocommit mode: transactions are opened explicitly, with BEGIN IMMEDIATE for
        # writes, so two writers queue on the busy timeout instead of deadlocking.
        try:
            con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        except sqlite3.Error as exc:
            raise StorageError(f"Cannot open the runtime database {self.path}: {exc}.") from exc
        try:
            con.row_factory = sqlite3.Row
            con.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            con.execute("PRAGMA foreign_keys = ON")
            con.execute("PRAGMA synchronous = NORMAL")
            yield con
        except sqlite3.Error as exc:
            raise StorageError(
                f"The runtime database {self.path} cannot be used: {exc}. If it stays "
                "locked, check for a stuck ClusterLab process; if it is damaged, stop "
                "ClusterLab and move the file away (it only holds job history)."
            ) from exc
        finally:
            con.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            con.commit()

    def _init_schema(self) -> None:
        with self._connect() as con:
            # The journal mode is stored in the file: set once, it holds for every process.
            mode = con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StorageError(
                    f"The runtime database {self.path} cannot use WAL mode (got {mode!r}); "
                    "put the workspace on a local file system."
                )
            con.execute("BEGIN IMMEDIATE")
            try:
                version = con.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise StorageError(
                        f"The runtime database {self.path} has schema version {version}, "
                        f"newer than this ClusterLab's ({SCHEMA_VERSION}). Upgrade ClusterLab."
                    )
                if version < SCHEMA_VERSION:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            con.execute(statement)
                    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except BaseException:
                con.rollback()
                raise
            con.commit()

    # --- jobs -------------------------------------------------------------------------

    def create_job(self, kind: str, project: str, target: str) -> Job:
        """Record a new queued job and return it.

        Parameters
        ----------
        kind : str
            What the job does (``"build"``, ``"train"``, ...).
        project : str
            The KEY of the project it works on.
        target : str
            What it builds or trains (a dataset name, an analysis id, ...).
        """
        if not kind or not target:
            raise InvalidInputError("A job needs a kind and a target (both non-empty).")
        validate_project_key(project)
        job_id = uuid.uuid4().hex
        with self._write() as con:
            con.execute(
                "INSERT INTO jobs (id, kind, project, target, status, created_at) "
                "VALUES (?, ?, ?, ?, 'queued', ?)",
                (job_id, kind, project, target, _now()),
            )
        return self.get_job(job_id)

    def get_job(self, job_id: str) -> Job:
        """The job ``job_id``; `NotFoundError` if there is none."""
        with self._connect() as con:
            return self._get(con, job_id)

    @staticmethod
    def _get(con: sqlite3.Connection, job_id: str) -> Job:
        row = con.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"Job {job_id!r} does not exist; list jobs to see their ids.")
        return _job(row)

    def list_jobs(self, project: str | None = None, limit: int = 50) -> list[Job]:
        """The ``limit`` most recently created jobs, of one project or all, newest first."""
        if limit < 1:
            raise InvalidInputError(f"The job list limit must be at least 1, not {limit}.")
        with self._connect() as con:
            # rowid follows insertion order, which clock adjustments cannot reorder.
            if project is None:
                rows = con.execute("SELECT * FROM jobs ORDER BY rowid DESC LIMIT ?", (limit,))
            else:
                rows = con.execute(
                    "SELECT * FROM jobs WHERE project = ? ORDER BY rowid DESC LIMIT ?",
                    (project, limit),
                )
            return [_job(row) for row in rows]

    def mark_running(self, job_id: str, pid: int) -> Job:
        """Record that process ``pid`` started the queued job ``job_id``.

        Raises `StorageError` if the job is no longer queued (it was cancelled before
        it started, for example): the runner must then not run it.
        """
        now = _now()
        with self._write() as con:
            cur = con.execute(
                "UPDATE jobs SET status = 'running', pid = ?, started_at = ?, heartbeat_at = ? "
                "WHERE id = ? AND status = 'queued'",
                (pid, now, now, job_id),
            )
            if cur.rowcount == 0:
                job = self._get(con, job_id)
                raise StorageError(
                    f"Job {job_id} cannot start: it is {job.status.value}, not queued."
                )
            return self._get(con, job_id)

    def heartbeat(self, job_id: str) -> None:
        """Record that the running job's process is alive."""
        with self._write() as con:
            cur = con.execute(
                "UPDATE jobs SET heartbeat_at = ? WHERE id = ? AND status = 'running'",
                (_now(), job_id),
            )
            if cur.rowcount == 0:
                self._get(con, job_id)

    def set_progress(self, job_id: str, fraction: float, text: str | None = None) -> None:
        """Record the progress (0 to 1) of a running job; ignored once it has finished.

        A progress report also counts as a heartbeat.
        """
        if not (isinstance(fraction, int | float) and 0.0 <= fraction <= 1.0):
            raise InvalidInputError(f"Job progress must be between 0 and 1, not {fraction!r}.")
        with self._write() as con:
            cur = con.execute(
                "UPDATE jobs SET progress = ?, progress_text = ?, heartbeat_at = ? "
                "WHERE id = ? AND status = 'running'",
                (float(fraction), text, _now(), job_id),
            )
            if cur.rowcount == 0:
                self._get(con, job_id)

    def finish(self, job_id: str, status: JobStatus | str, error: str | None = None) -> Job:
        """Record the end of a queued or running job and return it.

        Parameters
        ----------
        status : JobStatus or str
            ``"succeeded"``, ``"failed"`` or ``"cancelled"``.
        error : str, optional
            What went wrong, for a failed job.

        Raises `StorageError` if the job had already finished.
        """
        final = _final_status(status)
        with self._write() as con:
            # A succeeded job is complete whatever its last progress report said.
            cur = con.execute(
                "UPDATE jobs SET status = ?, error = ?, finished_at = ?, "
                "progress = CASE WHEN ? = 'succeeded' THEN 1.0 ELSE progress END "
                "WHERE id = ? AND status IN ('queued', 'running')",
                (final.value, error, _now(), final.value, job_id),
            )
            job = self._get(con, job_id)
            if cur.rowcount == 0:
                raise StorageError(
                    f"Job {job_id} already finished as {job.status.value}; it cannot finish "
                    f"again as {final.value}."
                )
            return job

    def request_cancel(self, job_id: str) -> Job:
        """Ask for a job to stop and return it.

        A queued job is cancelled at once; a running one gets ``cancel_requested``, which
        its runner checks (see `cancel_requested`) to stop and finish as cancelled. A
        finished job is left as it is.
        """
        now = _now()
        with self._write() as con:
            con.execute(
                "UPDATE jobs SET status = 'cancelled', cancel_requested = 1, finished_at = ? "
                "WHERE id = ? AND status = 'queued'",
                (now, job_id),
            )
            con.execute(
                "UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND status = 'running'",
                (job_id,),
            )
            return self._get(con, job_id)

    def cancel_requested(self, job_id: str) -> bool:
        """Whether someone asked job ``job_id`` to stop."""
        return self.get_job(job_id).cancel_requested

    def fail_dead_jobs(self, is_alive: Callable[[int], bool] = pid_alive) -> list[str]:
        """Mark running jobs whose process is gone as failed; return their ids.

        Run at start-up and by the job runner: a job process killed by a crash or a
        reboot never records its own end.
        """
        with self._connect() as con:
            running = con.execute(
                "SELECT id, pid FROM jobs WHERE status = 'running' ORDER BY rowid"
            ).fetchall()
        dead = [(row["id"], row["pid"]) for row in running if not _alive(row["pid"], is_alive)]
        failed: list[str] = []
        with self._write() as con:
            for job_id, pid in dead:
                # The pid condition skips a job that was restarted since it was read.
                cur = con.execute(
                    "UPDATE jobs SET status = 'failed', error = ?, finished_at = ? "
                    "WHERE id = ? AND status = 'running' AND pid IS ?",
                    (dead_job_message(pid), _now(), job_id, pid),
                )
                if cur.rowcount:
                    failed.append(job_id)
        return failed

    # --- logs -------------------------------------------------------------------------

    def append_log(self, job_id: str, message: str, level: str = "info") -> int:
        """Add a line to the job's log and return its sequence number (from 1)."""
        if level not in LOG_LEVELS:
            raise InvalidInputError(
                f"Unknown log level {level!r}; use one of {', '.join(LOG_LEVELS)}."
            )
        with self._write() as con:
            self._get(con, job_id)
            # The write transaction serializes writers, so max+1 cannot be taken twice.
            seq = int(
                con.execute(
                    "SELECT COALESCE(MAX(seq), 0) + 1 FROM job_logs WHERE job_id = ?", (job_id,)
                ).fetchone()[0]
            )
            con.execute(
                "INSERT INTO job_logs (job_id, seq, at, level, message) VALUES (?, ?, ?, ?, ?)",
                (job_id, seq, _now(), level, message),
            )
        return seq

    def logs(self, job_id: str, after_seq: int = 0) -> list[LogLine]:
        """The job's log lines numbered above ``after_seq``, in order (poll with the last)."""
        with self._connect() as con:
            self._get(con, job_id)
            rows = con.execute(
                "SELECT * FROM job_logs WHERE job_id = ? AND seq > ? ORDER BY seq",
                (job_id, after_seq),
            ).fetchall()
        return [
            LogLine(
                job_id=row["job_id"],
                seq=row["seq"],
                at=datetime.fromisoformat(row["at"]),
                level=row["level"],
                message=row["message"],
            )
            for row in rows
        ]


def _final_status(status: JobStatus | str) -> JobStatus:
    finals = [s for s in JobStatus if s.finished]
    for final in finals:
        if status == final.value:
            return final
    raise InvalidInputError(
        f"A job finishes as {', '.join(s.value for s in finals)}, not {status!r}."
    )


def _alive(pid: int | None, is_alive: Callable[[int], bool]) -> bool:
    return pid is not None and is_alive(pid)
