"""Choosing k with evidence: bootstrap stability per k and the recommended k."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.mltask import (
    AgglomerativeSpec,
    DBSCANSpec,
    FeatureHandling,
    KMeansSpec,
    ModelParams,
    NumericHandling,
    ReductionSpec,
    TaskDesign,
)
from clusterlab.ml.algorithms import fit_clustering
from clusterlab.ml.stability import (
    KCandidate,
    KRecommendation,
    StabilityPoint,
    adjusted_rand,
    bootstrap_stability,
    choose_k,
    k_table,
    recommend_k,
    session_stability,
)
from clusterlab.ml.training import train_session

COLUMNS = ["a", "b", "c"]


def four_blobs(n_per_blob: int = 80, seed: int = 0) -> pd.DataFrame:
    """Four round blobs far apart in three dimensions."""
    rng = np.random.default_rng(seed)
    centers = [(0, 0, 0), (10, 0, 0), (0, 10, 0), (0, 0, 10)]
    points = np.vstack([rng.normal(c, 0.6, (n_per_blob, 3)) for c in centers])
    return pd.DataFrame(points, columns=COLUMNS)


def design(*algorithms, columns=COLUMNS, **options) -> TaskDesign:
    return TaskDesign(
        features=tuple(FeatureHandling(name=c) for c in columns),
        algorithms=tuple(algorithms),
        **options,
    )


@pytest.fixture(scope="module")
def blob_session():
    return train_session(four_blobs(), design(KMeansSpec(k=(2, 3, 4, 5, 6), seed=0)))


def test_on_four_blobs_k4_is_perfectly_stable_and_recommended(blob_session):
    points = session_stability(blob_session)
    by_k = {p.k: p for p in points}
    assert sorted(by_k) == [2, 3, 4, 5, 6]
    assert by_k[4].ari_mean == pytest.approx(1.0, abs=1e-9)
    assert by_k[4].ari_std == pytest.approx(0.0, abs=1e-9)
    assert by_k[4].samples == 5
    assert by_k[4].rows == 320
    # Splitting a round blob in two has no preferred cut: 5 and 6 come back different.
    assert by_k[5].ari_mean < 0.95
    assert by_k[6].ari_mean < 0.95
    choice = recommend_k(k_table(blob_session, points))
    assert choice.k == 4
    assert choice.model_label == "K-means (k=4)"
    assert choice.reason.startswith("k = 4: ")
    assert "ARI 1.00 ± 0.00" in choice.reason
    assert [row.k for row in choice.table] == [2, 3, 4, 5, 6]
    assert choice.table[2].stable is True
    assert choice == choose_k(blob_session)


def test_on_uniform_noise_no_k_is_clearly_supported():
    rng = np.random.default_rng(4)
    columns = [f"u{i}" for i in range(6)]
    noise = pd.DataFrame(rng.uniform(size=(600, 6)), columns=columns)
    session = train_session(noise, design(KMeansSpec(k=(3, 4, 5), seed=0), columns=columns))
    choice = choose_k(session)
    assert [row.k for row in choice.table] == [3, 4, 5]
    assert all(row.ari_mean is not None and row.ari_mean < 0.6 for row in choice.table)
    assert all(row.stable is False for row in choice.table)
    assert choice.k is None
    assert choice.model_label is None
    assert choice.reason.startswith("No k is clearly supported")
    assert "below 0.8" in choice.reason


def test_each_sample_is_an_ari_on_the_distinct_rows_drawn(blob_session):
    model = next(m for m in blob_session.models if m.params.k == 3)
    labels = model.labels.to_numpy()[blob_session.fit_positions]
    matrix = blob_session.matrix
    point = bootstrap_stability(model.params, matrix, labels, samples=3, seed=7)
    expected = []
    for b in range(3):
        drawn = np.random.default_rng([7, b]).integers(0, len(matrix), len(matrix))
        refit = fit_clustering(model.params, matrix[drawn])
        distinct, first = np.unique(drawn, return_index=True)
        expected.append(adjusted_rand_score(labels[distinct], refit.label_ids[first]))
    assert point.ari_mean == pytest.approx(np.mean(expected), abs=1e-12)
    assert point.ari_std == pytest.approx(np.std(expected), abs=1e-12)
    # Same seed, same draws, same figures; another seed draws other rows.
    again = bootstrap_stability(model.params, matrix, labels, samples=3, seed=7)
    assert again == point


def test_labels_are_those_of_the_fitted_rows_when_rows_were_dropped():
    frame = four_blobs(60)
    frame.loc[::7, "a"] = np.nan
    features = tuple(
        FeatureHandling(name=c, numeric=NumericHandling(missing="drop")) for c in COLUMNS
    )
    session = train_session(
        frame,
        TaskDesign(features=features, algorithms=(KMeansSpec(k=(3, 4), seed=0),)),
    )
    assert len(session.fit_positions) < len(frame)
    points = session_stability(session, samples=3, seed=2)
    for model, point in zip(session.models, points, strict=True):
        labels = model.labels.to_numpy()[session.fit_positions]
        expected = bootstrap_stability(model.params, session.matrix, labels, samples=3, seed=2)
        assert point == expected
    assert points[1].ari_mean == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(6))
def test_adjusted_rand_equals_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 5000))
    truth = rng.integers(0, rng.integers(1, 12), n)
    names = np.array([f"cluster_{i}" for i in range(12)], dtype=object)[truth]
    # Each refit label keeps the true one or, for a share of the rows, takes a random one.
    refit = np.where(rng.random(n) < rng.random(), rng.integers(0, 8, n), truth % 5)
    expected = adjusted_rand_score(truth, refit)
    assert adjusted_rand(names, refit) == pytest.approx(expected, abs=1e-12)
    assert adjusted_rand(refit, names) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ([], []),
        ([3], [0]),
        ([0, 0, 0], [1, 1, 1]),
        ([0, 1, 2, 3], [0, 0, 0, 0]),
        ([0, 1, 2, 3], [3, 2, 1, 0]),
        (["b", "a", "b", "a"], [0, 1, 1, 0]),
    ],
)
def test_adjusted_rand_edge_cases_match_scikit_learn(left, right):
    expected = adjusted_rand_score(left, right)
    assert adjusted_rand(np.array(left), np.array(right)) == pytest.approx(expected, abs=1e-12)


def test_rows_per_sample_are_capped(blob_session):
    point = session_stability(blob_session, max_rows=100, samples=2)[2]
    assert (point.k, point.rows, point.samples) == (4, 100, 2)
    assert point.ari_mean == pytest.approx(1.0)


def test_work_cap_reduces_samples_then_skips_and_says_so(blob_session):
    model = next(m for m in blob_session.models if m.params.k == 4)
    labels = model.labels.to_numpy()[blob_session.fit_positions]
    per_fit = 320 * 4 * 3
    reduced = bootstrap_stability(model.params, blob_session.matrix, labels, max_work=per_fit * 3)
    assert reduced.samples == 3
    assert reduced.note is not None
    assert reduced.note.startswith("3 of 5 samples")
    skipped = bootstrap_stability(model.params, blob_session.matrix, labels, max_work=per_fit)
    assert (skipped.samples, skipped.ari_mean, skipped.ari_std) == (0, None, None)
    assert skipped.note is not None
    assert "not measured" in skipped.note
    assert "max_work" in skipped.note


def test_skipped_stability_falls_back_on_silhouette(blob_session):
    choice = choose_k(blob_session, max_work=1)
    assert all(row.stable is None and row.note for row in choice.table)
    best = max(choice.table, key=lambda r: r.silhouette)
    assert choice.k == best.k == 4
    assert "stability was not measured" in choice.reason


def test_pca_models_and_other_algorithms_are_measured_dbscan_is_not():
    frame = four_blobs(40)
    session = train_session(
        frame,
        design(
            KMeansSpec(k=(4,), seed=0),
            AgglomerativeSpec(k=(4,)),
            DBSCANSpec(eps=(1.0,)),
            reduction=ReductionSpec(mode="both", variance=0.99),
        ),
    )
    points = session_stability(session, samples=2)
    labels = [p.label for p in points]
    assert labels == [
        "K-means (k=4)",
        "K-means (k=4, PCA)",
        "Agglomerative clustering (k=4)",
        "Agglomerative clustering (k=4, PCA)",
    ]
    assert all(p.ari_mean == pytest.approx(1.0) for p in points)
    choice = recommend_k(k_table(session, points))
    # Several families: the reason names the model, not only the k.
    assert choice.reason.startswith(f"k = 4 with {choice.model_label}: ")


def rows(*specs) -> list[KCandidate]:
    return [
        KCandidate(
            k=k,
            label=f"K-means (k={k})",
            silhouette=s,
            davies_bouldin=db,
            ari_mean=ari,
            ari_std=0.02 if ari is not None else None,
            stable=None if ari is None else ari >= 0.8,
        )
        for k, s, db, ari in specs
    ]


def test_rule_prefers_stability_among_near_best_silhouettes():
    table = rows((3, 0.62, 0.7, 0.90), (5, 0.60, 0.8, 0.97), (7, 0.50, 0.5, 0.99))
    choice = recommend_k(table)
    # k=7 is the most stable but its silhouette is 0.12 below the best: out.
    assert choice.k == 5
    assert "most stable of the stable k with a silhouette within 0.05" in choice.reason
    assert "ARI 0.97 ± 0.02" in choice.reason


def test_rule_names_an_unstable_k_with_a_better_silhouette():
    table = rows((2, 0.70, 0.4, 0.55), (4, 0.61, 0.6, 0.95), (6, 0.40, 0.9, 0.85))
    choice = recommend_k(table)
    assert choice.k == 4
    assert "best silhouette of the stable k" in choice.reason
    assert "k = 2 has a higher silhouette (0.70) but is unstable (ARI 0.55" in choice.reason


def test_rule_breaks_stability_ties_by_davies_bouldin():
    table = rows((3, 0.60, 0.9, 0.995), (4, 0.60, 0.5, 0.99), (5, 0.59, 0.7, 0.999))
    assert recommend_k(table).k == 4
    # With no Davies-Bouldin, the higher silhouette, then the smaller k decide.
    table = rows((3, 0.60, None, 0.995), (4, 0.60, None, 0.99), (5, 0.59, None, 0.999))
    assert recommend_k(table).k == 3


def test_rule_with_one_k_or_none():
    single = recommend_k(rows((5, 0.5, 0.7, 0.9)))
    assert single.k == 5
    assert "only k trained" in single.reason
    empty = recommend_k([])
    assert (empty.k, empty.model_label, empty.table) == (None, None, [])
    assert "takes a k" in empty.reason


def test_results_are_json_round_trips(blob_session):
    point = session_stability(blob_session, samples=2)[0]
    assert StabilityPoint.model_validate_json(point.model_dump_json()) == point
    choice = choose_k(blob_session, samples=2)
    assert KRecommendation.model_validate_json(choice.model_dump_json()) == choice


def test_bad_input_says_what_to_do():
    x = np.zeros((10, 2))
    kmeans = ModelParams(algorithm="kmeans", params={"k": 2})
    with pytest.raises(InvalidInputError, match="takes no k"):
        bootstrap_stability(ModelParams(algorithm="dbscan", params={"eps": 0.5}), x, [0] * 10)
    with pytest.raises(InvalidInputError, match="one label per row"):
        bootstrap_stability(kmeans, x, [0] * 9)
    with pytest.raises(InvalidInputError, match="at least 1"):
        bootstrap_stability(kmeans, x, [0] * 10, samples=0)


def test_docstring_examples():
    result = doctest.testmod(
        importlib.import_module("clusterlab.ml.stability"), optionflags=doctest.ELLIPSIS
    )
    assert result.failed == 0
    assert result.attempted > 0
