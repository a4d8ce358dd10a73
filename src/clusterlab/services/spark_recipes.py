"""The Flow's ML recipes on the Spark engine: train, cluster, and apply with a Spark model.

- A **train** recipe reads its input on Spark, trains the deployed model's design with
  pyspark.ml and publishes a saved-model version of flavor "spark" (same folder as a
  Lab model: manifest, ``spark_pipeline/``, report, clusters). Its clusters inherit
  the previous version's names by **member overlap**: both versions label a sample of
  the new training rows (a scikit-learn previous version on the driver, a Spark one on
  the executors) and the Hungarian assignment pairs clusters by Jaccard index.
- A **cluster** recipe re-clusters its input on Spark and writes it with
  ``cluster_labels`` (default names).
- An **apply** recipe scores a Spark-flavor version through its PipelineModel on the
  executors: ``cluster_labels`` (names), ``cluster_id``, and an empty
  ``cluster_distance`` (Spark models record no training centroids yet, so no drift
  distances either; the cluster shares are measured as for every model).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from clusterlab.core.deploy import VersionInfo
from clusterlab.core.errors import InvalidInputError
from clusterlab.core.ml_recipes import ApplyParams, ClusterParams, TrainParams
from clusterlab.core.recipes import RecipeSpec
from clusterlab.engines.base import InputData, OutputResult
from clusterlab.ml.artifacts import read_manifest
from clusterlab.ml.matching import match_overlap
from clusterlab.ml.model import LABEL_COLUMN
from clusterlab.services.deploy import record_matching, version_info
from clusterlab.services.lab_engine import refuse_unsupported
from clusterlab.services.saved_models import (
    CLUSTER_ID_COLUMN,
    SavedModelVersion,
    open_saved_model,
    publish_version,
)
from clusterlab.services.spark_training import (
    spark_engine,
    train_rows,
    training_rows,
    write_spark_model,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

    from clusterlab.engines.spark.ml_train import SparkTrainedModel, SparkTrainingResult
    from clusterlab.services.project import Project

Log = Callable[[str], None]

MATCH_ROWS = 50_000
"""Rows both versions label to match their clusters (a seeded sample of the new rows)."""
_NEW, _OLD = "__cl_new_cluster", "__cl_old_cluster"


def _train_one(
    project: Project, recipe: RecipeSpec, params: TrainParams | ClusterParams, log: Log
) -> tuple[DataFrame, SparkTrainingResult, int]:
    """The recipe's sampled input on Spark (persisted), and its one model trained."""
    from clusterlab.engines.spark.ml_apply import spark_errors

    refuse_unsupported(
        "spark",
        params.design,
        f"Recipe {recipe.name!r} cannot train on the Spark engine",
        "Build it on the local engine, or deploy a model of an algorithm Spark trains.",
    )
    session = spark_engine().session
    with spark_errors(f"Recipe {recipe.name}"):
        rows = training_rows(session, project, recipe.inputs[0], params.design, recipe.name)
    try:
        with spark_errors(f"Recipe {recipe.name}"):
            n_rows = rows.count()
            log(
                f"{recipe.name}: training {params.design.grid()[0].label} on Spark, {n_rows:,} rows"
            )
            result = train_rows(rows, params.design, lambda done, total, msg: None)
    except BaseException:
        rows.unpersist()
        raise
    return rows, result, n_rows


def _previous_labels(
    previous: SavedModelVersion, trained: SparkTrainedModel, rows: DataFrame
) -> tuple[object, object]:
    """(old labels, new labels) of the same sample of ``rows``."""
    from clusterlab.engines.spark.ml_lab import label_sample
    from clusterlab.engines.spark.ml_model import load_spark_model

    manifest = read_manifest(previous.folder)
    if manifest.flavor == "spark":
        old = load_spark_model(previous.folder)
        table = label_sample(rows, {_NEW: trained, _OLD: old}, [], rows=MATCH_ROWS, seed=0)
        return table[_OLD], table[_NEW]
    inputs = [f.name for f in manifest.features if f.is_input]
    if missing := [c for c in inputs if c not in rows.columns]:
        raise InvalidInputError(
            f"{previous.id} uses column(s) {', '.join(map(repr, missing))}, which the new "
            "design does not read"
        )
    table = label_sample(rows, {_NEW: trained}, inputs, rows=MATCH_ROWS, seed=0)
    return previous.load().predict(table[inputs])[LABEL_COLUMN], table[_NEW]


def inherit_on_spark(
    previous: SavedModelVersion,
    trained: SparkTrainedModel,
    rows: DataFrame,
    folder: Path,
    log: Log,
) -> list[str]:
    """Match the new Spark model's clusters to ``previous``'s by member overlap."""
    try:
        old, new = _previous_labels(previous, trained, rows)
        sizes = trained.metrics.cluster_sizes if trained.metrics else {}
        matching = match_overlap(
            old,
            new,
            old_clusters=[c.id for c in previous.clusters],
            new_clusters=[n for _, n in sorted(trained.names.items()) if sizes.get(n)],
        )
    except InvalidInputError as exc:
        log(f"Cluster names not carried over from {previous.id}: {exc}")
        return [f"Cluster names start afresh: {exc}"]
    return record_matching(matching, previous, folder)


def run_spark_train_recipe(project: Project, recipe: RecipeSpec, signature: str, log: Log) -> str:
    """`~clusterlab.services.deploy.run_train_recipe` on Spark: a "spark" version."""
    from clusterlab.engines.spark.ml_apply import spark_errors

    params = recipe.params
    assert isinstance(params, TrainParams)
    saved = open_saved_model(project, recipe.outputs[0])
    rows, result, n_rows = _train_one(project, recipe, params, log)
    try:
        trained = result.models[0]
        if not trained.ok:
            raise InvalidInputError(
                f"Recipe {recipe.name!r}: the model failed to train on Spark: {trained.error}. "
                f"The saved model {saved.id!r} keeps its active version."
            )
        previous = saved.active if saved.spec.active else None
        session = spark_engine().session

        def fill(folder: Path, version_id: str) -> VersionInfo:
            with spark_errors(f"Recipe {recipe.name}"):
                summary = write_spark_model(session, result, trained, rows, n_rows, folder, log)
                changes = (
                    []
                    if previous is None
                    else inherit_on_spark(previous, trained, rows, folder, log)
                )
            return version_info(
                version_id,
                "train",
                summary.label,
                summary.algorithm,
                summary.params,
                summary.metrics,
                n_rows,
                signature,
                {
                    "recipe": recipe.name,
                    "dataset": recipe.inputs[0],
                    "previous": previous and previous.id,
                    "engine": "spark",
                },
                folder,
                changes,
            )

        version = publish_version(saved, fill)
    finally:
        rows.unpersist()
    for change in version.info.changes:
        log(f"{recipe.name}: {change}")
    log(f"{recipe.name}: version {version.id} of {saved.id} (Spark) is now active")
    return version.id


def run_spark_cluster_recipe(
    project: Project, recipe: RecipeSpec, data: InputData, output: Path, log: Log
) -> OutputResult:
    """`~clusterlab.services.deploy.run_cluster_recipe` on Spark, into ``output``."""
    from clusterlab.engines.spark.ml_model import SparkClusteringModel, score_with_model

    params = recipe.params
    assert isinstance(params, ClusterParams)
    rows, result, n_rows = _train_one(project, recipe, params, log)
    try:
        trained = result.models[0]
        if not trained.ok:
            raise InvalidInputError(f"Recipe {recipe.name!r}: clustering failed: {trained.error}")
        log(f"{recipe.name}: re-clustered {n_rows:,} rows with {trained.spec.label} on Spark")
        model = SparkClusteringModel(trained.pipeline, trained.names)
        return score_with_model(spark_engine().session, data, model, output, log=log)
    finally:
        rows.unpersist()


def apply_spark_model(
    params: ApplyParams, data: InputData, version: SavedModelVersion, output: Path, log: Log
) -> OutputResult:
    """Score ``data`` with the Spark-flavor ``version`` on the executors into ``output``."""
    from clusterlab.engines.spark.ml_lab import score_for_apply
    from clusterlab.engines.spark.ml_model import load_spark_model

    return score_for_apply(
        spark_engine().session,
        data,
        load_spark_model(version.folder),
        output,
        names=version.names(),
        id_column=CLUSTER_ID_COLUMN,
        columns=params.columns,
        distance=params.distance,
        log=log,
    )
