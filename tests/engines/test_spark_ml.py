"""The ML contract on Spark: scoring, reports, pyspark.ml training and Spark-flavor models.

Well-separated blobs are clustered on both engines: Spark's partitions must agree with
scikit-learn's (ARI >= 0.95) and the silhouettes (computed the same way, on the driver)
within 0.02. A model trained locally scores the same labels on Spark as locally, and
the report built through Ibis on Spark equals the local engine's within 1e-6.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from clusterlab.core.dataset import DatasetKind
from clusterlab.core.errors import StorageError
from clusterlab.core.mltask import (
    CategoricalHandling,
    DBSCANSpec,
    FeatureHandling,
    GaussianMixtureSpec,
    KMeansSpec,
    MetricsSpec,
    NumericHandling,
    TaskDesign,
    TwoStepSpec,
)
from clusterlab.engines.base import InputData
from clusterlab.engines.local.engine import LocalEngine
from clusterlab.engines.spark.capabilities import SPARK_CAPABILITIES
from clusterlab.engines.spark.io import version_uri
from clusterlab.engines.spark.ml_metrics import spark_silhouette
from clusterlab.engines.spark.ml_model import (
    PREDICTION_COLUMN,
    load_spark_model,
    save_spark_model,
    score_with_model,
)
from clusterlab.engines.spark.ml_prep import FEATURES_COLUMN, capped_levels
from clusterlab.engines.spark.ml_report import spark_report
from clusterlab.engines.spark.ml_train import SparkModelSpec, SparkTrainingResult, train_spark
from clusterlab.ml.model import LABEL_COLUMN
from clusterlab.ml.preprocess import capped_levels as local_capped_levels
from clusterlab.ml.report import build_report, features_of
from clusterlab.ml.training import SessionResult, train_session
from tests.engines.conftest import read_output

pytestmark = pytest.mark.spark

CENTERS = np.array([[0.0, 0.0, 0.0], [8.0, 8.0, 0.0], [0.0, 8.0, 8.0]])
FEATURES = (
    FeatureHandling(name="id", role="reject"),
    FeatureHandling(name="x"),
    FeatureHandling(name="y", numeric=NumericHandling(missing="median", rescaling="minmax")),
    FeatureHandling(name="z"),
    FeatureHandling(
        name="region",
        type="categorical",
        categorical=CategoricalHandling(max_categories=2),
    ),
)


def blobs() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    points = np.vstack([rng.normal(c, 0.6, size=(100, 3)) for c in CENTERS])
    frame = pd.DataFrame(points, columns=["x", "y", "z"])
    frame.insert(0, "id", np.arange(len(frame), dtype=np.int64))
    frame["truth"] = np.repeat([0, 1, 2], 100)
    frame["region"] = rng.choice(
        np.array(["north", "south", "east", None], dtype=object), size=len(frame)
    )
    frame.loc[[3, 150], "x"] = np.nan  # imputed with the mean on both engines
    frame.loc[[5], "y"] = np.nan
    return frame


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> InputData:
    folder = tmp_path_factory.mktemp("blobs")
    blobs().to_parquet(folder / "part-0.parquet", index=False)
    return InputData("blobs", DatasetKind.MANAGED, folder)


@pytest.fixture(scope="module")
def local(data: InputData) -> SessionResult:
    design = TaskDesign(features=FEATURES, algorithms=(KMeansSpec(k=(3,), n_init=1, seed=0),))
    return train_session(pd.read_parquet(data.path), design)


@pytest.fixture(scope="module")
def trained(spark_engine: Any, data: InputData) -> SparkTrainingResult:
    design = TaskDesign(
        features=FEATURES,
        algorithms=(
            KMeansSpec(k=(3,), n_init=1, seed=0),
            GaussianMixtureSpec(components=(3,), max_iter=10, seed=0),
            TwoStepSpec(pre_k=12, k=3, seed=0),
            DBSCANSpec(),
        ),
    )
    frame = spark_engine.session.read.parquet(version_uri(data.path))
    return train_spark(frame, design, extra_models=[SparkModelSpec.bisecting(3, seed=0)])


def labels_of(spark_engine: Any, data: InputData, model: Any) -> np.ndarray[Any, Any]:
    frame = spark_engine.session.read.parquet(version_uri(data.path))
    rows = model.label(frame).select("id", LABEL_COLUMN).toPandas().sort_values("id")
    return np.asarray(rows[LABEL_COLUMN].to_numpy())


def test_spark_kmeans_agrees_with_local(
    spark_engine: Any, data: InputData, local: SessionResult, trained: SparkTrainingResult
) -> None:
    spark_kmeans, local_kmeans = trained.models[0], local.models[0]
    assert spark_kmeans.ok, spark_kmeans.error
    assert trained.rows == 300
    labels = labels_of(spark_engine, data, spark_kmeans)
    assert adjusted_rand_score(local_kmeans.labels, labels) >= 0.95
    assert set(labels) == {"cluster_0", "cluster_1", "cluster_2"}
    assert spark_kmeans.metrics is not None
    assert local_kmeans.metrics is not None
    assert spark_kmeans.metrics.silhouette_exact is True
    assert spark_kmeans.metrics.silhouette == pytest.approx(
        local_kmeans.metrics.silhouette, abs=0.02
    )
    assert sum(spark_kmeans.metrics.cluster_sizes.values()) == 300
    # Spark divides by the sample std, scikit-learn by the population one: the inertias
    # differ by about that ratio on the standardized features only.
    assert spark_kmeans.metric("inertia") == pytest.approx(local_kmeans.metric("inertia"), rel=0.05)
    # The same columns (the same capped levels), numeric ones grouped by rescaling.
    assert spark_kmeans.feature_names[:3] == ("x", "z", "y")
    assert set(spark_kmeans.feature_names) == set(local.preprocessing.feature_names)
    assert "region=other" in spark_kmeans.feature_names


def test_every_spark_algorithm_finds_the_blobs(
    spark_engine: Any, data: InputData, trained: SparkTrainingResult
) -> None:
    truth = blobs()["truth"].to_numpy()
    gmm, two_step, dbscan, bisecting = trained.models[1:]
    for model in (two_step, bisecting):
        assert model.ok, model.error
        assert adjusted_rand_score(truth, labels_of(spark_engine, data, model)) >= 0.95
        assert model.metrics is not None
        assert model.metrics.n_clusters == 3
        assert (model.metric("silhouette") or 0.0) > 0.5
    # Spark initialises mixtures from random row samples (scikit-learn from K-means), and
    # the binary dummies make the covariances near-singular: only check it trained.
    assert gmm.ok, gmm.error
    assert gmm.metrics is not None
    assert sum(gmm.metrics.cluster_sizes.values()) == 300
    assert gmm.metric("bic") is not None
    assert gmm.metric("aic") is not None
    assert gmm.metric("inertia") is None
    # Two-step clusters are tree nodes; the tree over 12 pre-clusters has 11 merges.
    assert two_step.hierarchy is not None
    assert two_step.hierarchy.linkage.shape == (11, 4)
    assert all(name.startswith("node_") for name in two_step.names.values())
    assert sum(two_step.metrics.cluster_sizes.values()) == 300  # type: ignore[union-attr]
    assert not dbscan.ok
    assert "DBSCAN" in (dbscan.error or "")
    assert trained.sorted_models("silhouette")[-1] is dbscan


def test_sampled_silhouette_matches_the_exact_one(
    spark_engine: Any, data: InputData, trained: SparkTrainingResult
) -> None:
    model = trained.models[0]
    frame = spark_engine.session.read.parquet(version_uri(data.path))
    scored = model.pipeline.transform(frame)
    sizes = {i: 100 for i in range(3)}
    spec = MetricsSpec(silhouette_exact_threshold=100, silhouette_sample_size=150, seed=3)
    value, used, exact = spark_silhouette(scored, FEATURES_COLUMN, PREDICTION_COLUMN, sizes, spec)
    assert exact is False
    assert used == 150
    assert value == pytest.approx(model.metric("silhouette"), abs=0.02)


def test_local_model_scores_the_same_on_spark(
    spark_engine: Any, data: InputData, local: SessionResult, tmp_path: Path
) -> None:
    model = local.models[0].model
    assert model is not None
    outputs = {name: tmp_path / name for name in ("local", "spark")}
    for folder in outputs.values():
        folder.mkdir()
    kept = ["id", "x", "region"]
    seen: list[tuple[int, int]] = []
    LocalEngine().score(data, model.predict, outputs["local"], columns=kept, log=print)
    result = spark_engine.score(
        data,
        model.predict,
        outputs["spark"],
        columns=kept,
        batch_rows=64,
        log=print,
        progress=lambda done, total: seen.append((done, total)),
    )
    local_rows = read_output(outputs["local"]).sort_values("id", ignore_index=True)
    spark_rows = read_output(outputs["spark"]).sort_values("id", ignore_index=True)
    assert result.rows == 300
    assert seen[-1] == (300, 300)
    assert list(spark_rows.columns) == [*kept, LABEL_COLUMN]
    pd.testing.assert_frame_equal(spark_rows, local_rows)


def _assert_close(left: Any, right: Any, where: str = "report") -> None:
    if isinstance(left, dict):
        assert left.keys() == right.keys(), where
        for key in left:
            _assert_close(left[key], right[key], f"{where}.{key}")
    elif isinstance(left, list | tuple):
        assert len(left) == len(right), where
        for i, (a, b) in enumerate(zip(left, right, strict=True)):
            _assert_close(a, b, f"{where}[{i}]")
    elif isinstance(left, float) and not isinstance(right, str):
        assert right is not None, where
        same = math.isclose(left, right, rel_tol=1e-6, abs_tol=1e-6)
        assert same or (math.isnan(left) and math.isnan(right)), f"{where}: {left} != {right}"
    else:
        assert left == right, f"{where}: {left!r} != {right!r}"


def test_report_on_spark_equals_local(
    spark_engine: Any, data: InputData, local: SessionResult, tmp_path: Path
) -> None:
    model = local.models[0].model
    assert model is not None
    LocalEngine().score(data, model.predict, tmp_path, log=print)
    rows = read_output(tmp_path)
    features = features_of(numeric=["x", "y", "z"], categorical=["region"])
    options: dict[str, Any] = {"cluster_column": LABEL_COLUMN}
    expected = build_report(ibis.memtable(rows), features, **options)
    scored = spark_engine.session.read.parquet(version_uri(tmp_path))
    found = spark_report(spark_engine.session, scored, features, **options)
    _assert_close(found.model_dump(), expected.model_dump())


def test_spark_flavor_saves_loads_and_scores(
    spark_engine: Any, data: InputData, trained: SparkTrainingResult, tmp_path: Path
) -> None:
    model = trained.models[0]
    manifest = save_spark_model(model, tmp_path / "v1")
    assert manifest.flavor == "spark"
    assert manifest.artifact == "spark_pipeline"
    assert manifest.cluster_names == {"0": "cluster_0", "1": "cluster_1", "2": "cluster_2"}
    loaded = load_spark_model(tmp_path / "v1")
    out = tmp_path / "scored"
    out.mkdir()
    result = score_with_model(
        spark_engine.session, data, loaded, out, columns=["id"], display_names={}, log=print
    )
    scored = read_output(out).sort_values("id")
    assert result.rows == 300
    assert list(scored.columns) == ["id", LABEL_COLUMN]
    assert (scored[LABEL_COLUMN].to_numpy() == labels_of(spark_engine, data, model)).all()
    # A modified artifact is refused before Spark reads any of it.
    metadata = next((tmp_path / "v1" / "spark_pipeline").rglob("part-*"))
    metadata.write_bytes(metadata.read_bytes() + b" ")
    with pytest.raises(StorageError, match="does not match its manifest"):
        load_spark_model(tmp_path / "v1")


def test_category_caps_match_the_local_engine(spark_engine: Any) -> None:
    values = pd.Series(["a"] * 5 + ["b"] * 3 + ["c"] * 3 + ["d"] * 1 + ["e"])
    frame = spark_engine.session.createDataFrame(values.to_frame("v"))
    for handling in (
        CategoricalHandling(max_categories=2),
        CategoricalHandling(cap="min_samples", min_samples=3),
        CategoricalHandling(cap="cumulative_proportion", cumulative_proportion=0.7),
    ):
        found = capped_levels(frame, "v", handling)
        assert found == local_capped_levels(values, handling), handling


def test_capabilities_declare_what_spark_lacks() -> None:
    design = TaskDesign(
        features=(FeatureHandling(name="t", type="text"),),
        algorithms=(DBSCANSpec(), GaussianMixtureSpec(covariance_types=("full", "diag"))),
    )
    problems = SPARK_CAPABILITIES.design_problems(design)
    assert [p.split(":")[0] for p in problems] == [
        "DBSCAN",
        "Gaussian mixture, diag covariance",
        "text features (t)",
    ]
    assert SPARK_CAPABILITIES.algorithm("minibatch_kmeans").supported
    for name in ("agglomerative", "spectral", "hdbscan", "isolation_forest", "custom"):
        assert not SPARK_CAPABILITIES.algorithm(name).supported, name
        assert SPARK_CAPABILITIES.algorithm(name).note
