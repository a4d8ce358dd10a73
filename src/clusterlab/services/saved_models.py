"""Saved models of a project: versions, the active one, activation and roll back.

Layout: ``saved_models/<id>/saved_model.json`` (the spec, with the active version)
and ``versions/v<n>/`` (artifact, manifest, report, clusters, matching, version
info). A version folder is written in staging and renamed into place whole, then the
spec is rewritten atomically to activate it: readers see the old or the new active
version, never a half-written one.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from clusterlab.core.deploy import SavedModelSpec, VersionInfo
from clusterlab.core.errors import (
    AlreadyExistsError,
    InvalidInputError,
    NotFoundError,
    UnsupportedError,
)
from clusterlab.core.lab import ClusterMeta
from clusterlab.ml.artifacts import load_model, read_manifest
from clusterlab.ml.model import DISTANCE_COLUMN, LABEL_COLUMN, ClusteringModel, rename_labels
from clusterlab.ml.report import ClusterReport
from clusterlab.services.model_store import CLUSTERS_FILE, REPORT_FILE
from clusterlab.storage.definitions import read_model, write_model

if TYPE_CHECKING:
    from clusterlab.services.model_report import ModelReport
    from clusterlab.services.project import Project
    from clusterlab.storage.runtime import Job

SPEC_FILE = "saved_model.json"
VERSION_FILE = "version.json"
MATCHING_FILE = "matching.json"
RUNS_FILE = "apply_runs.jsonl"
CLUSTER_ID_COLUMN = "cluster_id"


class SavedModelVersion:
    """One version of a saved model: its info, clusters, report and scoring."""

    def __init__(self, saved_model: SavedModel, folder: Path) -> None:
        self.saved_model = saved_model
        self.folder = folder
        self.info = read_model(folder / VERSION_FILE, VersionInfo, f"Version {folder.name}")

    def __repr__(self) -> str:
        return f"SavedModelVersion({self.saved_model.id!r}, {self.id!r})"

    @property
    def id(self) -> str:
        return self.info.id

    @property
    def active(self) -> bool:
        """Whether apply recipes score with this version."""
        return self.saved_model.spec.active == self.id

    @property
    def clusters(self) -> list[ClusterMeta]:
        """Name, color and description of each cluster of this version."""
        raw = json.loads((self.folder / CLUSTERS_FILE).read_text(encoding="utf-8"))
        return [ClusterMeta.model_validate(c) for c in raw]

    def names(self) -> dict[str, str]:
        """Cluster id (the name the algorithm gave) → the analyst's name."""
        return {c.id: c.name for c in self.clusters}

    @property
    def report(self) -> ModelReport:
        """The version's model report, with its cluster names."""
        from clusterlab.services.model_report import ModelReport

        data = ClusterReport.model_validate_json((self.folder / REPORT_FILE).read_text())
        return ModelReport(data, self.names())

    @property
    def matching(self) -> dict[str, Any] | None:
        """How this version's clusters match the previous active version's, if any."""
        path = self.folder / MATCHING_FILE
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None

    @property
    def flavor(self) -> str:
        """``sklearn`` (trained on the local engine) or ``spark`` (a pyspark.ml pipeline)."""
        return read_manifest(self.folder).flavor

    def load(self) -> ClusteringModel:
        """The fitted model; refuses an artifact whose sha256 is not the manifest's."""
        if self.flavor == "spark":
            raise UnsupportedError(
                f"{self.saved_model.name} {self.id} was trained on Spark: it is a pyspark.ml "
                "pipeline, not a scikit-learn model, and is scored by Spark. Use predict(), "
                "or apply it in a build on the Spark engine."
            )
        return load_model(self.folder)

    def predict(self, frame: pd.DataFrame, *, with_distance: bool = True) -> pd.DataFrame:
        """Score ``frame``: ``cluster_labels`` (names), ``cluster_id``, and the distance.

        A Spark-trained version is scored by this process's SparkSession; it has no
        training centroids, so its ``cluster_distance`` is empty.
        """
        if self.flavor == "spark":
            from clusterlab.services.spark_training import predict_on_spark

            ids = predict_on_spark(self.folder, frame)
            return _named(ids.to_frame(LABEL_COLUMN), self.names(), frame, with_distance)
        return score_frame(self.load(), self.names(), frame, with_distance=with_distance)


def score_frame(
    model: ClusteringModel,
    names: dict[str, str],
    frame: pd.DataFrame,
    *,
    with_distance: bool = True,
) -> pd.DataFrame:
    """The columns an apply run adds to ``frame``: names, ids, distance, anomaly score.

    ``cluster_id`` is the name the algorithm gave (stable across renames);
    ``cluster_labels`` is the analyst's name for it.
    """
    return _named(model.predict(frame, with_distance=with_distance), names, frame, with_distance)


def _named(
    scored: pd.DataFrame, names: dict[str, str], frame: pd.DataFrame, with_distance: bool
) -> pd.DataFrame:
    ids = scored[LABEL_COLUMN]
    out = pd.DataFrame(index=frame.index)
    out[LABEL_COLUMN] = rename_labels(ids, names)
    out[CLUSTER_ID_COLUMN] = ids.where(ids.notna(), None).astype(object)
    for column in scored.columns:
        if column != LABEL_COLUMN:
            out[column] = scored[column]
    if with_distance and DISTANCE_COLUMN not in out:
        out[DISTANCE_COLUMN] = float("nan")
    return out


class SavedModel:
    """A model deployed to the Flow: versions, one active, written by a train recipe."""

    def __init__(self, project: Project, spec: SavedModelSpec) -> None:
        self.project = project
        self.spec = spec

    def __repr__(self) -> str:
        active = self.spec.active or "no active version"
        return f"SavedModel({self.id!r}, {active})"

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def folder(self) -> Path:
        return self.project.workspace.layout.saved_model_dir(self.project.key, self.id)

    @property
    def versions(self) -> list[SavedModelVersion]:
        """Every version, oldest first."""
        root = self.folder / "versions"
        if not root.is_dir():
            return []
        found = [p for p in root.iterdir() if p.name.startswith("v") and p.name[1:].isdigit()]
        return [SavedModelVersion(self, p) for p in sorted(found, key=lambda p: int(p.name[1:]))]

    def version(self, version_id: str) -> SavedModelVersion:
        """The version ``version_id`` (e.g. ``"v2"``)."""
        for version in self.versions:
            if version.id == version_id:
                return version
        known = ", ".join(v.id for v in self.versions) or "none"
        raise NotFoundError(
            f"Saved model {self.id!r} has no version {version_id!r} (versions: {known})."
        )

    @property
    def active(self) -> SavedModelVersion:
        """The version apply recipes score with."""
        if self.spec.active is None:
            raise NotFoundError(
                f"Saved model {self.id!r} has no active version yet: run its train recipe."
            )
        return self.version(self.spec.active)

    def activate(self, version_id: str) -> SavedModel:
        """Make ``version_id`` the version apply recipes use (activate or roll back)."""
        self.version(version_id)
        self.spec = self.spec.model_copy(update={"active": version_id})
        write_model(self.folder / SPEC_FILE, self.spec)
        return self

    def rollback(self) -> SavedModel:
        """Activate the version before the active one."""
        ids = [v.id for v in self.versions]
        position = ids.index(self.active.id)
        if position == 0:
            raise InvalidInputError(
                f"Version {ids[0]} of saved model {self.id!r} is its first: there is no "
                "earlier version to roll back to."
            )
        return self.activate(ids[position - 1])

    @property
    def train_recipe(self) -> str | None:
        """The recipe writing this saved model, if any."""
        return self.project.flow().producer.get(self.id)

    def retrain(self, on_update: Callable[[Job], None] | None = None) -> SavedModelVersion:
        """Run the train recipe on the current data; its new version becomes active."""
        if self.train_recipe is None:
            raise InvalidInputError(
                f"Saved model {self.id!r} has no train recipe: deploy it from a Lab model."
            )
        self.project.build(self.id, force=True, on_update=on_update)
        return self._reloaded().active

    def _reloaded(self) -> SavedModel:
        self.spec = read_model(self.folder / SPEC_FILE, SavedModelSpec, f"Saved model {self.id}")
        return self

    def predict(self, frame: pd.DataFrame, *, with_distance: bool = True) -> pd.DataFrame:
        """Score ``frame`` with the active version (see `SavedModelVersion.predict`)."""
        return self.active.predict(frame, with_distance=with_distance)

    def apply_runs(self) -> list[dict[str, Any]]:
        """What each apply run recorded: rows, cluster shares, distances, drift warnings."""
        path = self.folder / RUNS_FILE
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]

    def record_apply_run(self, entry: dict[str, Any]) -> None:
        """Append one apply run's record (one JSON line, written whole)."""
        line = json.dumps(entry, default=str) + "\n"
        with open(self.folder / RUNS_FILE, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())


def list_saved_models(project: Project) -> list[SavedModel]:
    """Every saved model of the project, by id."""
    root = project.workspace.layout.saved_models_dir(project.key)
    if not root.is_dir():
        return []
    return [
        SavedModel(project, read_model(p / SPEC_FILE, SavedModelSpec, f"Saved model {p.name}"))
        for p in sorted(root.iterdir())
        if (p / SPEC_FILE).is_file()
    ]


def open_saved_model(project: Project, id_or_name: str) -> SavedModel:
    """The saved model whose id or display name is ``id_or_name``."""
    models = list_saved_models(project)
    for model in models:
        if id_or_name in (model.id, model.name):
            return model
    known = ", ".join(m.id for m in models) or "none"
    raise NotFoundError(
        f"Project {project.key} has no saved model {id_or_name!r} (saved models: {known})."
    )


def create_saved_model(project: Project, spec: SavedModelSpec) -> SavedModel:
    """Write a new saved model's spec; refuses an id already used by a dataset or model."""
    if project.has_dataset(spec.id) or any(m.id == spec.id for m in list_saved_models(project)):
        raise AlreadyExistsError(
            f"{spec.id!r} is already a dataset or saved model of project {project.key}: "
            "choose another name for the saved model."
        )
    saved = SavedModel(project, spec)
    write_model(saved.folder / SPEC_FILE, spec)
    return saved


def publish_version(
    saved: SavedModel, fill: Callable[[Path, str], VersionInfo], *, activate: bool = True
) -> SavedModelVersion:
    """Write a new version with ``fill(staging_folder, version_id)`` and publish it whole."""
    root = saved.folder / "versions"
    root.mkdir(parents=True, exist_ok=True)
    number = 1 + max((int(v.id[1:]) for v in saved.versions), default=0)
    version_id = f"v{number}"
    staging = root / f".staging-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    staging.mkdir()
    try:
        info = fill(staging, version_id)
        write_model(staging / VERSION_FILE, info)
        os.replace(staging, root / version_id)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if activate:
        saved.activate(version_id)
    return saved.version(version_id)
