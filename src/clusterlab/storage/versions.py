"""Versioned dataset storage: immutable version folders and an atomically swapped pointer.

A writer fills a staging folder; only when it is complete is the folder renamed to
``v-<id>`` and ``CURRENT`` replaced to name it. A process killed at any moment leaves
``CURRENT`` naming the previous, complete version; its staging folder is removed by
the next garbage collection once its process is gone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from clusterlab.storage.atomic import fsync_dir, pid_alive, write_text_atomic

_STAGING = ".staging-"
_VERSION = "v-"


class VersionStore:
    """The versions of one managed dataset, in ``data_dir``."""

    def __init__(self, data_dir: Path, kept_versions: int = 1) -> None:
        self.data_dir = data_dir
        self.kept_versions = kept_versions

    @property
    def pointer(self) -> Path:
        return self.data_dir / "CURRENT"

    def current(self) -> Path | None:
        """The folder of the readable version, or ``None`` if nothing was published."""
        try:
            name = self.pointer.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        path = self.data_dir / name
        return path if name.startswith(_VERSION) and path.is_dir() else None

    def versions(self) -> list[Path]:
        """Published version folders, oldest first."""
        if not self.data_dir.is_dir():
            return []
        return sorted(p for p in self.data_dir.iterdir() if p.name.startswith(_VERSION))

    @contextlib.contextmanager
    def new_version(self) -> Iterator[Path]:
        """Yield an empty staging folder; publish it if the block succeeds.

        On an exception the staging folder is removed and ``CURRENT`` is untouched.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        staging = self.data_dir / f"{_STAGING}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        staging.mkdir()
        try:
            yield staging
            for entry in staging.iterdir():
                if entry.is_file():
                    with open(entry, "rb") as fh:
                        os.fsync(fh.fileno())
            version = self.data_dir / f"{_VERSION}{time.time_ns():020d}-{uuid.uuid4().hex[:6]}"
            os.replace(staging, version)
            fsync_dir(self.data_dir)
            write_text_atomic(self.pointer, version.name)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        self.collect_garbage()

    def collect_garbage(self) -> None:
        """Remove versions beyond the kept ones and staging folders of dead processes."""
        if not self.data_dir.is_dir():
            return
        current = self.current()
        older = [v for v in self.versions() if v != current]
        keep = set(older[-self.kept_versions :]) if self.kept_versions > 0 else set()
        for version in older:
            if version not in keep:
                shutil.rmtree(version, ignore_errors=True)
        for entry in self.data_dir.iterdir():
            if entry.name.startswith(_STAGING):
                pid = entry.name[len(_STAGING) :].split("-", 1)[0]
                if not pid.isdigit() or not pid_alive(int(pid)):
                    shutil.rmtree(entry, ignore_errors=True)
