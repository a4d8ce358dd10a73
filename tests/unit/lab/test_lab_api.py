"""The Lab from the Python API: task design, training as a job, models, report, names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

import clusterlab as cl
from clusterlab.core.errors import InvalidInputError, InvalidNameError
from clusterlab.services.jobs import JobFailedError


@pytest.fixture
def blobs(project: cl.Project) -> cl.Project:
    rng = np.random.default_rng(3)
    centers = np.array([[0, 0], [8, 8], [0, 8]])
    points = np.vstack([rng.normal(c, 0.5, (100, 2)) for c in centers])
    frame = pd.DataFrame(
        {
            "id": [f"v{i}" for i in range(300)],
            "x": points[:, 0],
            "y": points[:, 1],
            "country": np.repeat(["France", "United States", "Spain"], 100),
        }
    )
    project.create_dataset("points", frame)
    return project


def test_task_train_and_report(blobs: cl.Project) -> None:
    task = blobs.create_clustering_task("points")
    roles = {f.name: (f.role.value, f.reject_reason) for f in task.design.features}
    assert roles["id"][0] == "reject"
    assert roles["x"] == ("input", None)
    task.reject_feature("country")
    task.set_algorithm("kmeans", k=[2, 3, 4])
    session = task.train()
    assert [m.params["k"] for m in session.models] == [2, 3, 4]
    best = session.best("silhouette")
    assert best.params["k"] == 3
    assert best.algorithm == "kmeans"
    assert set(best.metrics) >= {
        "silhouette",
        "inertia",
        "davies_bouldin",
        "calinski_harabasz",
        "n_clusters",
    }
    frame = blobs.dataset("points").to_pandas()
    matrix = StandardScaler().fit_transform(frame[["x", "y"]])
    labels = best.predict(frame)
    assert labels.index.equals(frame.index)
    assert best.metrics["silhouette"] == pytest.approx(silhouette_score(matrix, labels), abs=1e-9)
    assert labels.nunique() == 3
    observations = best.report.observations()
    assert observations.columns.tolist() == ["cluster", "size", "share", "sentence"]
    assert observations["size"].max() == 100
    heatmap = best.report.heatmap_table()
    assert heatmap.columns.tolist() == [
        "cluster_label", "feature", "is_numeric_feature", "global_mean", "mean", "global_std",
        "std", "proportion", "global_proportion", "relative_importance",
    ]  # fmt: skip
    rules = best.report.rules()
    assert rules.columns.tolist() == ["cluster", "rule", "coverage", "precision", "support"]
    # Three far-apart blobs: one near-perfect rule tells each cluster from the others.
    first = rules.groupby("cluster").first()
    assert len(first) == 3
    assert (first["precision"] > 0.95).all()
    assert (first["coverage"] > 0.9).all()


def test_rename_clusters(blobs: cl.Project) -> None:
    task = blobs.create_clustering_task("points")
    task.set_algorithm("kmeans", k=[3])
    model = task.train().models[0]
    first = model.clusters[0].name
    model.rename_cluster(first, "Corner")
    assert model.clusters[0].name == "Corner"
    frame = blobs.dataset("points").to_pandas()
    assert "Corner" in set(model.predict(frame))
    assert "Corner" in set(model.report.heatmap_table()["cluster_label"])
    with pytest.raises(InvalidNameError, match="empty"):
        model.rename_cluster("Corner", "  ")
    with pytest.raises(InvalidNameError, match="unique"):
        model.rename_cluster("Corner", model.clusters[1].name)


def test_bad_designs_get_clear_errors(blobs: cl.Project) -> None:
    task = blobs.create_clustering_task("points")
    with pytest.raises(InvalidInputError, match="Unknown algorithm 'kmeens'"):
        task.set_algorithm("kmeens", k=[3])
    task.set_algorithm("kmeans", k=[3, 500])
    session = task.train()
    failed = [m for m in session.models if m.error]
    assert len(failed) == 1
    assert failed[0].params["k"] == 500
    for column in ("x", "y", "country"):
        task.reject_feature(column)
    with pytest.raises(InvalidInputError, match="Every column is rejected"):
        task.train()


def test_training_on_a_one_row_dataset_fails_clearly(project: cl.Project) -> None:
    project.create_dataset("one", pd.DataFrame({"x": [1.0], "y": [2.0]}))
    task = project.create_clustering_task("one")
    with pytest.raises((JobFailedError, InvalidInputError)):
        task.train()
    assert task.sessions() == []


def _job_messages(project: cl.Project) -> list[str]:
    job = project.jobs(limit=1)[0]
    return [line.message for line in project.workspace.runtime.logs(job.id)]


def test_training_sample_is_cached_until_the_data_changes(blobs: cl.Project) -> None:
    task = blobs.create_clustering_task("points")
    task.set_algorithm("kmeans", k=[3])
    first = task.train()
    assert not any("Reusing" in m for m in _job_messages(blobs))
    second = task.train()
    assert any("Reusing the cached training sample (300 rows)" in m for m in _job_messages(blobs))
    assert first.summary.sample == second.summary.sample
    frame = blobs.dataset("points").to_pandas()
    blobs.create_dataset("points", frame.iloc[:200], overwrite=True)
    third = task.train()
    assert third.summary.sample != first.summary.sample
    assert third.summary.rows == 200
    cached = sorted(p.stem for p in (task.folder / "samples").iterdir())
    assert cached == sorted({first.summary.sample, third.summary.sample})


def test_training_reads_only_the_columns_the_design_uses(blobs: cl.Project) -> None:
    from clusterlab.services.training_sample import read_sample

    task = blobs.create_clustering_task("points")
    task.reject_feature("country")
    task.set_algorithm("kmeans", k=[3])
    session = task.train()
    rows = read_sample(task.folder, session.summary.sample)
    assert rows.columns.tolist() == ["x", "y"]
    expected = blobs.dataset("points").to_pandas()[["x", "y"]]
    pd.testing.assert_frame_equal(rows, expected)


def test_a_sample_cached_as_parquet_by_an_older_version_is_still_read(
    blobs: cl.Project,
) -> None:
    from clusterlab.services.training_sample import prune_samples, read_sample, sample_path

    task = blobs.create_clustering_task("points")
    task.set_algorithm("kmeans", k=[3])
    session = task.train()
    key = session.summary.sample
    cached = sample_path(task.folder, key)
    rows = read_sample(task.folder, key)
    rows.to_parquet(cached.with_suffix(".parquet"), index=False)
    cached.unlink()
    pd.testing.assert_frame_equal(read_sample(task.folder, key), rows)
    prune_samples(task.folder, keep=[])
    assert list((task.folder / "samples").iterdir()) == []


def test_a_float_sample_is_cached_uncompressed_and_others_with_lz4(tmp_path) -> None:
    from clusterlab.services.training_sample import _read, _write

    rows = 20_000
    floats = pd.DataFrame({"a": np.zeros(rows), "b": np.ones(rows)})
    mixed = floats.assign(country=np.where(np.arange(rows) % 2, "France", "Spain"))
    for name, frame in (("floats", floats), ("mixed", mixed)):
        _write(frame, tmp_path / f"{name}.arrow")
        pd.testing.assert_frame_equal(_read(tmp_path / f"{name}.arrow"), frame)
    raw = floats.memory_usage(index=False).sum()
    # Zeros and ones would shrink to almost nothing: kept whole, they were not compressed.
    assert (tmp_path / "floats.arrow").stat().st_size >= raw
    assert (tmp_path / "mixed.arrow").stat().st_size < raw / 3


def test_a_cached_sample_reads_back_as_it_was_written(tmp_path) -> None:
    from clusterlab.services.training_sample import _read, _write

    frame = pd.DataFrame(
        {
            "spend": [1.5, np.nan, np.inf, -np.inf, 0.0],
            "visits": np.arange(5, dtype=np.int64),
            "member": [True, False, True, True, False],
            "country": ["France", None, "Spain", "France", "Italy"],
            "seen": pd.date_range("2026-01-01", periods=5, freq="D"),
            "plan": pd.Categorical(["a", "b", "a", None, "b"]),
        }
    )
    _write(frame, tmp_path / "rows.arrow")
    pd.testing.assert_frame_equal(_read(tmp_path / "rows.arrow"), frame)


def test_suggested_names_come_from_top_observations(blobs: cl.Project) -> None:
    task = blobs.create_clustering_task("points")
    task.set_algorithm("kmeans", k=[3])
    model = task.train().models[0]
    report = model.report.data
    suggested = {c.name: c.suggested_name for c in report.clusters}
    assert {c.id: c.suggested_name for c in model.clusters} == suggested
    assert all(suggested.values())
    model.apply_suggested_names()
    names = [c.name for c in model.clusters]
    assert len(set(names)) == 3
    assert set(names) == set(suggested.values())
    frame = blobs.dataset("points").to_pandas()
    assert set(model.predict(frame)) == set(names)


def test_report_has_every_panel_with_names_applied(blobs: cl.Project) -> None:
    task = blobs.create_clustering_task("points")
    task.reject_feature("country")
    task.set_algorithm("kmeans", k=[3])
    task.set_algorithm("two_step", k=3, pre_k=20)
    session = task.train()
    kmeans, two_step = session.models
    kmeans.rename_cluster("cluster_0", "Bottom left")
    report = kmeans.report
    points = report.scatter_points()
    assert len(points) == 300  # fewer rows than the 1,000-point cap: all of them
    assert "Bottom left" in set(points["cluster"])
    assert points.groupby("cluster").size().tolist() == [100, 100, 100]
    assert {t.name for t in report.scatter_figure().data} == set(points["cluster"])
    metrics = {m.name: m.value for m in report.data.detailed_metrics.metrics}
    assert metrics["silhouette"] == pytest.approx(kmeans.metrics["silhouette"])
    assert report.data.training_info.n_rows == 300
    assert report.importance_table()["importance"].sum() == pytest.approx(100, abs=0.5)
    with pytest.raises(cl.ClusterLabError, match="two-step"):
        report.hierarchy_figure()
    tree = two_step.report.data.hierarchy
    assert tree is not None
    assert sorted(n.name for n in tree.nodes if n.is_cluster) == sorted(
        c.id for c in two_step.clusters
    )


def test_session_recommends_k_with_stability(blobs: cl.Project) -> None:
    task = blobs.create_clustering_task("points")
    task.reject_feature("country")
    task.set_algorithm("kmeans", k=[2, 3, 4])
    choice = task.train().choose_k()
    assert choice is not None
    assert choice.k == 3
    assert "k = 3" in choice.reason
    stable = {row.k: row.ari_mean for row in choice.table}
    assert stable[3] == pytest.approx(1.0, abs=0.01)


def test_two_step_node_set_as_cluster_rescores_the_model(blobs: cl.Project) -> None:
    task = blobs.create_clustering_task("points")
    task.reject_feature("country")
    task.disable_algorithm("kmeans")
    task.set_algorithm("two_step", k=2, pre_k=12)
    model = task.train().models[0]
    tree = model.report.data.hierarchy
    assert tree is not None
    first, second = tree.cluster_nodes
    model.rename_cluster(f"node_{second}", "Kept")
    # Split the first cluster: set one of its children as a cluster.
    child = tree.node(first).children[0]
    model.set_cluster_node(child)
    assert model.metrics["n_clusters"] == 3
    names = {c.id: c.name for c in model.clusters}
    assert names[f"node_{second}"] == "Kept"
    assert f"node_{child}" in names
    frame = blobs.dataset("points").to_pandas()
    labels = model.predict(frame)
    assert labels.nunique() == 3
    assert model.report.data.hierarchy is not None
    assert sorted(model.report.data.hierarchy.cluster_nodes) == sorted(
        int(c.removeprefix("node_")) for c in names
    )
    matrix = StandardScaler().fit_transform(frame[["x", "y"]])
    assert model.metrics["silhouette"] == pytest.approx(silhouette_score(matrix, labels))
    model.set_cluster_node(first)  # merges the split cluster back
    assert model.metrics["n_clusters"] == 2
    assert {c.name for c in model.clusters} >= {"Kept"}
