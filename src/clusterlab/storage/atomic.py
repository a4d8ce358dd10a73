"""Atomic file operations: a reader sees the old or the new content, never a partial one."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Flush a directory entry so a rename in it survives a crash."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_dir(path.parent)


def remove_tree_atomic(path: Path, trash: Path) -> None:
    """Make ``path`` disappear at once (rename into ``trash``), then delete it."""
    if not path.exists():
        return
    trash.mkdir(parents=True, exist_ok=True)
    target = trash / f"{path.name}.{uuid.uuid4().hex[:8]}"
    os.replace(path, target)
    shutil.rmtree(target, ignore_errors=True)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id is running on this machine.

    A zombie (exited, not yet reaped by its parent) counts as dead: its work is over.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    # The state letter follows the command name, which is in parentheses.
    return stat.rpartition(")")[2].split()[:1] != ["Z"]
