"""Lab training sessions on the Spark engine, written like the local engine's.

`run_spark_training` is what the training job runs for a task whose engine is
``spark``: the dataset is read by Spark (the engine's own reader, so the rows never
pass through the driver), sampled as the design says, trained with
`~clusterlab.engines.spark.ml_train.train_spark`, and each model is written with
`write_spark_model` into the same session layout as a local session: ``session.json``,
and per model ``report.json``, ``clusters.json`` and the model (flavor "spark":
``manifest.json`` + ``spark_pipeline/``). The session folder is written in staging and
renamed into place whole. A model that fails to train, or whose report fails, keeps
its error in its row and does not fail the session.

What stays on the driver: the report's per-cluster aggregates, and a cluster-stratified
sample of at most about `DRIVER_SAMPLE_ROWS` rows for variables importance and the
scatter plot. Choosing k (bootstrap stability per k) is not computed on Spark: it
refits every model many times on the driver's memory.
"""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from clusterlab.core.lab import ModelSummary, SessionSummary
from clusterlab.core.mltask import SamplingSpec, TaskDesign
from clusterlab.ml.artifacts import read_manifest
from clusterlab.ml.report import (
    DEFAULT_CLUSTER_COLUMN,
    ClusterReport,
    FeatureInfo,
    build_detailed_metrics,
    build_scatter,
    build_training_info,
    fit_projection,
    variables_importance,
)
from clusterlab.ml.report.rules import build_rules
from clusterlab.ml.training import report_features
from clusterlab.services.build import input_data
from clusterlab.services.lab import SESSION_FILE
from clusterlab.services.model_store import write_report
from clusterlab.services.training_sample import sample_columns, sample_key
from clusterlab.storage.definitions import write_model

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from clusterlab.engines.spark import SparkEngine
    from clusterlab.engines.spark.ml_model import SparkClusteringModel
    from clusterlab.engines.spark.ml_train import SparkTrainedModel, SparkTrainingResult
    from clusterlab.services.lab import ClusteringTask
    from clusterlab.services.project import Project

Log = Callable[[str], None]
Progress = Callable[[float, str], None]

DRIVER_SAMPLE_ROWS = 20_000
"""Rows brought to the driver per model for variables importance and the scatter plot
(the local engine's forest learns from as many)."""
TRAINING_SHARE = 0.6
"""Share of the job's progress bar for training; writing the reports takes the rest."""
SESSION_NOTE = (
    "Trained on the Spark engine (pyspark.ml). Choosing k (stability per k) is not "
    "computed on Spark."
)


def spark_engine() -> SparkEngine:
    """The Spark engine of this process, from ``CLUSTERLAB_SPARK_*``."""
    from clusterlab.engines.spark import SparkEngine, SparkSettings

    return SparkEngine(SparkSettings.from_env())


def training_rows(
    session: SparkSession, project: Project, dataset: str, design: TaskDesign, who: str
) -> DataFrame:
    """The design's columns of ``dataset`` on Spark, sampled as the design says.

    The result is persisted: training, scoring and every report read it again. The
    caller unpersists it.
    """
    from clusterlab.engines.spark.io import read_input
    from clusterlab.engines.spark.ml_metrics import sample_rows
    from clusterlab.engines.spark.ml_prep import sql_name

    frame = read_input(session, input_data(project, dataset, who))
    columns = [sql_name(c) for c in sample_columns(design)]
    rows: DataFrame = sample_rows(frame.select(*columns), design.sampling)
    return rows.persist()


def train_rows(
    rows: DataFrame, design: TaskDesign, progress: Callable[[int, int, str], None]
) -> SparkTrainingResult:
    """Every model of ``design`` trained on the already sampled ``rows``."""
    from clusterlab.engines.spark.ml_train import train_spark

    # The rows were sampled by `training_rows`: sampling them again would thin them.
    every_row = design.model_copy(update={"sampling": SamplingSpec()})
    result = train_spark(rows, every_row, on_progress=progress)
    result.design = design
    return result


def model_summary(trained: SparkTrainedModel, model_id: str) -> ModelSummary:
    """The results-table row of ``trained``."""
    spec = trained.spec
    return ModelSummary(
        id=model_id,
        label=spec.label,
        algorithm=spec.algorithm,
        params=dict(spec.params),
        pca=spec.pca,
        error=trained.error,
        metrics=trained.metrics.as_dict() if trained.metrics else {},
        timings=dict(trained.timings),
    )


def _sample_panels(
    trained: SparkTrainedModel, rows: DataFrame, features: list[FeatureInfo], seed: int
) -> tuple[list[Any], Any, Any]:
    """Variables importance, the scatter plot and the rules, from a driver-side sample."""
    from clusterlab.engines.spark.ml_lab import labelled_sample

    assert trained.metrics is not None
    sizes = trained.metrics.cluster_sizes
    by_id = {i: sizes.get(name, 0) for i, name in trained.names.items()}
    sample = labelled_sample(
        trained, rows, [f.name for f in features], by_id, rows=DRIVER_SAMPLE_ROWS, seed=seed
    )
    if len(sample.labels) == 0:
        return [], None, None
    importances = variables_importance(sample.matrix, sample.labels, trained.feature_names)
    numeric = [f.name for f in features if f.is_numeric]
    categorical = [f.name for f in features if not f.is_numeric]
    rules = build_rules(sample.frame, sample.labels, numeric, categorical)

    def preprocess(picked: pd.DataFrame) -> np.ndarray[Any, Any]:
        # The sample's frame has a range index: its labels are the matrix rows.
        matrix: np.ndarray[Any, Any] = sample.matrix[picked.index.to_numpy()]
        return matrix

    scatter = build_scatter(
        sample.frame,
        pd.Series(sample.labels, dtype=object),
        numeric,
        preprocess=preprocess,
        projection=fit_projection(sample.matrix, seed),
        seed=seed,
    )
    # The sample's counts are not the clusters' sizes: show the training ones.
    true_sizes = {c: int(sizes.get(c, 0)) for c in scatter.clusters}
    return importances, scatter.model_copy(update={"cluster_sizes": true_sizes}), rules


def build_spark_report(
    session: SparkSession,
    result: SparkTrainingResult,
    trained: SparkTrainedModel,
    rows: DataFrame,
    n_rows: int,
) -> ClusterReport:
    """Every panel Spark can give of ``trained``'s report (all but the hierarchy)."""
    from clusterlab.engines.spark.ml_report import spark_report

    assert trained.metrics is not None
    design = result.design
    features = report_features(design)
    sizes = trained.metrics.cluster_sizes
    order = [trained.names[i] for i in sorted(trained.names) if sizes.get(trained.names[i])]
    importances, scatter, rules = _sample_panels(trained, rows, features, design.metrics.seed)
    # The report runs five grouped queries: score the rows once for all of them.
    scored = trained.label(rows, DEFAULT_CLUSTER_COLUMN).persist()
    try:
        report = spark_report(
            session, scored, features, cluster_order=order, importances=importances
        )
    finally:
        scored.unpersist()
    spec = trained.spec
    notes = [
        f"Importance, scatter plot and rules from a sample of at most {DRIVER_SAMPLE_ROWS:,} rows"
    ]
    return report.with_panels(
        scatter=scatter,
        rules=rules,
        detailed_metrics=build_detailed_metrics(trained.metrics.as_dict(), sizes),
        training_info=build_training_info(
            spec.label,
            spec.params,
            timings={**result.timings, **trained.timings},
            outliers=design.outliers.model_dump(mode="json"),
            pca={
                "enabled": spec.pca,
                "variance": design.reduction.variance,
                "factors": len(trained.factor_names),
            },
            diagnostics=[SESSION_NOTE, *notes],
            features=design.features,
            n_rows=n_rows,
        ),
    )


def write_spark_model(
    session: SparkSession,
    result: SparkTrainingResult,
    trained: SparkTrainedModel,
    rows: DataFrame,
    n_rows: int,
    folder: Path,
    log: Log,
) -> ModelSummary:
    """Write ``trained`` into ``folder`` like `ModelStore.write`: model, report, clusters.

    A model that failed gets its summary only.
    """
    from clusterlab.engines.spark.ml_model import save_spark_model

    folder.mkdir(parents=True, exist_ok=True)
    summary = model_summary(trained, folder.name)
    if not trained.ok:
        log(f"{trained.spec.label}: failed: {trained.error}")
        return summary
    save_spark_model(trained, folder)
    report = build_spark_report(session, result, trained, rows, n_rows)
    write_report(folder, report)
    log(f"{trained.spec.label}: silhouette {summary.metrics.get('silhouette')}")
    return summary


def _write_or_fail(
    session: SparkSession,
    result: SparkTrainingResult,
    trained: SparkTrainedModel,
    rows: DataFrame,
    n_rows: int,
    folder: Path,
    log: Log,
) -> ModelSummary:
    """`write_spark_model`, turning a failure into the model's error (the session goes on)."""
    from clusterlab.engines.spark.ml_apply import spark_errors

    try:
        with spark_errors(f"Writing {trained.spec.label}"):
            return write_spark_model(session, result, trained, rows, n_rows, folder, log)
    except Exception as exc:  # one failing model must never fail the session
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        log(f"{trained.spec.label}: failed: {exc}")
        summary = model_summary(trained, folder.name)
        return summary.model_copy(update={"error": str(exc)})


def run_spark_training(task: ClusteringTask, progress: Progress, log: Log) -> int:
    """Train a session of ``task`` on Spark (in the job's process); publish it whole."""
    from clusterlab.engines.spark.ml_apply import spark_errors

    project, design = task.project, task.design
    dataset = project.dataset(task.spec.dataset)
    progress(0.0, "Starting Spark")
    log(f"Starting Spark to train task {task.id} (settings: CLUSTERLAB_SPARK_*)")
    session = spark_engine().session
    start = perf_counter()
    with spark_errors(f"Reading {dataset.name}"):
        rows = training_rows(session, project, dataset.name, design, f"Lab task {task.id}")
    try:
        with spark_errors("Training"):
            n_rows = rows.count()
            log(
                f"Training on Spark on {n_rows:,} rows of {dataset.name} "
                f"({design.sampling.method} sampling): {len(design.grid())} model(s)"
            )
            result = train_rows(
                rows,
                design,
                lambda done, total, msg: progress(TRAINING_SHARE * done / max(total, 1), msg),
            )
        log(f"Trained in {perf_counter() - start:.1f} s; choosing k is not computed on Spark")
        summaries = []
        root = task.folder / "sessions"
        root.mkdir(parents=True, exist_ok=True)
        staging = root / f".staging-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        try:
            for i, trained in enumerate(result.models):
                share = TRAINING_SHARE + (1 - TRAINING_SHARE) * i / len(result.models)
                progress(share, f"Report of {trained.spec.label}")
                summaries.append(
                    _write_or_fail(session, result, trained, rows, n_rows, staging / f"m{i}", log)
                )
            number = 1 + max((int(p.name) for p in root.iterdir() if p.name.isdigit()), default=0)
            summary = SessionSummary(
                number=number,
                task=task.id,
                rows=n_rows,
                data_hash=sample_key(dataset, design),
                models=summaries,
                diagnostics=[SESSION_NOTE],
                data_version=dataset.fingerprint(),
                design=design,
            )
            write_model(staging / SESSION_FILE, summary)
            os.replace(staging, root / str(number))
            return number
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    finally:
        rows.unpersist()


@functools.lru_cache(maxsize=4)
def _loaded_model(folder: str, sha256: str) -> SparkClusteringModel:
    # Loading a PipelineModel runs a Spark job per stage: keep the last few, keyed by
    # the pipeline's sha256 so that a rewritten model is loaded (and checked) again.
    from clusterlab.engines.spark.ml_model import load_spark_model

    return load_spark_model(folder)


def predict_on_spark(folder: Path, frame: pd.DataFrame) -> pd.Series[Any]:
    """The cluster of each row of ``frame`` by the Spark-flavor model in ``folder``."""
    from clusterlab.engines.spark.ml_lab import label_pandas

    model = _loaded_model(str(folder.resolve()), read_manifest(folder).artifact_sha256)
    assert model.manifest is not None
    inputs = [f.name for f in model.manifest.features if f.is_input]
    return label_pandas(spark_engine().session, model, frame, inputs)
