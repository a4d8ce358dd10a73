"""Saving and loading models: same labels after a round trip; tampered artifacts refused."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from clusterlab.core.errors import StorageError, UnsupportedError
from clusterlab.core.mltask import (
    CustomSpec,
    DBSCANSpec,
    IsolationForestSpec,
    KMeansSpec,
    OutliersSpec,
    ReductionSpec,
    TaskDesign,
    TwoStepSpec,
)
from clusterlab.ml.artifacts import ARTIFACT, MANIFEST, file_sha256, read_manifest
from clusterlab.ml.training import load_model, save_model, train_session

from .conftest import blobs, numeric_design


@pytest.fixture(scope="module")
def session():
    frame = pd.concat(
        [blobs(n_per_blob=80, seed=11), pd.DataFrame({"x": [70.0], "y": [70.0]})],
        ignore_index=True,
    )
    design = numeric_design(
        KMeansSpec(k=(3,), seed=0),
        TwoStepSpec(pre_k=15, k=3, seed=0),
        DBSCANSpec(eps=(0.4,), min_sample_ratio=0.02),
        IsolationForestSpec(n_estimators=30, seed=0),
        reduction=ReductionSpec(mode="both"),
        outliers=OutliersSpec(method="cluster", min_size=3),
    )
    return train_session(frame, design)


def test_round_trip_predicts_the_same_labels_for_every_model(session, tmp_path):
    new_rows = pd.concat(
        [session.frame, pd.DataFrame({"x": [0.2, 9.5, np.nan], "y": [0.1, 0.3, 10.0]})],
        ignore_index=True,
    )
    for i, trained in enumerate(session.models):
        assert trained.ok, trained.error
        folder = tmp_path / f"m{i}"
        save_model(trained, folder)
        loaded = load_model(folder)
        before, after = trained.predict(new_rows), loaded.predict(new_rows)
        pd.testing.assert_frame_equal(before, after)
        if not trained.model.approximate:
            # Scoring the training rows gives back the training labels.
            training = after["cluster_labels"].iloc[: len(session.frame)]
            assert training.tolist() == trained.labels.tolist(), trained.params.label
        assert loaded.cluster_names == trained.model.cluster_names
        assert loaded.manifest.params == trained.params


def test_manifest_describes_the_model(session, tmp_path):
    trained = session.models[1]  # K-means with PCA
    manifest = save_model(trained, tmp_path)
    on_disk = json.loads((tmp_path / MANIFEST).read_text())
    assert on_disk["algorithm"] == "kmeans"
    assert on_disk["params"]["pca"] is True
    assert on_disk["factor_names"] == ["factor_0", "factor_1"]
    assert on_disk["feature_names"] == ["x", "y"]
    assert on_disk["seed"] == 0
    assert on_disk["data_hash"] == session.data_hash
    assert on_disk["metrics"]["silhouette"] == pytest.approx(trained.metrics.silhouette)
    assert {"python", "scikit-learn", "numpy", "skops"} <= set(on_disk["library_versions"])
    assert on_disk["artifact_sha256"] == file_sha256(tmp_path / ARTIFACT)
    assert on_disk["outliers"]["method"] == "cluster"
    assert read_manifest(tmp_path) == manifest


def test_two_step_hierarchy_survives_the_round_trip(session, tmp_path):
    trained = next(m for m in session.models if m.params.algorithm.value == "two_step")
    save_model(trained, tmp_path)
    tree = load_model(tmp_path).estimator
    assert np.array_equal(tree.linkage_, trained.hierarchy.linkage_)
    assert tree.cluster_names() == trained.hierarchy.cluster_names()


def test_tampered_artifact_is_refused(session, tmp_path):
    save_model(session.models[0], tmp_path)
    artifact = tmp_path / ARTIFACT
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    with pytest.raises(StorageError, match="does not match its manifest"):
        load_model(tmp_path)


def test_artifact_with_foreign_types_is_refused_even_with_a_matching_sha(session, tmp_path):
    save_model(session.models[0], tmp_path)
    artifact = tmp_path / ARTIFACT
    sio.dump({"format": 1, "estimator": argparse.Namespace(fit=None)}, artifact)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    manifest["artifact_sha256"] = file_sha256(artifact)
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(StorageError, match=r"argparse\.Namespace"):
        load_model(tmp_path)


def test_manifest_cannot_point_outside_its_folder(session, tmp_path):
    save_model(session.models[0], tmp_path / "model")
    path = tmp_path / "model" / MANIFEST
    manifest = json.loads(path.read_text())
    manifest["artifact"] = "../elsewhere.skops"
    path.write_text(json.dumps(manifest))
    with pytest.raises(StorageError, match="invalid artifact"):
        load_model(tmp_path / "model")


def test_custom_classes_cannot_be_saved(tmp_path):
    code = (
        "from sklearn.cluster import KMeans\n"
        "class Mine(KMeans):\n    pass\n"
        "clf = Mine(n_clusters=2, n_init=1, random_state=0)"
    )
    design = numeric_design(CustomSpec(code=code))
    trained = train_session(blobs(n_per_blob=10), design, allow_custom_code=True).models[0]
    assert trained.ok, trained.error
    with pytest.raises(UnsupportedError, match="cannot be saved safely"):
        save_model(trained, tmp_path)
    assert not list(tmp_path.iterdir())


def test_failed_models_cannot_be_saved(tmp_path):
    design = TaskDesign(features=numeric_design().features, algorithms=(KMeansSpec(k=(99,)),))
    failed = train_session(blobs(n_per_blob=5), design).models[0]
    with pytest.raises(UnsupportedError, match="failed to train"):
        save_model(failed, tmp_path)
