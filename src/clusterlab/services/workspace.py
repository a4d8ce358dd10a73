"""The workspace: one data directory holding projects and runtime state."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from functools import cached_property
from pathlib import Path

from clusterlab.core.dataset import ProjectSpec
from clusterlab.core.errors import AlreadyExistsError, NotFoundError, StorageError
from clusterlab.core.ids import validate_project_key
from clusterlab.services.project import Project
from clusterlab.settings import Settings
from clusterlab.storage.archive import export_project, import_project
from clusterlab.storage.atomic import pid_alive, remove_tree_atomic, write_text_atomic
from clusterlab.storage.definitions import DefinitionStore
from clusterlab.storage.layout import WorkspaceLayout
from clusterlab.storage.runtime import RuntimeDB

WORKSPACE_FORMAT = 1


class Workspace:
    """Open (or create) the workspace at ``path``.

    ``path`` defaults to ``CLUSTERLAB_HOME``, else ``./clusterlab-data``.

    Examples
    --------
    >>> import clusterlab as cl, tempfile
    >>> ws = cl.Workspace(tempfile.mkdtemp())
    >>> ws.create_project("CLUSTERING").key
    'CLUSTERING'
    >>> [p.key for p in ws.projects()]
    ['CLUSTERING']
    """

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, settings: Settings | None = None
    ) -> None:
        self.settings = settings or Settings.from_env(home=path)
        self.layout = WorkspaceLayout(Path(self.settings.home).expanduser().resolve())
        self.definitions = DefinitionStore(self.layout)
        self._ensure_created()
        self._clean_work_areas()

    def __repr__(self) -> str:
        return f"Workspace({str(self.home)!r})"

    @property
    def home(self) -> Path:
        """The workspace directory."""
        return self.layout.home

    def _ensure_created(self) -> None:
        marker = self.layout.marker
        if marker.is_file():
            try:
                fmt = json.loads(marker.read_text(encoding="utf-8")).get("format")
            except ValueError as exc:
                raise StorageError(f"{marker} is damaged: {exc}.") from exc
            if fmt != WORKSPACE_FORMAT:
                raise StorageError(
                    f"{self.home} is a workspace of format {fmt}; this ClusterLab reads "
                    f"format {WORKSPACE_FORMAT}."
                )
            return
        if self.home.exists() and any(self.home.iterdir()):
            raise StorageError(
                f"{self.home} is not empty and is not a ClusterLab workspace: "
                "choose an empty or new folder (--home, CLUSTERLAB_HOME)."
            )
        self.layout.projects_dir.mkdir(parents=True, exist_ok=True)
        write_text_atomic(marker, json.dumps({"format": WORKSPACE_FORMAT}) + "\n")

    def _clean_work_areas(self) -> None:
        """Remove scratch and staging folders left by processes that died, and the trash."""
        staging = self.layout.staging_dir
        if staging.is_dir():
            for entry in staging.iterdir():
                pid = entry.name.split("-")[1] if entry.name.count("-") >= 2 else ""
                if not pid.isdigit() or not pid_alive(int(pid)):
                    shutil.rmtree(entry, ignore_errors=True)
        if self.layout.trash_dir.is_dir():
            shutil.rmtree(self.layout.trash_dir, ignore_errors=True)

    @cached_property
    def runtime(self) -> RuntimeDB:
        """Jobs and their logs (SQLite, WAL)."""
        return RuntimeDB(self.layout.runtime_db)

    def scratch_dir(self) -> Path:
        """A new private folder for temporary files, on the workspace's file system."""
        path = self.layout.staging_dir / f"scratch-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        path.mkdir(parents=True)
        return path

    # -- projects ---------------------------------------------------------------

    def projects(self) -> list[Project]:
        """All projects, by KEY."""
        return [
            Project(self, self.definitions.read_project(k)) for k in self.definitions.project_keys()
        ]

    def project(self, key: str) -> Project:
        """The project with this KEY; `NotFoundError` if there is none."""
        validate_project_key(key)
        keys = self.definitions.project_keys()
        if key not in keys:
            listed = ", ".join(keys) if keys else "none yet"
            raise NotFoundError(f"No project {key} in {self.home} (projects: {listed}).")
        return Project(self, self.definitions.read_project(key))

    def create_project(
        self,
        key: str,
        name: str | None = None,
        description: str = "",
        *,
        starter: str | None = None,
        rows: int | None = None,
    ) -> Project:
        """Create a project, empty or from a starter (``starter="weblogs"``).

        ``rows`` scales a starter's generated data (page views for ``weblogs``).
        `AlreadyExistsError` if the KEY is taken.
        """
        validate_project_key(key)
        if key in self.definitions.project_keys():
            raise AlreadyExistsError(
                f"Project {key} already exists: choose another KEY or delete it first."
            )
        if starter is not None:
            from clusterlab.services.starter import create_starter

            return create_starter(self, key, starter, page_views=rows)
        spec = ProjectSpec(
            key=key, name=name or key.replace("_", " ").title(), description=description
        )
        self.definitions.write_project(spec)
        return Project(self, spec)

    def rename_project(self, key: str, name: str) -> Project:
        """Change a project's display name (the KEY never changes: it is its identity)."""
        if not name.strip():
            raise StorageError("A project name cannot be empty.")
        spec = self.project(key).spec.model_copy(update={"name": name.strip()})
        self.definitions.write_project(spec)
        return Project(self, spec)

    def delete_project(self, key: str) -> None:
        """Delete a project and everything in it."""
        self.project(key)
        remove_tree_atomic(self.layout.project_dir(key), self.layout.trash_dir)

    def export_project(self, key: str, dest: str | os.PathLike[str]) -> Path:
        """Write the project (definitions and current data) to a zip archive."""
        self.project(key)
        return export_project(self.layout.project_dir(key), Path(dest))

    def import_project(self, archive: str | os.PathLike[str], key: str | None = None) -> Project:
        """Import a project zip made by `export_project`, optionally under a new KEY."""
        if key is not None:
            validate_project_key(key)
        imported = import_project(
            Path(archive),
            self.layout,
            key=key,
            max_bytes=self.settings.max_archive_bytes,
            max_members=self.settings.max_archive_members,
        )
        return self.project(imported)
