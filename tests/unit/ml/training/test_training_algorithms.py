"""Every algorithm type trains on a small dataset, with the right cluster names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.cluster.hierarchy import is_valid_linkage
from sklearn.metrics import adjusted_rand_score

from clusterlab.core.errors import InvalidInputError, UnsupportedError
from clusterlab.core.mltask import (
    AgglomerativeSpec,
    CustomSpec,
    DBSCANSpec,
    GaussianMixtureSpec,
    HDBSCANSpec,
    IsolationForestSpec,
    KMeansSpec,
    MiniBatchKMeansSpec,
    ModelParams,
    SpectralSpec,
    TwoStepSpec,
)
from clusterlab.ml.algorithms import QUADRATIC_MAX_ROWS, build_estimator
from clusterlab.ml.training import train_session

from .conftest import blobs, numeric_design

ALL_BUILT_IN = (
    KMeansSpec(k=(3,), seed=0),
    MiniBatchKMeansSpec(k=(3,), seed=0),
    GaussianMixtureSpec(components=(3,), covariance_types=("full", "diag"), seed=0),
    AgglomerativeSpec(k=(3,)),
    SpectralSpec(k=(3,), seed=0),
    DBSCANSpec(eps=(0.3,), min_sample_ratio=0.02),
    HDBSCANSpec(min_cluster_ratio=(0.1,)),
    TwoStepSpec(pre_k=20, k=3, seed=0),
)


@pytest.fixture(scope="module")
def session():
    return train_session(blobs(n_per_blob=60, seed=4), numeric_design(*ALL_BUILT_IN))


def test_every_clustering_algorithm_recovers_the_blobs(session):
    truth = blobs(n_per_blob=60, seed=4)["truth"]
    assert [m.params.algorithm.value for m in session.models] == [
        "kmeans",
        "minibatch_kmeans",
        "gmm",
        "gmm",
        "agglomerative",
        "spectral",
        "dbscan",
        "hdbscan",
        "two_step",
    ]
    for model in session.models:
        assert model.ok, (model.params.label, model.error)
        clustered = model.labels != "noise"
        ari = adjusted_rand_score(truth[clustered], model.labels[clustered])
        assert ari > 0.95, model.params.label
        assert model.metrics.n_clusters == 3
        assert model.timings["fit"] >= 0
        assert model.timings["total"] >= model.timings["fit"]


def test_default_names_follow_label_ids(session):
    for model in session.models:
        if model.params.algorithm.value in ("two_step", "dbscan"):
            continue
        assert model.cluster_names[:3] == ["cluster_0", "cluster_1", "cluster_2"]
        ids = getattr(model.model.estimator, "labels_", None)
        if ids is not None:
            names = model.labels.to_numpy()
            for i in range(3):
                assert set(names[ids == i]) == {f"cluster_{i}"}


def test_dbscan_noise_rows_are_labelled_noise():
    frame = pd.concat(
        [blobs(n_per_blob=60, seed=5), pd.DataFrame({"x": [50.0, -40.0], "y": [50.0, 30.0]})],
        ignore_index=True,
    )
    design = numeric_design(DBSCANSpec(eps=(0.3,), min_sample_ratio=0.02), HDBSCANSpec())
    for model in train_session(frame, design).models:
        assert model.labels.iloc[-2:].tolist() == ["noise", "noise"], model.params.label
        assert model.cluster_names[-1] == "noise"
        assert model.metrics.cluster_sizes["noise"] >= 2
        assert model.metrics.n_clusters == 3
        # New rows: near a core point → its cluster, far from all → noise (approximate rule).
        scored = model.predict(pd.DataFrame({"x": [0.0, 90.0], "y": [0.0, 90.0]}))
        label = scored["cluster_labels"].tolist()
        assert label[0].startswith("cluster_")
        assert model.model.approximate
        if model.params.algorithm.value == "dbscan":
            assert label[1] == "noise"


def test_isolation_forest_labels_regular_and_anomalies_with_scores():
    frame = pd.concat(
        [blobs(n_per_blob=100, seed=6), pd.DataFrame({"x": [60.0, -60.0], "y": [60.0, 5.0]})],
        ignore_index=True,
    )
    design = numeric_design(IsolationForestSpec(contamination=0.01, seed=0, n_estimators=50))
    model = train_session(frame, design).models[0]
    assert set(model.labels) == {"regular", "anomalies"}
    assert model.labels.iloc[-2:].tolist() == ["anomalies", "anomalies"]
    scores = model.anomaly_scores
    assert scores.notna().all()
    assert scores.between(0, 1).all()
    assert scores.iloc[-2:].min() > scores.iloc[:-2].max()
    assert model.metrics.cluster_sizes["anomalies"] == pytest.approx(3, abs=1)
    scored = model.predict(frame.tail(3))
    assert scored["cluster_labels"].tolist()[-2:] == ["anomalies", "anomalies"]
    assert np.allclose(scored["anomaly_score"], scores.tail(3))


def test_two_step_keeps_the_hierarchy():
    frame = blobs(n_per_blob=60, seed=4)
    model = train_session(frame, numeric_design(TwoStepSpec(pre_k=20, k=3, seed=0))).models[0]
    tree = model.hierarchy
    assert tree is not None
    assert is_valid_linkage(tree.linkage_)
    assert tree.linkage_.shape == (19, 4)
    assert tree.node_sizes_[-1] == 180
    assert model.cluster_names == [f"node_{n}" for n in tree.cluster_nodes_]
    # Every cluster is a node of the tree and sizes add up along it.
    sizes = model.metrics.cluster_sizes
    assert [sizes[name] for name in model.cluster_names] == [
        tree.node_sizes_[n] for n in tree.cluster_nodes_
    ]
    # Setting the root's children as clusters merges two of the three blobs.
    root_children = sorted(int(c) for c in tree.linkage_[-1, :2])
    model.model.set_cluster_nodes(root_children)
    merged = [f"node_{n}" for n in root_children]
    assert model.model.cluster_names == merged
    rescored = model.predict(frame)["cluster_labels"]
    assert set(rescored) == set(merged)
    assert rescored.value_counts().sort_values().tolist() == [60, 120]
    assert tree.labels_.tolist() == [merged.index(n) for n in rescored]
    with pytest.raises(InvalidInputError, match="none of the chosen nodes"):
        tree.set_cluster_nodes(root_children[:1])
    with pytest.raises(InvalidInputError, match="overlap"):
        tree.set_cluster_nodes([*root_children, 0])


def test_gmm_reports_bic_and_aic(session):
    gmms = [m for m in session.models if m.params.algorithm.value == "gmm"]
    assert [m.params.params["covariance_type"] for m in gmms] == ["full", "diag"]
    for model in gmms:
        assert model.metrics.bic is not None
        assert model.metrics.aic is not None
        assert model.metrics.inertia is None
    kmeans = session.models[0]
    assert kmeans.metrics.bic is None
    assert kmeans.metrics.inertia > 0


def test_a_failing_model_does_not_fail_the_session():
    frame = blobs(n_per_blob=5, seed=7)
    design = numeric_design(KMeansSpec(k=(3, 50), seed=0))
    session = train_session(frame, design)
    ok, failed = session.models
    assert ok.ok
    assert ok.metrics.n_clusters == 3
    assert not failed.ok
    assert failed.labels is None
    assert failed.model is None
    assert "asks for 50 clusters but the session trains on 15 rows" in (failed.error or "")
    assert session.sorted_models()[-1] is failed
    with pytest.raises(InvalidInputError, match="failed to train"):
        failed.predict(frame)


CUSTOM_CODE = """
from sklearn.cluster import KMeans

class Named(KMeans):
    def get_cluster_labels(self):
        return ["left", "right", "top"]

clf = Named(n_clusters=3, n_init=2, random_state=0)
"""


def test_custom_code_runs_only_when_allowed():
    frame = blobs(n_per_blob=30, seed=8)
    design = numeric_design(CustomSpec(name="Mine", code=CUSTOM_CODE))
    refused = train_session(frame, design).models[0]
    assert not refused.ok
    assert "disabled" in refused.error
    model = train_session(frame, design, allow_custom_code=True).models[0]
    assert model.ok, model.error
    assert sorted(model.cluster_names) == ["left", "right", "top"]
    assert model.params.label == "Mine"


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        ("import os\nclf = os", "may import only"),
        ("open('/etc/passwd')\nclf = 1", "NameError"),
        ("x = 1", "does not define clf"),
        ("clf = 3", "no fit method"),
    ],
)
def test_custom_code_errors_are_reported(code, fragment):
    model = train_session(
        blobs(n_per_blob=10), numeric_design(CustomSpec(code=code)), allow_custom_code=True
    ).models[0]
    assert not model.ok
    assert fragment in model.error


def test_quadratic_algorithms_refuse_too_many_rows():
    params = ModelParams(algorithm="agglomerative", params={"k": 3, "linkage": "ward"})
    with pytest.raises(UnsupportedError, match="sample"):
        build_estimator(params, QUADRATIC_MAX_ROWS + 1)
    rbf = ModelParams(algorithm="spectral", params={"k": 3, "affinity": "rbf"})
    with pytest.raises(UnsupportedError, match="GB"):
        build_estimator(rbf, QUADRATIC_MAX_ROWS + 1)
    nn = ModelParams(algorithm="spectral", params={"k": 3, "affinity": "nearest_neighbors"})
    assert build_estimator(nn, QUADRATIC_MAX_ROWS + 1).n_clusters == 3


def overlapping(n: int, seed: int = 0, width: int = 4) -> np.ndarray:
    """Five overlapping groups: Lloyd needs several iterations, restarts can disagree."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 1.5, (5, width))
    return centres[rng.choice(5, n)] + rng.normal(size=(n, width))


def test_kmeans_from_a_sample_labels_every_row_within_1pct_of_a_full_fit_inertia():
    from sklearn.cluster import KMeans

    from clusterlab.ml.algorithms import fit_kmeans_from_sample

    x = overlapping(20_000, seed=1)
    estimator = KMeans(n_clusters=5, n_init=3, random_state=0)
    labels = fit_kmeans_from_sample(estimator, x, seed=0, sample_rows=1_000)
    assert labels.shape == (20_000,)
    # The estimator was fitted on the sample; predict labels every row the same way.
    assert len(estimator.labels_) == 1_000
    assert np.array_equal(estimator.predict(x), labels)
    means = np.vstack([x[labels == c].mean(axis=0) for c in range(5)])
    recomputed = float(((x - means[labels]) ** 2).sum())
    bare = KMeans(n_clusters=5, random_state=0).fit(x)
    assert recomputed <= bare.inertia_ * 1.01


def test_kmeans_above_the_sample_threshold_goes_through_the_sample():
    from clusterlab.ml.algorithms import KMEANS_SAMPLE_ROWS, fit_clustering

    x = overlapping(KMEANS_SAMPLE_ROWS + 5_000, seed=2, width=3)
    fitted = fit_clustering(ModelParams(algorithm="kmeans", params={"k": 4, "seed": 3}), x)
    assert fitted.label_ids.shape == (len(x),)
    # The estimator was fitted on the sample only.
    assert len(fitted.estimator.labels_) == KMEANS_SAMPLE_ROWS
    assert np.array_equal(fitted.estimator.predict(x), fitted.label_ids)
    assert set(fitted.names_of(fitted.label_ids)) == {f"cluster_{i}" for i in range(4)}


def test_names_of_maps_every_id_and_refuses_an_unknown_one():
    from clusterlab.ml.algorithms import Clustering

    fitted = Clustering(None, np.array([0]), {-1: "noise", 0: "a", 2: "c"})
    ids = np.array([2, -1, 0, 2])
    assert fitted.names_of(ids).tolist() == ["c", "noise", "a", "c"]
    assert fitted.names_of(np.array([], dtype=np.int64)).tolist() == []
    with pytest.raises(KeyError):
        fitted.names_of(np.array([0, 1]))
    with pytest.raises(KeyError):
        Clustering(None, np.array([0]), {}).names_of(np.array([0]))
    # Ids 0 to k - 1 are their own positions; any other id still has no name.
    own = Clustering(None, np.array([0]), {0: "a", 1: "b"})
    assert own.names_of(np.array([1, 0, 1], dtype=np.int32)).tolist() == ["b", "a", "b"]
    for unknown in ([0, 2], [-1, 1]):
        with pytest.raises(KeyError):
            own.names_of(np.array(unknown))
