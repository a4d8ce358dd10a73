"""A warm job server: each job's worker is forked from a process that has already
imported what jobs need, so a job starts in milliseconds instead of seconds.

A worker started with ``python -m clusterlab.services.worker`` spends ~2-4 s importing
pandas, scikit-learn, Ibis, DuckDB and skops before it reads a row: more than the
whole training of a model on 100k rows. The server imports them once, then waits on a
Unix socket; for each job it forks a child that becomes the job's worker (its own
session, the caller's environment and folder), so jobs keep one process each: crash
isolation and cancel by signal are unchanged.

There is one server per user and per installed ClusterLab code (a change to the code
starts a new one), in a folder only this user can enter; it refuses connections from
other users and exits after `IDLE_SECONDS` without a job. `start_job` asks it for a
worker and, when none answers, starts one for the next jobs and runs this job the
cold way. ``CLUSTERLAB_JOB_SERVER=0`` turns it off.

Forking is safe because the server never runs native thread pools or opens a DuckDB
connection: it only imports modules and compiles one Ibis expression to SQL text.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

IDLE_SECONDS = 600.0
"""A server with no job for this long exits."""
CONNECT_SECONDS = 2.0
ENV_SWITCH = "CLUSTERLAB_JOB_SERVER"
REQUEST_KEYS = frozenset({"home", "job", "cwd", "env"})


def enabled() -> bool:
    """Whether jobs go through the warm server (``CLUSTERLAB_JOB_SERVER=0``: no)."""
    return os.environ.get(ENV_SWITCH, "1") != "0"


def _code_key() -> str:
    """Identifies this Python, its module path and this ClusterLab code: edited or
    upgraded code, another environment or another ``PYTHONPATH`` (which a running
    interpreter would not see) gets its own server, never a stale one."""
    package = Path(__file__).resolve().parents[1]
    newest = max(p.stat().st_mtime_ns for p in package.rglob("*.py"))
    text = f"{sys.executable}|{package}|{newest}|{os.environ.get('PYTHONPATH', '')}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def server_folder() -> Path:
    """This user's folder of server sockets (mode 0700, checked to be ours)."""
    folder = Path(tempfile.gettempdir()) / f"clusterlab-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077 or not folder.is_dir():
        raise PermissionError(f"{folder} is not a private folder of this user.")
    return folder


UNIX_PATH_MAX = 107
"""Longest path a Unix socket can be bound to (108 bytes with the final NUL)."""


def socket_path() -> Path:
    """The server's socket; `OSError` when the temp folder's path is too long for one
    (a server would then preload for nothing on every job)."""
    path = server_folder() / f"jobs-{_code_key()}.sock"
    if len(os.fsencode(path)) > UNIX_PATH_MAX:
        raise OSError(f"{path} is too long for a Unix socket: set TMPDIR to a short folder.")
    return path


def request_worker(home: Path, job_id: str) -> int | None:
    """Ask the warm server to start job ``job_id``'s worker; its pid, or None when no
    server answered (one is then started for the next jobs)."""
    request = {"home": str(home), "job": job_id, "cwd": os.getcwd(), "env": dict(os.environ)}
    pid = (_exchange(request) or {}).get("pid")
    return pid if isinstance(pid, int) else None


def warm_up() -> None:
    """Start the server now if none answers, so that the first job is warm too."""
    _exchange(None)


def _exchange(request: dict[str, Any] | None) -> dict[str, Any] | None:
    """Send ``request`` to this code's server and return its reply (with no request,
    only check that it answers: ``{}``). None when jobs go without a server, or when
    none answered: one is then started for the next jobs."""
    if not enabled():
        return None
    try:
        path = socket_path()
    except OSError:
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(CONNECT_SECONDS)
            conn.connect(str(path))
            if request is None:
                return {}
            conn.sendall(json.dumps(request).encode() + b"\n")
            reply = json.loads(conn.makefile("rb").readline())
        return reply if isinstance(reply, dict) else None
    except (OSError, ValueError):
        start_server(path)
        return None


def start_server(path: Path) -> None:
    """Start a server on ``path`` in the background (it exits at once if one runs)."""
    subprocess.Popen(
        [sys.executable, "-m", "clusterlab.services.job_server", str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def preload() -> None:
    """Import what workers and model views use, and compile one Ibis expression (its
    compiler loads more modules on first use). Nothing here starts a thread pool.

    The web server runs it in a background thread too: importing skops alone took ~3 s
    (it lists every scikit-learn estimator), which the first model view paid.
    """
    import ibis
    import ibis.backends.duckdb  # 0.7 s on a report's first query
    import pandas as pd
    import plotly.colors  # noqa: F401  (the reports' default cluster colors)
    import pyarrow.dataset  # read_table of a dataset's files: ~20 ms on first use
    import pyarrow.parquet  # noqa: F401
    import sklearn.cluster
    import sklearn.ensemble
    import sklearn.tree  # noqa: F401
    import skops.io  # noqa: F401

    import clusterlab.ml.stability
    import clusterlab.services.build
    import clusterlab.services.lab
    import clusterlab.services.worker  # noqa: F401
    from clusterlab.ml.artifacts import library_versions

    library_versions()  # read from package metadata once, for every worker
    # scikit-learn reads a frame's column names through narwhals, whose pandas support
    # loads on first use (~20 ms in each training job otherwise).
    from sklearn.preprocessing import StandardScaler

    StandardScaler().fit(pd.DataFrame({"x": [0.0, 1.0]}))
    _ = ibis.duckdb  # loads the backend through its entry point
    table = ibis.table({"x": "float64", "c": "string"}, name="t")
    ibis.to_sql(table.group_by("c").agg(m=table.x.mean(), n=table.count()), dialect="duckdb")


def _run_child(inherited: list[Any], request: dict[str, Any]) -> None:
    """In the forked child: become the job's worker, then exit with its code."""
    code = 1
    try:
        # The server's socket and lock stay the server's alone: a worker outliving the
        # server must not keep the next server from taking the lock.
        for handle in inherited:
            handle.close()
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(request["env"])
        with contextlib.suppress(OSError):  # the caller's folder may be gone already
            os.chdir(request["cwd"])
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        from clusterlab.services.worker import run

        code = run(request["home"], request["job"])
    finally:
        os._exit(code)


def _peer_is_us(conn: socket.socket) -> bool:
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
    return int.from_bytes(creds[4:8], sys.byteorder) == os.getuid()


def serve(path: Path) -> None:
    """Serve worker requests on ``path`` until idle for `IDLE_SECONDS`."""
    with open(path.with_suffix(".lock"), "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another server has this code's socket
        preload()
        os.chdir("/")  # hold no caller's folder for the server's lifetime
        # Forked workers are reaped by the kernel: none lingers as a zombie that would
        # look alive to the jobs runner.
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(str(path))
            listener.listen(16)
            listener.settimeout(IDLE_SECONDS)
            try:
                _accept_loop(listener, lock)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()


def _accept_loop(listener: socket.socket, lock: Any) -> None:
    while True:
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            return
        with conn:
            if not _peer_is_us(conn):
                continue
            conn.settimeout(CONNECT_SECONDS)
            try:
                request = json.loads(conn.makefile("rb").readline())
            except (OSError, ValueError):
                continue  # a probe (`warm_up`) or a broken request: nothing to start
            if not isinstance(request, dict) or not request.keys() >= REQUEST_KEYS:
                continue
            pid = os.fork()
            if pid == 0:
                _run_child([conn, listener, lock], request)
            with contextlib.suppress(OSError):
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
