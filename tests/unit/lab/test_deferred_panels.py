"""A session leaves profiles, importance, scatter plot and rules to a model's first view."""

from __future__ import annotations

import shutil
import threading

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

import clusterlab as cl
from clusterlab.core.errors import StorageError
from clusterlab.ml.report import ClusterReport
from clusterlab.ml.training import report_features, train_session
from clusterlab.services.lab import ClusteringTask, Model
from clusterlab.services.model_store import (
    LABELS_FILE,
    ModelStore,
    complete_report,
    read_report,
)
from clusterlab.services.training_sample import read_sample
from clusterlab.web import create_app


@pytest.fixture
def task(project: cl.Project) -> ClusteringTask:
    rng = np.random.default_rng(5)
    centers = np.array([[0, 0, 0], [6, 6, 0], [0, 6, 6]])
    points = np.vstack([rng.normal(c, 0.7, (150, 3)) for c in centers])
    frame = pd.DataFrame(points, columns=["x", "y", "z"])
    frame["country"] = rng.choice(["France", "Spain", "Italy"], len(frame))
    frame.loc[::11, "x"] = np.nan
    project.create_dataset("points", frame)
    task = project.create_clustering_task("points")
    task.set_algorithm("kmeans", k=[3, 4])
    return task


def _stored(model: Model) -> ClusterReport:
    return read_report(model.folder)


def test_a_session_stores_summary_panels_and_defers_the_rest(task: ClusteringTask) -> None:
    model = task.train().models[0]
    stored = _stored(model)
    assert stored.deferred
    assert stored.profiles == []
    assert stored.importances == []
    assert stored.scatter is None
    assert stored.rules is None
    assert stored.detailed_metrics is not None
    assert stored.training_info is not None
    assert (model.folder / LABELS_FILE).is_file()
    # Reading the summary panels builds nothing.
    assert len(model.report.observations()) > 0
    assert len(model.report.heatmap_table()) > 0
    assert _stored(model).deferred


def test_first_view_builds_the_panels_an_eager_write_builds(task: ClusteringTask, tmp_path) -> None:
    session = task.train()
    model = session.models[1]
    assert model.report.importance_table()["importance"].sum() == pytest.approx(100.0)
    lazy = _stored(model)
    assert not lazy.deferred
    assert not (model.folder / LABELS_FILE).exists()
    # The same session written whole in one go, from the same cached rows.
    frame = read_sample(task.folder, session.summary.sample)
    result = train_session(frame, session.summary.design, sample=False)
    ModelStore(result, lambda _m: None).write(result.models[1], tmp_path / "eager")
    eager = read_report(tmp_path / "eager")
    assert not eager.deferred
    panels = ("clusters", "observations", "heatmap", "profiles", "importances", "rules", "scatter")
    for panel in panels:
        assert getattr(lazy, panel) == getattr(eager, panel), panel


def test_labels_kept_as_parquet_by_an_older_version_still_complete(
    task: ClusteringTask, tmp_path
) -> None:
    session = task.train()
    model = session.models[0]
    legacy = tmp_path / "legacy"
    shutil.copytree(model.folder, legacy)
    pq.write_table(pa.ipc.open_file(legacy / LABELS_FILE).read_all(), legacy / "labels.parquet")
    (legacy / LABELS_FILE).unlink()
    frame = read_sample(task.folder, session.summary.sample)
    completed = complete_report(legacy, lambda: frame, report_features(session.summary.design))
    assert not completed.deferred
    assert completed == model.complete_report()
    assert not (legacy / "labels.parquet").exists()


def test_two_viewers_at_once_build_the_panels_once(task: ClusteringTask) -> None:
    model = task.train().models[0]
    reports: list[object] = []
    threads = [
        threading.Thread(target=lambda: reports.append(model.complete_report())) for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reports) == 3
    assert all(r == reports[0] for r in reports)
    assert not _stored(model).deferred


def test_deploy_copies_a_whole_report(task: ClusteringTask) -> None:
    model = task.train().models[0]
    saved = model.deploy("segments")
    assert not _stored(model).deferred
    version = saved.active
    assert version is not None
    assert len(version.report.data.profiles) == 4
    assert not (version.folder / LABELS_FILE).exists()


def test_a_lost_training_sample_gives_a_clear_error(task: ClusteringTask) -> None:
    model = task.train().models[0]
    for cached in (task.folder / "samples").iterdir():
        cached.unlink()
    with pytest.raises(StorageError, match="no longer cached"):
        model.report.rules()
    # The summary panels still read, and the report is left as it was.
    assert len(model.report.observations()) > 0
    assert _stored(model).deferred


def test_the_report_page_builds_them_when_one_of_them_is_opened(task: ClusteringTask) -> None:
    model = task.train().models[0]
    project = task.project
    url = f"/projects/{project.key}/lab/{task.id}/sessions/1/models/{model.id}"
    with TestClient(create_app(project.workspace)) as client:
        for panel in ("summary", "heatmap", "hierarchy", "anomalies", "metrics", "training"):
            assert client.get(url, params={"panel": panel}).status_code == 200, panel
        assert _stored(model).deferred
        page = client.get(url, params={"panel": "profiles"})
        assert page.status_code == 200
        assert "<option>country</option>" in page.text
    assert not _stored(model).deferred


def test_a_first_view_preprocesses_only_the_rows_its_panels_read() -> None:
    from clusterlab.core.mltask import FeatureHandling
    from clusterlab.ml.preprocess import fit_preprocessing
    from clusterlab.ml.report.importance import variables_importance
    from clusterlab.services.model_store import FitRows

    rng = np.random.default_rng(2)
    rows = 30_000  # above the importance's 20,000-row sample
    frame = pd.DataFrame({"a": rng.normal(size=rows), "b": rng.exponential(size=rows)})
    frame.loc[::97, "a"] = np.nan  # imputed, so every row is kept
    frame["country"] = rng.choice(["France", "Spain"], rows)
    handling = [FeatureHandling(name=c) for c in frame.columns]
    preprocessing, matrix, kept = fit_preprocessing(frame, handling)
    positions = np.flatnonzero(kept)[::3]
    whole = matrix[::3]
    lazy = FitRows(preprocessing, frame, positions)
    assert lazy.shape == whole.shape
    picked = rng.choice(len(positions), 500, replace=False)
    np.testing.assert_array_equal(lazy[picked], whole[picked])
    np.testing.assert_array_equal(lazy[::7], whole[::7])
    np.testing.assert_array_equal(np.asarray(lazy), whole)
    labels = np.where(whole[:, 0] > 0, "high", "low")
    names = preprocessing.feature_names
    assert variables_importance(lazy, labels, names) == variables_importance(whole, labels, names)
