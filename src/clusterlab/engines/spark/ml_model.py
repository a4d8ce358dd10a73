"""Saved models of flavor "spark": a pyspark.ml PipelineModel plus our manifest.

A version folder holds ``manifest.json`` (a `~clusterlab.core.mltask.ModelManifest`
with ``flavor="spark"``) and ``spark_pipeline/``, written by Spark's own ML writer:
the preprocessing stages, PCA when used, the clusterer, and for two-step the mapping
of pre-clusters to clusters. The manifest's ``artifact_sha256`` covers every file of
that folder (paths and contents), and is checked before Spark reads any of it.

`SparkClusteringModel.label` adds ``cluster_labels`` to a Spark DataFrame;
`score_with_model` writes a scored dataset version, as the apply recipe does.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clusterlab.core.errors import StorageError, UnsupportedError
from clusterlab.core.mltask import ModelManifest, OutliersSpec
from clusterlab.engines.base import InputData, Log, OutputResult
from clusterlab.engines.spark.io import path_uri, read_input, write_version
from clusterlab.engines.spark.ml_apply import spark_errors
from clusterlab.engines.spark.ml_prep import KEPT_COLUMN, PREFIX
from clusterlab.ml.artifacts import MANIFEST, library_versions, read_manifest, verified_artifact
from clusterlab.ml.model import LABEL_COLUMN

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from clusterlab.engines.spark.ml_train import SparkTrainedModel

PIPELINE_FOLDER = "spark_pipeline"
PREDICTION_COLUMN = f"{PREFIX}prediction"
"""The integer cluster id every Spark clusterer (or two-step mapping) writes."""


def label_frame(
    pipeline: Any, names: Mapping[int, str], frame: DataFrame, column: str = LABEL_COLUMN
) -> DataFrame:
    """``frame`` with ``column`` holding each row's cluster name (lazy).

    Rows a "drop rows" missing-value handling removes get an empty label; the stages'
    own columns are left out, the input columns kept in order.
    """
    from pyspark.sql import functions as sf

    ids = range(max(names, default=-1) + 1)
    table = sf.array(*[sf.lit(names.get(i)).cast("string") for i in ids])
    name = sf.element_at(table, sf.col(PREDICTION_COLUMN).cast("int") + 1)
    scored: DataFrame = pipeline.transform(frame)
    kept = [sf.col(f"`{c.replace('`', '``')}`") for c in frame.columns if c != column]
    return scored.select(*kept, sf.when(sf.col(KEPT_COLUMN), name).alias(column))


@dataclass
class SparkClusteringModel:
    """A model that labels Spark rows: its PipelineModel and cluster names by id."""

    pipeline: Any
    names: dict[int, str]
    manifest: ModelManifest | None = None

    def label(self, frame: DataFrame, column: str = LABEL_COLUMN) -> DataFrame:
        """``frame`` with the cluster name of each row in ``column`` (see `label_frame`)."""
        return label_frame(self.pipeline, self.names, frame, column)


def folder_sha256(folder: Path) -> str:
    """A sha256 over every file under ``folder``: relative paths and contents, sorted."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\x00")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\x00")
    return digest.hexdigest()


def save_spark_model(trained: SparkTrainedModel, folder: str | Path) -> ModelManifest:
    """Write ``trained`` (flavor "spark") into the version ``folder``; return the manifest.

    Raises
    ------
    UnsupportedError
        When the model failed to train, or its algorithm has no manifest entry yet.
    """
    if not trained.ok or trained.pipeline is None or trained.metrics is None:
        raise UnsupportedError(f"{trained.spec.label} failed to train, so it cannot be saved.")
    params = trained.spec.model_params()
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    pipeline_dir = target / PIPELINE_FOLDER
    scratch = target / f".{PIPELINE_FOLDER}.tmp"
    shutil.rmtree(scratch, ignore_errors=True)
    trained.pipeline.write().save(path_uri(scratch))
    seed = params.params.get("seed")
    manifest = ModelManifest(
        flavor="spark",
        algorithm=params.algorithm,
        params=params,
        features=trained.features,
        feature_names=trained.feature_names,
        factor_names=trained.factor_names,
        outliers=OutliersSpec(),
        cluster_names={str(i): name for i, name in sorted(trained.names.items())},
        metrics=trained.metrics.as_dict(),
        library_versions=library_versions() | _spark_version(),
        seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
        artifact=PIPELINE_FOLDER,
        artifact_sha256=folder_sha256(scratch),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    shutil.rmtree(pipeline_dir, ignore_errors=True)
    os.replace(scratch, pipeline_dir)
    manifest_tmp = target / f".{MANIFEST}.tmp"
    manifest_tmp.write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
    os.replace(manifest_tmp, target / MANIFEST)
    return manifest


def _spark_version() -> dict[str, str]:
    import pyspark

    return {"pyspark": pyspark.__version__}


def load_spark_model(folder: str | Path) -> SparkClusteringModel:
    """Read back a model saved by `save_spark_model`, refusing a modified one.

    Raises
    ------
    StorageError
        When the manifest is not of flavor "spark", the pipeline folder is missing or
        does not match the manifest's sha256.
    """
    from pyspark.ml import PipelineModel

    manifest = read_manifest(folder)
    if manifest.flavor != "spark":
        raise StorageError(
            f"The model in {folder} has flavor {manifest.flavor!r}, not 'spark': load it "
            "with clusterlab.ml.artifacts.load_model (and score it with score_dataset)."
        )
    path = verified_artifact(folder, manifest, folder_sha256, is_folder=True)
    pipeline = PipelineModel.load(path_uri(path))
    names = {int(i): name for i, name in manifest.cluster_names.items()}
    return SparkClusteringModel(pipeline, names, manifest)


def score_with_model(
    session: SparkSession,
    data: InputData,
    model: SparkClusteringModel,
    output: Path,
    *,
    columns: Sequence[str] | None = None,
    display_names: Mapping[str, str] | None = None,
    log: Log,
) -> OutputResult:
    """Label ``data`` with a Spark-flavor model into the version folder ``output``.

    ``display_names`` renames clusters (the analyst's names by cluster name); the
    output keeps ``columns`` of the input (all by default) plus ``cluster_labels``.
    """
    from pyspark.sql import functions as sf

    renamed = {i: (display_names or {}).get(n, n) for i, n in model.names.items()}
    with spark_errors(f"Scoring {data.name}"):
        frame = read_input(session, data)
        labelled = label_frame(model.pipeline, renamed, frame)
        if columns is not None:
            labelled = labelled.select(
                *[sf.col(f"`{c}`") for c in columns if c != LABEL_COLUMN], LABEL_COLUMN
            )
        schema, rows = write_version(labelled, output)
    log(f"Scored {rows:,} rows on Spark with a Spark model")
    return OutputResult(rows=rows, schema=schema)
