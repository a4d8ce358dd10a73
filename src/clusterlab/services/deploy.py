"""Deploy Lab models to the Flow and run the train, apply and cluster recipes.

- `deploy` turns a trained Lab model into a saved model version, and creates (or
  updates) the train recipe that retrains it.
- `run_train_recipe` retrains on the recipe's input: the new version's clusters are
  matched to the active version's and inherit their names, colors and descriptions.
- `run_apply_recipe` scores a dataset in batches with the active version and records
  the run's cluster shares and distances, warning on drift from training.
- `run_cluster_recipe` re-clusters from scratch at every run (default names).

On the Spark engine, train and cluster recipes train with pyspark.ml and apply recipes
score Spark-flavor models through their PipelineModel (`clusterlab.services.spark_recipes`).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow.dataset

from clusterlab.core.deploy import SavedModelSpec, VersionInfo
from clusterlab.core.errors import InvalidInputError, UnsupportedError
from clusterlab.core.lab import ClusterMeta
from clusterlab.core.ml_recipes import ApplyParams, ClusterParams, TrainParams
from clusterlab.core.recipes import RecipeSpec
from clusterlab.engines.base import InputData, OutputResult
from clusterlab.engines.local.engine import LocalEngine
from clusterlab.ml.artifacts import read_manifest
from clusterlab.ml.drift import DriftBaseline, DriftMeter, DriftRun, compare
from clusterlab.ml.matching import ClusterMatching, inherit_metadata, match_models
from clusterlab.ml.model import DISTANCE_COLUMN, LABEL_COLUMN, ClusteringModel
from clusterlab.ml.training import train_session
from clusterlab.services.lab import Model
from clusterlab.services.model_store import CLUSTERS_FILE, REPORT_FILE, ModelStore
from clusterlab.services.saved_models import (
    CLUSTER_ID_COLUMN,
    MATCHING_FILE,
    SavedModel,
    SavedModelVersion,
    create_saved_model,
    open_saved_model,
    publish_version,
    score_frame,
)
from clusterlab.services.training_sample import sample_columns, sample_rows
from clusterlab.storage.atomic import write_text_atomic

if TYPE_CHECKING:
    from clusterlab.services.project import Project

Log = Callable[[str], None]
_COPIED = ("manifest.json", REPORT_FILE, CLUSTERS_FILE)


def ml_signature(recipe: RecipeSpec, parts: dict[str, str]) -> str:
    """Identity of an ML recipe run: its spec and the versions of what it reads."""
    blob = json.dumps(
        {"recipe": recipe.model_dump(mode="json"), **parts}, sort_keys=True, default=str
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def train_parts(parts: dict[str, str], engine: str) -> dict[str, str]:
    """What a train recipe's signature covers besides its spec: the input's version,
    and the engine when not local (it decides the flavor of the version made)."""
    return parts if engine == "local" else {**parts, "engine": engine}


def train_recipe_name(saved_model_id: str) -> str:
    """The default name of the train recipe writing ``saved_model_id``."""
    return f"train_{saved_model_id}"


def deploy(
    model: Model,
    saved_model: str,
    *,
    name: str | None = None,
    update: bool = False,
) -> SavedModel:
    """Deploy a trained Lab model to the Flow as a saved model with a train recipe.

    With ``update=True`` an existing saved model gets this model as a new active
    version and its train recipe now trains this model ("activate this version");
    otherwise a new saved model and train recipe are created.
    """
    model._require_trained()
    task = model.session.task
    project = task.project
    one = task.design.for_models(model.model_params)
    artifact = read_manifest(model.folder).artifact
    recipe = RecipeSpec(
        name=train_recipe_name(saved_model),
        type="train",
        inputs=[task.spec.dataset],
        outputs=[saved_model],
        params=TrainParams(design=one, task=task.id),
        # A model trained on Spark is retrained there: its versions stay of one flavor.
        engine="spark" if model.flavor == "spark" else None,
    )
    if update:
        saved = open_saved_model(project, saved_model)
        recipe = recipe.model_copy(update={"name": saved.train_recipe or recipe.name})
    else:
        spec = SavedModelSpec(
            id=saved_model, name=name or saved_model, dataset=task.spec.dataset, task=task.id
        )
        if recipe.name in project.workspace.definitions.recipe_names(project.key):
            raise InvalidInputError(
                f"Recipe {recipe.name!r} already exists in project {project.key}: choose "
                "another saved model name, or update the existing saved model."
            )
        saved = create_saved_model(project, spec)
    fingerprint = project.dataset(task.spec.dataset).fingerprint()
    data_version = model.session.summary.data_version
    # A smart build then skips retraining until the data or the recipe changes.
    parts = train_parts({"data": fingerprint}, "spark" if model.flavor == "spark" else "local")
    signature = ml_signature(recipe, parts) if data_version == fingerprint else ""

    if model.flavor != "spark":
        model.complete_report()  # a version's report is whole: build any deferred panel

    def fill(folder: Path, version_id: str) -> VersionInfo:
        for file in _COPIED:
            shutil.copy2(model.folder / file, folder / file)
        # model.skops, or the spark_pipeline/ folder of a Spark model.
        if (model.folder / artifact).is_dir():
            shutil.copytree(model.folder / artifact, folder / artifact)
        else:
            shutil.copy2(model.folder / artifact, folder / artifact)
        return version_info(
            version_id,
            "deploy",
            model.summary.label,
            model.algorithm,
            model.params,
            model.metrics,
            model.session.summary.rows,
            signature,
            {"task": task.id, "session": model.session.summary.number, "model": model.id},
            folder,
        )

    publish_version(saved, fill)
    project.create_recipe(recipe, overwrite=update)
    return saved


def version_info(
    version_id: str,
    source: str,
    label: str,
    algorithm: str,
    params: dict[str, Any],
    metrics: dict[str, Any],
    rows: int,
    signature: str,
    lineage: dict[str, Any],
    folder: Path,
    changes: list[str] | None = None,
) -> VersionInfo:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    # The manifest travels with the artifact: it names its lineage too (the sha256 it
    # holds covers the artifact only, so it can be rewritten).
    manifest["lineage"] = {**lineage, "saved_model_version": version_id}
    write_text_atomic(folder / "manifest.json", json.dumps(manifest, indent=2))
    return VersionInfo(
        id=version_id,
        number=int(version_id[1:]),
        source=source,
        label=label,
        algorithm=algorithm,
        params=params,
        metrics=metrics,
        approximate=bool(manifest.get("approximate", False)),
        rows=rows,
        signature=signature,
        lineage={**lineage, "data_hash": manifest.get("data_hash")},
        changes=changes or [],
    )


def run_train_recipe(
    project: Project, recipe: RecipeSpec, signature: str, log: Log, engine: str = "local"
) -> str:
    """Retrain the saved model on the recipe's input; returns the new active version id."""
    if engine == "spark":
        from clusterlab.services.spark_recipes import run_spark_train_recipe

        return run_spark_train_recipe(project, recipe, signature, log)
    params = recipe.params
    assert isinstance(params, TrainParams)
    saved = open_saved_model(project, recipe.outputs[0])
    frame = sample_rows(project.dataset(recipe.inputs[0]), params.design)
    log(f"{recipe.name}: training {params.design.grid()[0].label} on {len(frame):,} rows")
    result = train_session(frame, params.design, sample=False)
    trained = result.models[0]
    if not trained.ok:
        raise InvalidInputError(
            f"Recipe {recipe.name!r}: the model failed to train: {trained.error}. The saved "
            f"model {saved.id!r} keeps its active version."
        )
    previous = saved.active if saved.spec.active else None

    def fill(folder: Path, version_id: str) -> VersionInfo:
        summary = ModelStore(result, log).write(trained, folder)
        changes: list[str] = []
        if previous is not None and trained.model is not None and trained.labels is not None:
            changes = _inherit_names(
                previous, trained.model, trained.labels, result.frame, folder, log
            )
        return version_info(
            version_id,
            "train",
            summary.label,
            summary.algorithm,
            summary.params,
            summary.metrics,
            len(result.frame),
            signature,
            {
                "recipe": recipe.name,
                "dataset": recipe.inputs[0],
                "previous": previous and previous.id,
            },
            folder,
            changes,
        )

    version = publish_version(saved, fill)
    for change in version.info.changes:
        log(f"{recipe.name}: {change}")
    log(f"{recipe.name}: version {version.id} of {saved.id} is now active")
    return version.id


def _inherit_names(
    previous: SavedModelVersion,
    model: ClusteringModel,
    labels: pd.Series,
    frame: pd.DataFrame,
    folder: Path,
    log: Log,
) -> list[str]:
    """Match the new clusters to the previous version's; matched ones keep their names."""
    try:
        if read_manifest(previous.folder).flavor == "spark":
            raise InvalidInputError(
                f"{previous.id} was trained on Spark and cannot label rows on the local "
                "engine; build the train recipe on Spark to carry its names over"
            )
        matching = match_models(previous.load(), model, frame, labels.to_numpy())
    except InvalidInputError as exc:
        # E.g. an input feature left the design: the old version cannot place the rows.
        log(f"Cluster names not carried over from {previous.id}: {exc}")
        return [f"Cluster names start afresh: {exc}"]
    return record_matching(matching, previous, folder)


def record_matching(
    matching: ClusterMatching, previous: SavedModelVersion, folder: Path
) -> list[str]:
    """Give the new version in ``folder`` the names of the clusters it continues; keep
    the matching beside it and return the changes it describes."""
    path = folder / CLUSTERS_FILE
    defaults = [ClusterMeta.model_validate(c) for c in json.loads(path.read_text("utf-8"))]
    inherited = inherit_metadata(matching, previous.clusters, defaults)
    path.write_text(json.dumps([c.model_dump() for c in inherited], indent=2) + "\n", "utf-8")
    (folder / MATCHING_FILE).write_text(matching.model_dump_json(indent=2))
    return matching.describe(previous.names(), {c.id: c.name for c in inherited})


def run_apply_recipe(
    project: Project,
    recipe: RecipeSpec,
    data: InputData,
    output: Path,
    log: Log,
    progress: Callable[[int, int], None] | None = None,
    engine: str = "local",
) -> OutputResult:
    """Score the input with the saved model's active version, in batches, into ``output``.

    On Spark the scikit-learn model scores in the executors. Drift is measured from
    the written output either way (its ``cluster_id`` and ``cluster_distance``), so
    both engines record the same figures.
    """
    from clusterlab.services.build import engine_for

    params = recipe.params
    assert isinstance(params, ApplyParams)
    saved = open_saved_model(project, recipe.inputs[1])
    version = saved.active
    names = version.names()
    keep_distance = params.distance
    log(
        f"{recipe.name}: scoring {data.name} with {saved.id} {version.id} "
        f"({version.info.label}) on the {engine} engine"
    )
    baseline: DriftBaseline | None = None
    if read_manifest(version.folder).flavor == "spark":
        result = _apply_spark_model(recipe, params, data, version, output, log, engine)
    else:
        model = version.load()
        baseline = model.baseline

        def scorer(frame: pd.DataFrame) -> pd.DataFrame:
            added = score_frame(model, names, frame, with_distance=True)
            return added if keep_distance else added.drop(columns=[DISTANCE_COLUMN])

        result = engine_for(engine).score(
            data,
            scorer,
            output,
            columns=params.columns,
            batch_rows=params.batch_rows,
            log=log,
            progress=progress,
        )
    run = measure_output(output, baseline)
    warnings = [] if baseline is None else compare(baseline, run, names=names).warnings
    for warning in warnings:
        log(f"{recipe.name}: drift: {warning.message}")
    record = {
        "at": datetime.now(UTC).isoformat(),
        "recipe": recipe.name,
        "dataset": recipe.outputs[0],
        "version": version.id,
        "engine": engine,
        "rows": result.rows,
        "run": run.model_dump(mode="json"),
        "warnings": [w.message for w in warnings],
    }
    (output / "drift.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    saved.record_apply_run(record)
    return result


def _apply_spark_model(
    recipe: RecipeSpec,
    params: ApplyParams,
    data: InputData,
    version: SavedModelVersion,
    output: Path,
    log: Log,
    engine: str,
) -> OutputResult:
    """Score with a Spark-flavor version: only a Spark session can run its pipeline."""
    if engine != "spark":
        raise UnsupportedError(
            f"Recipe {recipe.name!r}: saved model {version.saved_model.id!r} {version.id} was "
            f"trained on Spark (flavor 'spark') and cannot score on the {engine} engine. "
            "Build this recipe on Spark (`clusterlab build ... --engine spark`, "
            "engine='spark', or set the recipe's engine to spark), or activate a version "
            "trained on the local engine."
        )
    from clusterlab.services.spark_recipes import apply_spark_model

    return apply_spark_model(params, data, version, output, log)


def measure_output(output: Path, baseline: DriftBaseline | None) -> DriftRun:
    """Cluster shares and distances of a scored version folder, read in batches.

    Without ``cluster_distance`` (an apply recipe with ``distance=False``) only the
    shares are measured.
    """
    meter = DriftMeter(baseline)
    files = sorted(str(f) for f in output.glob("*.parquet"))
    scored = pyarrow.dataset.dataset(files, format="parquet")
    columns = [CLUSTER_ID_COLUMN]
    if DISTANCE_COLUMN in scored.schema.names:
        columns.append(DISTANCE_COLUMN)
    for batch in scored.to_batches(columns=columns):
        labels = batch.column(0).to_pandas()
        distances = (
            batch.column(1).to_numpy(zero_copy_only=False)
            if len(columns) == 2
            else np.full(batch.num_rows, np.nan)
        )
        meter.add(labels, distances)
    return meter.result()


def run_cluster_recipe(
    project: Project,
    recipe: RecipeSpec,
    data: InputData,
    output: Path,
    log: Log,
    engine: str = "local",
) -> OutputResult:
    """Re-cluster the input from scratch and write it with ``cluster_labels``."""
    if engine == "spark":
        from clusterlab.services.spark_recipes import run_spark_cluster_recipe

        return run_spark_cluster_recipe(project, recipe, data, output, log)
    params = recipe.params
    assert isinstance(params, ClusterParams)
    frame = project.dataset(recipe.inputs[0]).to_pandas(sample_columns(params.design))
    result = train_session(frame, params.design)
    trained = result.models[0]
    if not trained.ok or trained.model is None:
        raise InvalidInputError(f"Recipe {recipe.name!r}: clustering failed: {trained.error}")
    model = trained.model
    log(f"{recipe.name}: re-clustered {len(frame):,} rows with {trained.params.label}")

    def scorer(batch: pd.DataFrame) -> pd.DataFrame:
        return model.predict(batch)[[LABEL_COLUMN]]

    return LocalEngine().score(data, scorer, output, log=log)
