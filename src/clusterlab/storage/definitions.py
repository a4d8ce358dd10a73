"""Definitions (project, datasets, ...) as JSON files validated by the core specs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from clusterlab.core.dataset import DatasetSpec, ProjectSpec
from clusterlab.core.errors import NotFoundError, StorageError
from clusterlab.core.recipes import RecipeSpec
from clusterlab.storage.atomic import write_text_atomic
from clusterlab.storage.layout import WorkspaceLayout

M = TypeVar("M", bound=BaseModel)


def read_model(path: Path, model: type[M], what: str) -> M:
    """Read and validate one definition file."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError(f"{what} does not exist.") from None
    try:
        return model.model_validate(json.loads(raw))
    except (ValueError, ValidationError) as exc:
        raise StorageError(
            f"The definition of {what} is damaged ({path.name}: {exc}). "
            "Restore it from a project export or delete it."
        ) from exc


def write_model(path: Path, spec: BaseModel) -> None:
    """Write one definition file atomically, as indented JSON for readable diffs."""
    write_text_atomic(path, spec.model_dump_json(indent=2) + "\n")


class DefinitionStore:
    """Project and dataset definitions of a workspace."""

    def __init__(self, layout: WorkspaceLayout) -> None:
        self.layout = layout

    def project_keys(self) -> list[str]:
        root = self.layout.projects_dir
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if (p / "project.json").is_file())

    def read_project(self, key: str) -> ProjectSpec:
        return read_model(self.layout.project_file(key), ProjectSpec, f"Project {key}")

    def write_project(self, spec: ProjectSpec) -> None:
        write_model(self.layout.project_file(spec.key), spec)

    def dataset_names(self, key: str) -> list[str]:
        folder = self.layout.datasets_dir(key)
        if not folder.is_dir():
            return []
        return sorted(p.stem for p in folder.glob("*.json"))

    def read_dataset(self, key: str, name: str) -> DatasetSpec:
        return read_model(
            self.layout.dataset_file(key, name), DatasetSpec, f"Dataset {name!r} of project {key}"
        )

    def write_dataset(self, key: str, spec: DatasetSpec) -> None:
        write_model(self.layout.dataset_file(key, spec.name), spec)

    def delete_dataset(self, key: str, name: str) -> None:
        self.layout.dataset_file(key, name).unlink(missing_ok=True)

    def recipe_names(self, key: str) -> list[str]:
        folder = self.layout.recipes_dir(key)
        if not folder.is_dir():
            return []
        return sorted(p.stem for p in folder.glob("*.json"))

    def read_recipe(self, key: str, name: str) -> RecipeSpec:
        return read_model(
            self.layout.recipe_file(key, name), RecipeSpec, f"Recipe {name!r} of project {key}"
        )

    def write_recipe(self, key: str, spec: RecipeSpec) -> None:
        write_model(self.layout.recipe_file(key, spec.name), spec)

    def delete_recipe(self, key: str, name: str) -> None:
        self.layout.recipe_file(key, name).unlink(missing_ok=True)
