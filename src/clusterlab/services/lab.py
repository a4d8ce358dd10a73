"""The Lab: AutoML clustering tasks, their training sessions, models and reports.

Training runs as a job (`run_training` in the worker process); a session folder is
written in staging and renamed into place whole, so a failed or killed training never
leaves a half-written session.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from clusterlab.core.errors import (
    InvalidInputError,
    InvalidNameError,
    NotFoundError,
    UnsupportedError,
)
from clusterlab.core.lab import ClusterMeta, ModelSummary, SessionSummary, TaskSpec
from clusterlab.core.mltask import (
    AlgorithmType,
    CustomSpec,
    FeatureRole,
    ModelParams,
    TaskDesign,
)
from clusterlab.engines.capabilities import engine_name
from clusterlab.ml.artifacts import load_model, read_manifest
from clusterlab.ml.guess import guess_design
from clusterlab.ml.model import rename_labels
from clusterlab.ml.report import ClusterReport
from clusterlab.ml.stability import KRecommendation
from clusterlab.ml.training import prepare_session, report_features
from clusterlab.services.jobs import run_job, start_job
from clusterlab.services.lab_engine import check_design_change, refuse_unsupported
from clusterlab.services.lab_training import train_and_write
from clusterlab.services.model_report import ModelReport
from clusterlab.services.model_store import (
    CLUSTERS_FILE,
    complete_report,
    read_report,
    write_json,
)
from clusterlab.services.training_sample import prune_samples, read_sample, training_sample
from clusterlab.storage.definitions import read_model, write_model
from clusterlab.storage.runtime import Job

if TYPE_CHECKING:
    from clusterlab.services.project import Project
    from clusterlab.services.saved_models import SavedModel

TASK_FILE = "task.json"
CHOOSE_K_FILE = "choose_k.json"
SESSION_FILE = "session.json"


class ClusteringTask:
    """An AutoML clustering task on one dataset (Lab → AutoML Clustering)."""

    def __init__(self, project: Project, spec: TaskSpec) -> None:
        self.project = project
        self.spec = spec

    def __repr__(self) -> str:
        return f"ClusteringTask({self.id!r} on {self.spec.dataset!r})"

    @property
    def id(self) -> str:
        """The task's id."""
        return self.spec.id

    @property
    def folder(self) -> Path:
        return self.project.workspace.layout.analysis_dir(self.project.key, self.id)

    @property
    def design(self) -> TaskDesign:
        """Features handling, algorithms, reduction, outliers, sampling and metrics."""
        return self.spec.design

    @property
    def engine(self) -> str:
        """The engine sessions train on: the task's own, else its project's."""
        return self.spec.engine or self.project.engine

    def set_engine(self, engine: str | None) -> ClusteringTask:
        """Train later sessions on ``engine`` (``local``, ``spark``; None: the project's).

        Refused while the design uses what that engine cannot train, naming each item.
        """
        name = None if engine is None else engine_name(engine)
        chosen = name or self.project.engine
        refuse_unsupported(
            chosen,
            self.design,
            f"Task {self.id} cannot switch to the {chosen} engine while its design uses "
            "what that engine cannot train",
            "Disable or change these items first, then switch.",
        )
        self.spec = self.spec.model_copy(update={"engine": name})
        write_model(self.folder / TASK_FILE, self.spec)
        return self

    def _save(self, design: TaskDesign) -> ClusteringTask:
        check_design_change(self.engine, self.design, design)
        self.spec = self.spec.model_copy(update={"design": design})
        write_model(self.folder / TASK_FILE, self.spec)
        return self

    def _set_role(self, column: str, role: FeatureRole) -> ClusteringTask:
        self.design.feature(column)
        features = tuple(
            f.model_copy(update={"role": role, "reject_reason": None}) if f.name == column else f
            for f in self.design.features
        )
        return self._save(self.design.model_copy(update={"features": features}))

    def update_design(self, design: TaskDesign) -> ClusteringTask:
        """Replace the whole design (the UI's design tabs save it at once)."""
        known = {f.name for f in self.design.features}
        if missing := [f.name for f in design.features if f.name not in known]:
            raise InvalidInputError(
                f"The design names column(s) {', '.join(map(repr, missing))}, which dataset "
                f"{self.spec.dataset!r} does not have."
            )
        return self._save(design)

    def reject_feature(self, column: str) -> ClusteringTask:
        """Do not use ``column`` to fit the models."""
        return self._set_role(column, FeatureRole.REJECT)

    def use_feature(self, column: str) -> ClusteringTask:
        """Use ``column`` as an input of the models."""
        return self._set_role(column, FeatureRole.INPUT)

    def set_algorithm(self, name: str, /, **params: Any) -> ClusteringTask:
        """Enable algorithm ``name`` with these params, e.g. ``("kmeans", k=[3, 5, 7])``.

        A custom model takes ``name=`` (its display name) and ``code=`` (defining ``clf``).
        """
        try:
            kind = AlgorithmType(name)
        except ValueError:
            known = ", ".join(a.value for a in AlgorithmType)
            raise InvalidInputError(f"Unknown algorithm {name!r}: choose one of {known}.") from None
        algorithms = []
        found = False
        for algo in self.design.algorithms:
            if algo.type == kind:
                found = True
                data = {**algo.model_dump(), **params, "enabled": True}
                try:
                    algo = type(algo).model_validate(data)
                except ValueError as exc:
                    raise InvalidInputError(f"Invalid parameters for {name}: {exc}") from None
            algorithms.append(algo)
        if not found and kind is AlgorithmType.CUSTOM:
            try:
                algorithms.append(CustomSpec.model_validate(params))
            except ValueError as exc:
                raise InvalidInputError(f"Invalid custom model: {exc}") from None
        elif not found:
            raise InvalidInputError(f"Algorithm {name!r} is not available in this task's design.")
        return self._save(self.design.model_copy(update={"algorithms": tuple(algorithms)}))

    def disable_algorithm(self, name: str) -> ClusteringTask:
        """Stop training algorithm ``name`` in later sessions."""
        algorithms = tuple(
            a.model_copy(update={"enabled": False}) if a.type == name else a
            for a in self.design.algorithms
        )
        return self._save(self.design.model_copy(update={"algorithms": algorithms}))

    def _check_trainable(self) -> None:
        rows = self.project.dataset(self.spec.dataset).rows
        if rows < 2:
            raise InvalidInputError(
                f"Dataset {self.spec.dataset!r} has {rows} row(s): clustering needs at least 2."
            )
        if not self.design.grid():
            raise InvalidInputError("No algorithm is enabled: enable one with set_algorithm().")
        if not self.design.input_names:
            raise InvalidInputError(
                "Every column is rejected: use at least one as input (Python: "
                "task.use_feature(column); CLI: clusterlab lab design PROJECT TASK --use "
                "COLUMN; UI: the column's role in the design's features)."
            )
        refuse_unsupported(
            self.engine,
            self.design,
            f"Task {self.id} trains on the {self.engine} engine, so no job was started",
            "Disable or change these items, or train on the local engine "
            "(task.set_engine('local')).",
        )

    def train(self, on_update: Callable[[Job], None] | None = None) -> Session:
        """Train one model per grid entry as a job; blocks and returns the session."""
        self._check_trainable()
        run_job(self.project.workspace, "train", self.project.key, {"task": self.id}, on_update)
        return self.sessions()[-1]

    def start_training(self) -> Job:
        """Start training as a job and return at once (the UI polls the job)."""
        self._check_trainable()
        return start_job(self.project.workspace, "train", self.project.key, {"task": self.id})

    def sessions(self) -> list[Session]:
        """The task's training sessions, oldest first."""
        root = self.folder / "sessions"
        if not root.is_dir():
            return []
        numbers = sorted(int(p.name) for p in root.iterdir() if p.name.isdigit())
        return [Session(self, root / str(n)) for n in numbers]


class Session:
    """One training session: a model per (algorithm, parameter value, PCA variant)."""

    def __init__(self, task: ClusteringTask, folder: Path) -> None:
        self.task = task
        self.folder = folder
        self.summary = read_model(folder / SESSION_FILE, SessionSummary, f"Session {folder.name}")

    def __repr__(self) -> str:
        return f"Session({self.summary.number}, {len(self.models)} models)"

    @property
    def models(self) -> list[Model]:
        """Models in grid order, failed ones included (their ``error`` says why)."""
        return [Model(self, s) for s in self.summary.models]

    def best(self, metric: str = "silhouette") -> Model:
        """The best trained model by ``metric`` (lower is better for inertia and Davies-Bouldin)."""
        lower = metric in {"inertia", "davies_bouldin", "bic", "aic"}
        scored = [m for m in self.models if m.metrics.get(metric) is not None]
        if not scored:
            raise InvalidInputError(f"No model of this session has the metric {metric!r}.")
        return sorted(scored, key=lambda m: m.metrics[metric] * (1 if lower else -1))[0]

    def choose_k(self) -> KRecommendation | None:
        """Evidence for choosing k: stability per k (bootstrap ARI) beside silhouette
        and Davies-Bouldin, and the recommended k with its reason."""
        path = self.folder / CHOOSE_K_FILE
        if not path.is_file():
            return None
        return KRecommendation.model_validate_json(path.read_text(encoding="utf-8"))

    def results(self) -> pd.DataFrame:
        """The results table: one row per model with its metrics."""
        rows = [
            {"model": m.id, "label": m.summary.label, **m.metrics, "error": m.error}
            for m in self.models
        ]
        return pd.DataFrame(rows)


class Model:
    """A trained model of a session: metrics, scoring, report, cluster names."""

    def __init__(self, session: Session, summary: ModelSummary) -> None:
        self.session = session
        self.summary = summary
        self.folder = session.folder / summary.id

    def __repr__(self) -> str:
        return f"Model({self.summary.label})"

    @property
    def id(self) -> str:
        return self.summary.id

    @property
    def algorithm(self) -> str:
        return self.summary.algorithm

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.summary.params)

    @property
    def model_params(self) -> ModelParams:
        """The algorithm, its resolved parameters and the PCA variant, as one spec."""
        return ModelParams(
            algorithm=self.summary.algorithm, params=self.params, pca=bool(self.summary.pca)
        )

    @property
    def metrics(self) -> dict[str, Any]:
        return dict(self.summary.metrics)

    @property
    def error(self) -> str | None:
        return self.summary.error

    def _require_trained(self) -> None:
        if self.error is not None:
            raise InvalidInputError(f"{self.summary.label} failed to train: {self.error}")

    @property
    def flavor(self) -> str:
        """How the model is stored: ``sklearn`` (local engine) or ``spark``."""
        self._require_trained()
        return read_manifest(self.folder).flavor

    @property
    def clusters(self) -> list[ClusterMeta]:
        """Name, color and description of each cluster."""
        self._require_trained()
        raw = json.loads((self.folder / CLUSTERS_FILE).read_text(encoding="utf-8"))
        return [ClusterMeta.model_validate(c) for c in raw]

    def _names(self) -> dict[str, str]:
        return {c.id: c.name for c in self.clusters}

    def rename_cluster(self, old: str, new: str, description: str | None = None) -> Model:
        """Rename a cluster; names are non-empty and unique within the model."""
        new = new.strip()
        clusters = self.clusters
        names = [c.name for c in clusters]
        if old not in names:
            raise NotFoundError(f"No cluster {old!r} in this model (clusters: {', '.join(names)}).")
        if not new:
            raise InvalidNameError("A cluster name cannot be empty.")
        if new != old and new in names:
            raise InvalidNameError(f"Another cluster is already named {new!r}: names are unique.")
        updated = [
            c.model_copy(
                update={
                    "name": new,
                    "description": c.description if description is None else description,
                }
            )
            if c.name == old
            else c
            for c in clusters
        ]
        write_json(self.folder / CLUSTERS_FILE, [c.model_dump() for c in updated])
        return self

    def update_cluster(
        self,
        cluster_id: str,
        *,
        name: str | None = None,
        color: str | None = None,
        description: str | None = None,
    ) -> Model:
        """Change a cluster's name, color or description, found by its id (``cluster_0``)."""
        current = {c.id: c for c in self.clusters}
        if cluster_id not in current:
            raise NotFoundError(
                f"No cluster {cluster_id!r} in this model (ids: {', '.join(current)})."
            )
        if name is not None:
            self.rename_cluster(current[cluster_id].name, name)
        clusters = self.clusters
        if color is not None and not re.fullmatch(r"#[0-9A-Fa-f]{6}", color):
            raise InvalidInputError(f"Color {color!r} is not a #RRGGBB color, e.g. #636EFA.")
        updated = [
            c.model_copy(
                update={
                    "color": c.color if color is None else color,
                    "description": c.description if description is None else description,
                }
            )
            if c.id == cluster_id
            else c
            for c in clusters
        ]
        write_json(self.folder / CLUSTERS_FILE, [c.model_dump() for c in updated])
        return self

    def apply_suggested_names(self) -> Model:
        """Name every cluster after its top observation (e.g. "High count").

        Clusters without a suggestion keep their name; when two suggestions collide,
        the later cluster gets a number appended so names stay unique.
        """
        clusters = self.clusters
        taken: set[str] = set()
        updated = []
        for c in clusters:
            name = c.suggested_name or c.name
            candidate, n = name, 2
            while candidate in taken:
                candidate, n = f"{name} {n}", n + 1
            taken.add(candidate)
            updated.append(c.model_copy(update={"name": candidate}))
        write_json(self.folder / CLUSTERS_FILE, [c.model_dump() for c in updated])
        return self

    def predict(self, frame: pd.DataFrame) -> pd.Series:
        """The cluster name of each row of ``frame`` (aligned with its index)."""
        if self.flavor == "spark":
            # Scored by this process's SparkSession (started on first use).
            from clusterlab.services.spark_training import predict_on_spark

            labels = predict_on_spark(self.folder, frame)
        else:
            labels = load_model(self.folder).predict(frame)["cluster_labels"]
        return rename_labels(labels, self._names())

    def set_cluster_node(self, node: int) -> Model:
        """Two-step: make hierarchy ``node`` a cluster (merging or splitting), re-scored.

        Metrics, report and artifact are rebuilt on the session's training rows;
        clusters that stay keep their names.
        """
        if self.flavor == "spark":
            raise UnsupportedError(
                f"{self.summary.label} was trained on Spark: its hierarchy cannot be cut at "
                "another node yet. Train the task on the local engine to explore the tree."
            )
        from clusterlab.services.hierarchy import set_cluster_node

        set_cluster_node(self, node)
        return self

    def deploy(
        self, saved_model: str, *, name: str | None = None, update: bool = False
    ) -> SavedModel:
        """Deploy to the Flow as saved model ``saved_model`` with a train recipe.

        ``update=True`` adds this model as the new active version of an existing saved
        model and makes its train recipe train this model.
        """
        from clusterlab.services.deploy import deploy

        return deploy(self, saved_model, name=name, update=update)

    @property
    def report(self) -> ModelReport:
        """The model report's data and figures, with the current cluster names.

        Its profiles, importance, scatter plot and rules are built the first time one
        of them is read (a session leaves them to the first view), then stored.
        """
        self._require_trained()
        return ModelReport(read_report(self.folder), self._names(), self.complete_report)

    def complete_report(self) -> ClusterReport:
        """The whole report, its deferred panels built and stored first if need be."""
        session = self.session
        return complete_report(
            self.folder,
            lambda: read_sample(session.task.folder, session.summary.sample),
            report_features(session.summary.design or session.task.design),
        )


def create_task(
    project: Project, dataset: str, preset: str = "kmeans", engine: str | None = None
) -> ClusteringTask:
    """Guess a design from the dataset's statistics and store the new task.

    ``engine`` (None: the project's) must be able to train the preset's design.
    """
    ds = project.dataset(dataset)
    design = guess_design(ds.stats(), preset)  # type: ignore[arg-type]
    name = None if engine is None else engine_name(engine)
    chosen = name or project.engine
    refuse_unsupported(
        chosen,
        design,
        f"A task with the {preset} preset cannot train on the {chosen} engine",
        "Create it on the local engine, or with the kmeans preset.",
    )
    spec = TaskSpec(
        id=uuid.uuid4().hex[:8],
        name=f"Clustering on {dataset}",
        dataset=dataset,
        design=design,
        engine=name,
    )
    task = ClusteringTask(project, spec)
    write_model(task.folder / TASK_FILE, spec)
    return task


def open_task(project: Project, task_id: str) -> ClusteringTask:
    folder = project.workspace.layout.analysis_dir(project.key, task_id)
    return ClusteringTask(project, read_model(folder / TASK_FILE, TaskSpec, f"Task {task_id}"))


def list_tasks(project: Project) -> list[ClusteringTask]:
    root = project.workspace.layout.project_dir(project.key) / "analyses"
    if not root.is_dir():
        return []
    return [open_task(project, p.name) for p in sorted(root.iterdir()) if (p / TASK_FILE).is_file()]


def run_training(
    project: Project,
    task_id: str,
    progress: Callable[[float, str], None],
    log: Callable[[str], None],
) -> int:
    """Train a session of the task (in the job's process) and publish its folder whole."""
    task = open_task(project, task_id)
    if task.engine == "spark":
        from clusterlab.services.spark_training import run_spark_training

        return run_spark_training(task, progress, log)
    progress(0.0, "Reading the training sample")
    dataset = project.dataset(task.spec.dataset)
    data_version = dataset.fingerprint()
    root = task.folder / "sessions"
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f".staging-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    try:
        # Published once the training rows are cached: its models' first views read them.
        with training_sample(dataset, task.design, task.folder, log) as (frame, sample):
            models = len(task.design.grid())
            log(f"Training on {len(frame):,} rows of {task.spec.dataset}: {models} model(s)")
            progress(0.0, "Preprocessing")
            result = prepare_session(frame, task.design, sample=False)
            summaries, choice = train_and_write(
                result,
                staging,
                progress,
                log,
                allow_custom_code=project.workspace.settings.allow_custom_code,
            )
            write_json(staging / CHOOSE_K_FILE, choice.model_dump(mode="json"))
            log(f"Choosing k: {choice.reason}")
            number = 1 + max((int(p.name) for p in root.iterdir() if p.name.isdigit()), default=0)
            summary = SessionSummary(
                number=number,
                task=task_id,
                rows=len(result.frame),
                data_hash=result.data_hash,
                models=summaries,
                diagnostics=[d.message for d in result.diagnostics],
                sample=sample,
                data_version=data_version,
                design=task.design,
            )
            write_model(staging / SESSION_FILE, summary)
        os.replace(staging, root / str(number))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    prune_samples(task.folder, [s.summary.sample for s in task.sessions()])
    return number
