"""Distance of each scored row to its cluster's centroid, and the training state behind it."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from clusterlab.core.errors import InvalidInputError, UnsupportedError
from clusterlab.core.mltask import (
    DBSCANSpec,
    FeatureHandling,
    IsolationForestSpec,
    KMeansSpec,
    NumericHandling,
    OutliersSpec,
    ReductionSpec,
    TaskDesign,
    TwoStepSpec,
)
from clusterlab.ml.artifacts import ARTIFACT, MANIFEST, file_sha256, read_manifest
from clusterlab.ml.model import DISTANCE_COLUMN, LABEL_COLUMN
from clusterlab.ml.training import (
    SessionResult,
    TrainedModel,
    load_model,
    save_model,
    train_session,
)

CENTERS = ((0.0, 0.0), (8.0, 1.0), (1.0, 9.0))


def blobs(n: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.concat(
        [
            pd.DataFrame({"x": rng.normal(cx, 0.6, n), "y": rng.normal(cy, 0.6, n)})
            for cx, cy in CENTERS
        ],
        ignore_index=True,
    )


def train(
    frame: pd.DataFrame,
    spec: object,
    features: tuple[FeatureHandling, ...] | None = None,
    **options,
) -> tuple[SessionResult, TrainedModel]:
    """Train one model and record its training state as training does after fitting."""
    features = features or (FeatureHandling(name="x"), FeatureHandling(name="y"))
    session = train_session(frame, TaskDesign(features=features, algorithms=(spec,), **options))
    trained = session.models[0]
    assert trained.model is not None, trained.error
    assert trained.labels is not None
    matrix = session.matrix
    if trained.params.pca:
        matrix = session.pca.transform(matrix)
    ids_of = {name: i for i, name in trained.model.names.items()}
    fit_names = trained.labels.to_numpy()[session.fit_positions]
    trained.model.record_training(
        matrix, np.array([ids_of[n] for n in fit_names]), trained.labels.to_numpy()
    )
    return session, trained


def standardized(train_frame: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """Standard rescaling by hand: training mean and population std."""
    values = train_frame[["x", "y"]].to_numpy()
    return (rows[["x", "y"]].to_numpy() - values.mean(axis=0)) / values.std(axis=0)


NEW_ROWS = pd.DataFrame({"x": [0.3, 7.0, 2.0, 4.0], "y": [-0.2, 1.5, 8.0, 4.0]})


def test_kmeans_distance_is_the_distance_to_its_centroid():
    frame = blobs()
    _, trained = train(frame, KMeansSpec(k=(3,), seed=0))
    model = trained.model
    scored = model.predict(NEW_ROWS, with_distance=True)
    assert list(scored.columns) == [LABEL_COLUMN, DISTANCE_COLUMN]
    assert scored[LABEL_COLUMN].tolist() == model.predict(NEW_ROWS)[LABEL_COLUMN].tolist()
    centers = model.estimator.cluster_centers_
    by_name = {model.names[i]: centers[i] for i in range(3)}
    z = standardized(frame, NEW_ROWS)
    expected = [
        np.sqrt(((z[r] - by_name[label]) ** 2).sum())
        for r, label in enumerate(scored[LABEL_COLUMN])
    ]
    assert scored[DISTANCE_COLUMN].to_numpy() == pytest.approx(expected, rel=1e-9)
    assert set(model.centroids) == {"cluster_0", "cluster_1", "cluster_2"}
    assert model.centroids["cluster_1"] == pytest.approx(by_name["cluster_1"])


def test_predict_without_distance_is_unchanged():
    _, trained = train(blobs(), KMeansSpec(k=(3,), seed=0))
    assert list(trained.model.predict(NEW_ROWS).columns) == [LABEL_COLUMN]


def test_dbscan_uses_the_mean_of_training_rows_and_leaves_noise_without_distance():
    frame = pd.concat([blobs(), pd.DataFrame({"x": [30.0], "y": [30.0]})], ignore_index=True)
    _, trained = train(frame, DBSCANSpec(eps=(0.5,), min_sample_ratio=0.03))
    model = trained.model
    z_train = standardized(frame, frame)
    labels = trained.labels.to_numpy()
    rows = pd.concat([NEW_ROWS, pd.DataFrame({"x": [60.0], "y": [-40.0]})], ignore_index=True)
    scored = model.predict(rows, with_distance=True)
    z = standardized(frame, rows)
    for r, label in enumerate(scored[LABEL_COLUMN]):
        if label == "noise":
            assert np.isnan(scored[DISTANCE_COLUMN].iloc[r])
            continue
        center = z_train[labels == label].mean(axis=0)
        assert scored[DISTANCE_COLUMN].iloc[r] == pytest.approx(np.linalg.norm(z[r] - center))
    assert scored[LABEL_COLUMN].iloc[-1] == "noise"


def test_dropped_rows_and_outliers_have_no_distance():
    frame = pd.concat(
        [blobs(n=100), pd.DataFrame({"x": [60.0, 61.0], "y": [60.0, 61.0]})], ignore_index=True
    )
    features = (
        FeatureHandling(name="x", numeric=NumericHandling(missing="drop")),
        FeatureHandling(name="y"),
    )
    _, trained = train(
        frame,
        KMeansSpec(k=(3,), seed=0),
        features,
        outliers=OutliersSpec(method="cluster", min_size=5),
    )
    rows = pd.DataFrame({"x": [None, 60.5, 0.1], "y": [0.0, 60.5, 0.1]})
    scored = trained.model.predict(rows, with_distance=True)
    assert pd.isna(scored[LABEL_COLUMN].iloc[0])
    assert scored[LABEL_COLUMN].iloc[1] == "cluster_outliers"
    assert np.isnan(scored[DISTANCE_COLUMN].iloc[0])
    assert np.isnan(scored[DISTANCE_COLUMN].iloc[1])
    assert np.isfinite(scored[DISTANCE_COLUMN].iloc[2])
    baseline = trained.model.baseline
    assert baseline.shares["cluster_outliers"] == pytest.approx(2 / len(frame))


def test_distance_is_measured_after_pca():
    frame = blobs()
    _, trained = train(
        frame, KMeansSpec(k=(3,), seed=0), reduction=ReductionSpec(mode="pca", variance=0.99)
    )
    model = trained.model
    assert model.pca is not None
    scored = model.predict(NEW_ROWS, with_distance=True)
    projected = model.pca.transform(standardized(frame, NEW_ROWS))
    centers = model.centroids
    expected = [
        np.linalg.norm(projected[r] - centers[label])
        for r, label in enumerate(scored[LABEL_COLUMN])
    ]
    assert scored[DISTANCE_COLUMN].to_numpy() == pytest.approx(expected)
    assert len(next(iter(centers.values()))) == model.pca.named_steps["pca"].n_components_


def test_two_step_centroids_follow_the_chosen_nodes():
    frame = blobs()
    session, trained = train(frame, TwoStepSpec(pre_k=12, k=3, seed=0))
    model = trained.model
    estimator = model.estimator
    for i, node in enumerate(estimator.cluster_nodes_):
        assert model.centroids[model.names[i]] == pytest.approx(estimator.node_centers_[node])
    root = 2 * (len(estimator.linkage_) + 1) - 2
    model.set_cluster_nodes([root])
    assert list(model.centroids) == [f"node_{root}"]
    # The root is the mean of every training row.
    assert model.centroids[f"node_{root}"] == pytest.approx(session.matrix.mean(axis=0))


def test_isolation_forest_rows_get_a_distance_to_their_group():
    frame = blobs()
    _, trained = train(frame, IsolationForestSpec(n_estimators=20, seed=0))
    scored = trained.model.predict(frame, with_distance=True)
    assert list(scored.columns) == [LABEL_COLUMN, "anomaly_score", DISTANCE_COLUMN]
    z = standardized(frame, frame)
    regular = (scored[LABEL_COLUMN] == "regular").to_numpy()
    expected = np.linalg.norm(z[regular] - z[regular].mean(axis=0), axis=1)
    assert scored[DISTANCE_COLUMN].to_numpy()[regular] == pytest.approx(expected)


def test_training_baseline_holds_shares_and_distance_quantiles():
    frame = blobs()
    _, trained = train(frame, KMeansSpec(k=(3,), seed=0))
    baseline = trained.model.baseline
    counts = trained.labels.value_counts()
    assert baseline.shares == pytest.approx({n: c / len(frame) for n, c in counts.items()})
    scored = trained.model.predict(frame, with_distance=True)
    for name in counts.index:
        values = scored[DISTANCE_COLUMN][scored[LABEL_COLUMN] == name].to_numpy()
        assert baseline.distances[name].p99 == pytest.approx(np.quantile(values, 0.99))
        assert baseline.distances[name].rms == pytest.approx(np.sqrt((values**2).mean()))


def test_models_without_any_centroids_refuse_distances_but_still_label_rows():
    _, trained = train(blobs(), DBSCANSpec(eps=(0.5,), min_sample_ratio=0.03))
    model = trained.model
    expected_labels = model.predict(NEW_ROWS)[LABEL_COLUMN]
    model.training = None
    assert not model.has_centroids
    with pytest.raises(UnsupportedError, match="Retrain the model"):
        model.centroid_table()
    # Scoring keeps working: same labels, no distance.
    scored = model.predict(NEW_ROWS, with_distance=True)
    pd.testing.assert_series_equal(scored[LABEL_COLUMN], expected_labels)
    assert scored[DISTANCE_COLUMN].isna().all()


def test_record_training_checks_its_inputs():
    _, trained = train(blobs(), KMeansSpec(k=(3,), seed=0))
    with pytest.raises(InvalidInputError, match="one label id per matrix row"):
        trained.model.record_training(np.zeros((3, 2)), np.zeros(2, dtype=np.int64))
    with pytest.raises(InvalidInputError, match="training matrix has 3"):
        trained.model.record_training(
            np.zeros((3, 2)), np.zeros(3, dtype=np.int64), ["cluster_0", None, None, None]
        )


def _strip_training(folder) -> None:
    """Rewrite a saved artifact as one saved before training state existed."""
    path = folder / ARTIFACT
    payload = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    del payload["training"]
    sio.dump(payload, path)
    manifest = read_manifest(folder).model_copy(update={"artifact_sha256": file_sha256(path)})
    (folder / MANIFEST).write_text(manifest.model_dump_json(), encoding="utf-8")


def test_training_state_survives_save_and_load_and_old_artifacts_still_load(tmp_path):
    frame = blobs()
    _, kmeans = train(frame, KMeansSpec(k=(3,), seed=0))
    _, dbscan = train(frame, DBSCANSpec(eps=(0.5,), min_sample_ratio=0.03))
    for name, trained in (("kmeans", kmeans), ("dbscan", dbscan)):
        save_model(trained, tmp_path / name)
        loaded = load_model(tmp_path / name)
        assert loaded.baseline == trained.model.baseline
        expected = trained.model.predict(NEW_ROWS, with_distance=True)
        pd.testing.assert_frame_equal(loaded.predict(NEW_ROWS, with_distance=True), expected)
        _strip_training(tmp_path / name)
    old_kmeans, old_dbscan = load_model(tmp_path / "kmeans"), load_model(tmp_path / "dbscan")
    assert old_kmeans.training is None
    assert old_kmeans.baseline is None
    pd.testing.assert_frame_equal(
        old_kmeans.predict(NEW_ROWS, with_distance=True),
        kmeans.model.predict(NEW_ROWS, with_distance=True),
    )
    with pytest.raises(UnsupportedError, match="trained before"):
        old_dbscan.distances(np.zeros((1, 2)), np.zeros(1, dtype=np.int64))
    assert old_dbscan.predict(NEW_ROWS, with_distance=True)[DISTANCE_COLUMN].isna().all()


@pytest.mark.parametrize("name", ["clusterlab.ml.model", "clusterlab.ml.artifacts"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0


@pytest.mark.parametrize(
    "spec", [KMeansSpec(k=(3,), seed=0), DBSCANSpec(eps=(0.5,), min_sample_ratio=0.03)]
)
def test_training_state_from_the_metrics_spread_equals_a_fresh_measure(spec):
    # Training records centroids and distances from the spread its metrics measured;
    # recording them again from the matrix alone must give the same state (with noise
    # rows for DBSCAN, which have no centroid and no distance).
    frame = pd.concat([blobs(seed=4), pd.DataFrame({"x": [4.0, -3.0], "y": [-4.0, 5.0]})])
    session = train_session(
        frame.reset_index(drop=True),
        TaskDesign(
            features=(FeatureHandling(name="x"), FeatureHandling(name="y")), algorithms=(spec,)
        ),
    )
    trained = session.models[0]
    assert trained.model is not None, trained.error
    shared = trained.model.training
    assert shared is not None
    assert shared.baseline is not None
    ids_of = {name: i for i, name in trained.model.names.items()}
    fit_names = trained.labels.to_numpy()[session.fit_positions]
    trained.model.record_training(
        session.matrix, np.array([ids_of[n] for n in fit_names]), trained.labels.to_numpy()
    )
    fresh = trained.model.training
    assert fresh is not shared
    assert fresh.label_ids.tolist() == shared.label_ids.tolist()
    np.testing.assert_allclose(fresh.centroids, shared.centroids, rtol=1e-12, atol=1e-12)
    assert fresh.baseline.shares == shared.baseline.shares
    for name, quantiles in fresh.baseline.distances.items():
        assert quantiles.model_dump() == pytest.approx(shared.baseline.distances[name].model_dump())
