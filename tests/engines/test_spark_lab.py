"""Lab sessions on the Spark engine, through the public API and real jobs.

One K-means k = 3, 5, 7 session is trained on Spark and one locally, side by side, on
five well-separated blobs; every test reads those two sessions. Spark's k = 5 partition
must agree with scikit-learn's (ARI >= 0.95) and, where the labels are equal, the
report statistics must be equal within 1e-6. A Spark model is then deployed, and one
Spark build retrains it (train recipe) and applies it (apply recipe).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

import clusterlab as cl
from clusterlab.cli.main import main
from clusterlab.core.errors import UnsupportedError
from clusterlab.core.mltask import ModelParams
from clusterlab.ml.artifacts import read_manifest
from clusterlab.services.build import input_data, run_build
from clusterlab.services.deploy import run_apply_recipe
from clusterlab.services.jobs import wait_job
from clusterlab.services.lab import Model, Session
from clusterlab.storage.runtime import JobStatus
from tests.engines.conftest import SPARK_TEST_CONF

pytestmark = pytest.mark.spark

CENTERS = np.array([[0, 0, 0], [9, 0, 0], [0, 9, 0], [0, 0, 9], [9, 9, 9]], dtype=float)


def blobs() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    points = np.vstack([rng.normal(c, 0.5, size=(80, 3)) for c in CENTERS])
    frame = pd.DataFrame(points, columns=["x", "y", "z"])
    frame.insert(0, "id", np.arange(len(frame), dtype=np.int64))
    # A categorical input that follows the blobs, so the report has level statistics.
    frame["region"] = np.repeat(["north", "south", "east", "west", "north"], 80)
    return frame


@pytest.fixture(scope="module")
def spark_env() -> Iterator[None]:
    """Jobs start their own Spark: the same small local session as the tests'."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CLUSTERLAB_HOME", raising=False)
        patch.setenv("CLUSTERLAB_SPARK_MASTER", "local[2]")
        patch.setenv("CLUSTERLAB_SPARK_CONF", json.dumps(SPARK_TEST_CONF))
        yield


@pytest.fixture(scope="module")
def trained(
    spark_env: None, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[cl.Project, Session, Session]:
    """The project, its local session and its Spark session (trained concurrently)."""
    pytest.importorskip("pyspark")
    ws = cl.Workspace(tmp_path_factory.mktemp("lab") / "home")
    project = ws.create_project("LAB")
    project.create_dataset("points", blobs())
    tasks = []
    for engine in ("local", "spark"):
        task = project.create_clustering_task("points", engine=engine)
        task.reject_feature("id").set_algorithm("kmeans", k=[3, 5, 7])
        tasks.append(task)
    jobs = [task.start_training() for task in tasks]
    # This process's Spark (for predict) starts while the jobs train.
    request.getfixturevalue("spark_engine")
    for job in jobs:
        done = wait_job(ws, job.id)
        assert done.status is JobStatus.SUCCEEDED, (done.error, ws.runtime.logs(job.id))
    local, spark = (task.sessions()[-1] for task in tasks)
    return project, local, spark


def k_model(session: Session, k: int) -> Model:
    return next(m for m in session.models if m.params["k"] == k)


def test_spark_session_has_the_local_layout(trained: tuple[cl.Project, Session, Session]) -> None:
    _, local, spark = trained
    assert spark.task.engine == "spark"
    assert local.task.engine == "local"
    assert [m.summary.label for m in spark.models] == [m.summary.label for m in local.models]
    assert all(m.error is None for m in spark.models), [m.error for m in spark.models]
    assert spark.summary.rows == 400
    assert spark.choose_k() is None  # not computed on Spark (the log and docs say so)
    assert spark.best("silhouette").params["k"] == local.best("silhouette").params["k"] == 5
    for model in spark.models:
        assert model.flavor == "spark"
        assert (model.folder / "spark_pipeline").is_dir()
        assert {"report.json", "clusters.json", "manifest.json"} <= {
            p.name for p in model.folder.iterdir()
        }
    k5 = k_model(spark, 5)
    assert k5.metrics["n_clusters"] == 5
    assert k5.metrics["silhouette"] == pytest.approx(k_model(local, 5).metrics["silhouette"], 0.02)
    assert k5.report.importance_table()["importance"].sum() == pytest.approx(100.0)
    assert set(k5.report.scatter_points()["cluster"]) == {c.name for c in k5.clusters}
    assert all(c.suggested_name for c in k5.clusters)
    # Five far-apart blobs: a near-perfect rule for each cluster, from the driver sample.
    rules = k5.report.rules().groupby("cluster").first()
    assert len(rules) == 5
    assert (rules["precision"] > 0.95).all()
    # Nothing is left of the staging folder.
    assert [p.name for p in spark.folder.parent.iterdir()] == ["1"]


def test_spark_partition_agrees_with_local(trained: tuple[cl.Project, Session, Session]) -> None:
    project, local, spark = trained
    frame = project.dataset("points").to_pandas()
    shuffled = frame.sample(frac=1.0, random_state=0)
    found = k_model(spark, 5).predict(shuffled)
    assert found.index.equals(shuffled.index)
    expected = k_model(local, 5).predict(shuffled)
    assert adjusted_rand_score(expected, found) >= 0.95
    assert found.notna().all()


def _close(left: Any, right: Any, where: str) -> None:
    if not isinstance(left, float):
        assert left == right, where
    elif math.isnan(left):
        assert math.isnan(right), where
    else:
        assert left == pytest.approx(right, rel=1e-6, abs=1e-6), where


def test_spark_report_statistics_equal_local(trained: tuple[cl.Project, Session, Session]) -> None:
    project, local, spark = trained
    frame = project.dataset("points").to_pandas()
    spark_k5, local_k5 = k_model(spark, 5), k_model(local, 5)
    pairs = pd.crosstab(spark_k5.predict(frame), local_k5.predict(frame))
    # The same partition: each Spark cluster is exactly one local cluster.
    assert (pairs.gt(0).sum(axis=1) == 1).all()
    same = {s: pairs.loc[s].idxmax() for s in pairs.index}
    spark_sizes = {c.name: c.size for c in spark_k5.report.data.clusters}
    local_sizes = {c.name: c.size for c in local_k5.report.data.clusters}
    assert {same[c]: n for c, n in spark_sizes.items()} == local_sizes
    spark_map = spark_k5.report.heatmap_table()
    spark_map["cluster_label"] = spark_map["cluster_label"].map(same)
    columns = ["cluster_label", "feature"]
    spark_map = spark_map.sort_values(columns, ignore_index=True)
    local_map = local_k5.report.heatmap_table().sort_values(columns, ignore_index=True)
    assert len(spark_map) == len(local_map) == 5 * 7  # 3 numeric features + 4 levels
    for i, row in spark_map.iterrows():
        for column in local_map.columns:
            _close(row[column], local_map.at[i, column], f"{column} of row {i}")
    spark_obs = spark_k5.report.observations().assign(cluster=lambda t: t["cluster"].map(same))
    local_obs = local_k5.report.observations()
    pd.testing.assert_frame_equal(
        spark_obs.sort_values(["cluster", "sentence"], ignore_index=True),
        local_obs.sort_values(["cluster", "sentence"], ignore_index=True),
    )


def test_unsupported_items_are_refused_before_a_job(
    trained: tuple[cl.Project, Session, Session],
) -> None:
    project, _, spark = trained
    jobs = len(project.jobs())
    with pytest.raises(UnsupportedError, match="DBSCAN is not available on the Spark engine: "):
        spark.task.set_algorithm("dbscan")
    with pytest.raises(UnsupportedError, match="diag covariance is not available on the Spark"):
        spark.task.set_algorithm("gmm", covariance_types=["full", "diag"])
    assert spark.task.design == project.clustering_task(spark.task.id).design
    with pytest.raises(UnsupportedError, match="Isolation Forest is not available"):
        project.create_clustering_task("points", preset="anomaly", engine="spark")
    task = project.create_clustering_task("points")
    task.set_algorithm("dbscan")
    with pytest.raises(UnsupportedError, match=r"cannot switch to the spark engine.*DBSCAN"):
        task.set_engine("spark")
    assert task.engine == "local"
    # The project's engine changed under the task: training is refused, naming DBSCAN,
    # and the design can still be fixed one item at a time.
    project.set_engine("spark")
    try:
        task = project.clustering_task(task.id)
        with pytest.raises(UnsupportedError, match=r"no job was started.*DBSCAN"):
            task.train()
        task.disable_algorithm("dbscan")
        assert task.engine == "spark"
    finally:
        project.set_engine("local")
    assert len(project.jobs()) == jobs


def test_deploy_then_retrain_and_apply_on_spark(
    trained: tuple[cl.Project, Session, Session], tmp_path: Path
) -> None:
    project, _, spark = trained
    model = k_model(spark, 5)
    first = model.clusters[0]
    model.rename_cluster(first.name, "Corner")
    saved = model.deploy("segments")
    assert read_manifest(saved.active.folder).flavor == "spark"
    recipe = project.recipe(saved.train_recipe or "")
    assert recipe.engine == "spark"
    apply = project.create_apply_recipe("points", "segments", "scored")
    # Scoring a Spark model on the local engine is refused with how to do it instead.
    data = input_data(project, "points", apply.name)
    with pytest.raises(UnsupportedError, match=r"trained on Spark .* Build this recipe on Spark"):
        run_apply_recipe(project, apply, data, tmp_path, print, engine="local")
    # One Spark build: the train recipe retrains (a new version, names carried over by
    # member overlap), then the apply recipe scores with it. The job's worker runs just
    # this `run_build`; here it runs in this process, whose Spark is already started.
    lines: list[str] = []
    report = run_build(project, ["scored"], force=True, engine="spark", log=lines.append)
    assert report.ran == [saved.train_recipe, apply.name]
    assert any("training K-means (k=5) on Spark" in line for line in lines), lines
    saved = project.saved_model("segments")
    assert [v.id for v in saved.versions] == ["v1", "v2"]
    assert read_manifest(saved.active.folder).flavor == "spark"
    assert "Corner" in saved.active.names().values()
    scored = project.dataset("scored").to_pandas()
    assert list(scored.columns) == [
        *blobs().columns,
        "cluster_labels",
        "cluster_id",
        "cluster_distance",
    ]
    counts = scored["cluster_labels"].value_counts()
    assert counts["Corner"] == 80
    assert scored["cluster_distance"].isna().all()
    runs = saved.apply_runs()
    assert runs[-1]["engine"] == "spark"
    assert runs[-1]["rows"] == 400
    # The saved model scores a frame through Spark, as the apply run did.
    frame = project.dataset("points").to_pandas()
    predicted = saved.active.predict(frame)
    assert predicted["cluster_labels"].tolist() == scored["cluster_labels"].tolist()
    with pytest.raises(UnsupportedError, match="trained on Spark"):
        saved.active.load()


def test_cluster_recipe_on_spark_labels_every_row(
    trained: tuple[cl.Project, Session, Session],
) -> None:
    project, local, _ = trained
    design = local.task.design.for_models(
        ModelParams(algorithm="kmeans", params={"k": 5, "seed": 0, "n_init": 3})
    )
    project.create_recipe(
        {
            "name": "recluster",
            "type": "cluster",
            "inputs": ["points"],
            "outputs": ["points_reclustered"],
            "params": {"design": design.model_dump(mode="json")},
        }
    )
    # In this process, whose Spark is already started (a build job's worker runs this).
    lines: list[str] = []
    report = run_build(project, ["points_reclustered"], engine="spark", log=lines.append)
    assert report.ran == ["recluster"]
    assert any("on Spark" in line for line in lines), lines
    out = project.dataset("points_reclustered").to_pandas().sort_values("id")
    assert out.columns.tolist() == [*blobs().columns, "cluster_labels"]
    assert out["cluster_labels"].notna().all()
    truth = np.repeat(np.arange(len(CENTERS)), 80)
    assert adjusted_rand_score(truth, out["cluster_labels"]) >= 0.95


def test_cli_engine_options(trained: tuple[cl.Project, Session, Session], capsys: Any) -> None:
    project, _, _ = trained
    home = str(project.workspace.home)
    assert main(["--home", home, "lab", "create", "LAB", "points", "--engine", "spark"]) == 0
    task_id = capsys.readouterr().out.split()[2]
    assert project.clustering_task(task_id).engine == "spark"
    local_id = project.create_clustering_task("points").set_algorithm("dbscan").id
    code = main(["--home", home, "lab", "train", "LAB", local_id, "--engine", "spark"])
    assert code == 2
    assert "DBSCAN is not available on the Spark engine" in capsys.readouterr().err
    assert project.clustering_task(local_id).engine == "local"
