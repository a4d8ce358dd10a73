"""Metrics: exact silhouette below the threshold, stratified sample above, and the others."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

from clusterlab.core.mltask import MetricsSpec
from clusterlab.ml.metrics import compute_metrics, silhouette_score_of, stratified_sample

NAMES = {-1: "noise", 0: "cluster_0", 1: "cluster_1", 2: "cluster_2"}


def three_groups(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=n, p=[0.6, 0.3, 0.1])
    matrix = rng.normal(size=(n, 3)) + labels[:, None] * 3.0
    return matrix, labels.astype(np.int64)


def test_below_the_threshold_silhouette_equals_sklearn_exact():
    matrix, labels = three_groups(900)
    metrics = compute_metrics(matrix, labels, NAMES, MetricsSpec())
    assert metrics.silhouette == pytest.approx(silhouette_score(matrix, labels), abs=1e-12)
    assert metrics.silhouette_exact is True
    assert metrics.silhouette_sample_size == 900


def test_above_the_threshold_silhouette_uses_a_stratified_sample_of_the_set_size():
    matrix, labels = three_groups(6000, seed=1)
    spec = MetricsSpec(silhouette_exact_threshold=2000, silhouette_sample_size=1500, seed=3)
    metrics = compute_metrics(matrix, labels, NAMES, spec)
    assert metrics.silhouette_exact is False
    assert metrics.silhouette_sample_size == 1500
    exact = silhouette_score(matrix, labels)
    assert metrics.silhouette == pytest.approx(exact, abs=0.03)
    # Same seed, same sample, same value.
    assert compute_metrics(matrix, labels, NAMES, spec).silhouette == metrics.silhouette


def test_the_sampled_silhouette_measures_the_rows_stratified_sample_picks():
    matrix, labels = three_groups(5000, seed=4)
    ids = np.array([2, 5, 9])[labels]  # ids with gaps, coded before sampling
    spec = MetricsSpec(silhouette_exact_threshold=1000, silhouette_sample_size=700, seed=5)
    metrics = compute_metrics(matrix, ids, {2: "a", 5: "b", 9: "c"}, spec)
    rows = stratified_sample(ids, 700, seed=5)
    expected = silhouette_score_of(matrix[rows], ids[rows], single=True)
    assert metrics.silhouette == expected
    assert metrics.silhouette_sample_size == len(rows)


def test_stratified_sample_keeps_cluster_shares_and_small_clusters():
    labels = np.array([0] * 9000 + [1] * 990 + [2] * 10)
    rows = stratified_sample(labels, 1000, seed=0)
    counts = np.bincount(labels[rows])
    assert counts.tolist() == [900, 99, 2]
    assert len(set(rows.tolist())) == len(rows)
    assert np.all(np.diff(rows) > 0)


def test_davies_bouldin_calinski_harabasz_and_inertia_on_all_rows():
    matrix, labels = three_groups(3000, seed=2)
    spec = MetricsSpec(silhouette_exact_threshold=100, silhouette_sample_size=100)
    metrics = compute_metrics(matrix, labels, NAMES, spec, inertia=True)
    assert metrics.davies_bouldin == pytest.approx(davies_bouldin_score(matrix, labels))
    assert metrics.calinski_harabasz == pytest.approx(calinski_harabasz_score(matrix, labels))
    kmeans = KMeans(3, n_init=3, random_state=0).fit(matrix)
    fitted = compute_metrics(matrix, kmeans.labels_.astype(np.int64), NAMES, spec, inertia=True)
    assert fitted.inertia == pytest.approx(kmeans.inertia_, rel=1e-6)
    assert metrics.cluster_sizes == {
        "cluster_0": int((labels == 0).sum()),
        "cluster_1": int((labels == 1).sum()),
        "cluster_2": int((labels == 2).sum()),
    }


def test_noise_rows_are_left_out_of_cluster_metrics():
    matrix, labels = three_groups(600, seed=4)
    noisy = labels.copy()
    noisy[:50] = -1
    metrics = compute_metrics(matrix, noisy, NAMES, MetricsSpec())
    keep = noisy >= 0
    assert metrics.silhouette == pytest.approx(silhouette_score(matrix[keep], noisy[keep]))
    assert metrics.silhouette_sample_size == int(keep.sum())
    assert metrics.cluster_sizes["noise"] == 50
    assert metrics.n_clusters == 3


def test_one_cluster_has_no_separation_metrics():
    matrix = np.random.default_rng(5).normal(size=(50, 2))
    metrics = compute_metrics(matrix, np.zeros(50, dtype=np.int64), NAMES, MetricsSpec())
    assert metrics.n_clusters == 1
    assert metrics.silhouette is None
    assert metrics.davies_bouldin is None
    assert metrics.calinski_harabasz is None
    assert metrics.value("silhouette") is None


def uneven_labels(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Four clusters of unequal sizes, one a single row, on unequal scales."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(3, size=n, p=[0.7, 0.25, 0.05]).astype(np.int64)
    labels[n // 2] = 3
    matrix = rng.normal(size=(n, 4)) * [1.0, 5.0, 0.1, 2.0] + labels[:, None] * 1.5
    return matrix, labels


@pytest.mark.parametrize("n", [40, 3_000])
def test_own_silhouette_equals_sklearn_on_several_blocks(n):
    from clusterlab.ml.metrics import silhouette_score_of

    matrix, labels = uneven_labels(n, seed=n)
    # 3,000 rows take several distance blocks; the single-row cluster scores 0.
    assert silhouette_score_of(matrix, labels) == pytest.approx(
        silhouette_score(matrix, labels), rel=1e-9
    )


def test_davies_bouldin_and_calinski_harabasz_equal_sklearn_on_tall_matrices():
    from clusterlab.ml.metrics import ClusterSpread

    # More rows than one block of the two-pass computation.
    matrix, labels = uneven_labels(150_000, seed=9)
    spread = ClusterSpread.of(matrix, labels)
    assert spread.davies_bouldin() == pytest.approx(davies_bouldin_score(matrix, labels), rel=1e-9)
    assert spread.calinski_harabasz() == pytest.approx(
        calinski_harabasz_score(matrix, labels), rel=1e-9
    )
    means = np.vstack([matrix[labels == c].mean(axis=0) for c in range(4)])
    assert spread.inertia == pytest.approx(float(((matrix - means[labels]) ** 2).sum()), rel=1e-9)


def test_cluster_metrics_of_identical_rows_follow_sklearn_conventions():
    from clusterlab.ml.metrics import ClusterSpread

    matrix = np.array([[1.0, 2.0]] * 4 + [[3.0, 2.0]] * 4)
    labels = np.array([0] * 4 + [1] * 4)
    spread = ClusterSpread.of(matrix, labels)
    assert spread.inertia == 0.0
    assert spread.calinski_harabasz() == calinski_harabasz_score(matrix, labels) == 1.0
    assert spread.davies_bouldin() == davies_bouldin_score(matrix, labels) == 0.0


def test_stratified_positions_returns_every_row_when_the_sample_is_not_smaller():
    from clusterlab.ml.sampling import stratified_positions

    labels = np.array([2, 0, 2, 1])
    assert stratified_positions(labels, 4, seed=0).tolist() == [0, 1, 2, 3]
    assert stratified_positions(labels, 10, seed=0).tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "labels",
    [[3, -1, 3, 0, 7, 0], [5, 5, 5], [-1, -1], [0, 10_000_000, 2], [], [2, 0, 1, 1, 0], [1, 2]],
)
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_label_groups_are_those_of_np_unique(labels, dtype):
    from clusterlab.ml.metrics import label_groups

    values = np.asarray(labels, dtype=dtype)
    ids, inverse, counts = label_groups(values)
    want = np.unique(values, return_inverse=True, return_counts=True)
    assert ids.tolist() == want[0].tolist()
    assert inverse.tolist() == want[1].tolist()
    assert counts.tolist() == want[2].tolist()


def test_silhouette_with_singletons_and_unsorted_labels_equals_sklearn():
    from clusterlab.ml.metrics import silhouette_score_of

    matrix, labels = three_groups(700, seed=4)
    labels[[5, 99]] = 3  # a cluster of two rows
    labels[400] = 4  # a cluster of one row scores 0
    got = silhouette_score_of(matrix, labels)
    assert got == pytest.approx(silhouette_score(matrix, labels), abs=1e-12)


def exact_davies_bouldin(matrix, labels):
    """Davies-Bouldin from direct differences to the centroids (no |a|²+|b|²-2ab)."""
    ids = np.unique(labels)
    centroids = np.vstack([matrix[labels == c].mean(axis=0) for c in ids])
    scatter = np.array(
        [
            np.linalg.norm(matrix[labels == c] - centroids[i], axis=1).mean()
            for i, c in enumerate(ids)
        ]
    )
    gaps = np.linalg.norm(centroids[:, None] - centroids[None, :], axis=2)
    np.fill_diagonal(gaps, np.inf)
    return float(np.mean(np.max((scatter[:, None] + scatter[None, :]) / gaps, axis=1)))


@pytest.mark.parametrize("case", ["integer_duplicates", "float_duplicates", "single_row", "two"])
def test_silhouette_and_spreads_of_awkward_clusterings_equal_sklearn(case):
    from clusterlab.ml.metrics import ClusterSpread, silhouette_score_of

    rng = np.random.default_rng(6)
    labels = rng.choice(3, size=2500, p=[0.5, 0.3, 0.2]).astype(np.int64)
    matrix = rng.normal(size=(2500, 5)) + labels[:, None]
    if case == "integer_duplicates":
        matrix = np.round(matrix)  # many rows alike, exactly 0 apart
    elif case == "float_duplicates":
        matrix[1250:] = matrix[:1250]
        labels[1250:] = labels[:1250]
    elif case == "single_row":
        labels[labels == 2] = 1
        labels[7] = 2
    else:
        labels = (labels > 0).astype(np.int64)
    # 2,500 rows take several distance blocks per cluster.
    assert silhouette_score_of(matrix, labels) == pytest.approx(
        silhouette_score(matrix, labels), rel=1e-9
    )
    spread = ClusterSpread.of(matrix, labels)
    assert spread.calinski_harabasz() == pytest.approx(
        calinski_harabasz_score(matrix, labels), rel=1e-9
    )
    # scikit-learn measures spreads with |a|²+|b|²-2ab, whose rounding can leave ~1e-8
    # where a row sits on its centroid (a cluster of one row); direct differences give
    # the exact value.
    assert spread.davies_bouldin() == pytest.approx(exact_davies_bouldin(matrix, labels), rel=1e-12)
    assert spread.davies_bouldin() == pytest.approx(davies_bouldin_score(matrix, labels), rel=1e-6)


def test_spreads_of_many_clusters_equal_direct_computation():
    from clusterlab.ml.metrics import _ONE_HOT_MAX_CLUSTERS, ClusterSpread

    rng = np.random.default_rng(8)
    # More clusters than the one-hot sums take, over more rows than one block.
    k = _ONE_HOT_MAX_CLUSTERS + 9
    labels = rng.integers(0, k, size=40_000) * 3 - 5  # ids neither 0-based nor dense
    matrix = rng.normal(size=(40_000, 3)) + (labels[:, None] % 7)
    spread = ClusterSpread.of(matrix, labels, with_rows=True)
    ids = np.unique(labels)
    means = np.vstack([matrix[labels == c].mean(axis=0) for c in ids])
    row_distances = np.linalg.norm(matrix - means[np.searchsorted(ids, labels)], axis=1)
    assert spread.ids.tolist() == ids.tolist()
    assert np.allclose(spread.means, means, rtol=1e-12, atol=1e-14)
    assert np.allclose(spread.row_distances, row_distances, rtol=1e-12, atol=1e-14)
    assert spread.inertia == pytest.approx(float((row_distances**2).sum()), rel=1e-12)
    assert spread.davies_bouldin() == pytest.approx(exact_davies_bouldin(matrix, labels), rel=1e-12)
    assert spread.calinski_harabasz() == pytest.approx(
        calinski_harabasz_score(matrix, labels), rel=1e-9
    )


@pytest.mark.parametrize("case", ["blobs", "integer_duplicates", "far_from_origin"])
def test_single_precision_silhouette_stays_within_1e_7_of_sklearn(case):
    from clusterlab.ml.metrics import silhouette_score_of

    rng = np.random.default_rng(8)
    labels = rng.choice(4, size=3000, p=[0.4, 0.3, 0.2, 0.1]).astype(np.int64)
    matrix = rng.normal(size=(3000, 12)) + 2.0 * labels[:, None]
    if case == "integer_duplicates":
        matrix = np.round(matrix)
    elif case == "far_from_origin":
        matrix = 1e4 + 0.01 * matrix  # unscaled data: centring keeps the distances
    got = silhouette_score_of(matrix, labels, single=True)
    # Measured on centred rows: far from the origin, scikit-learn's own double
    # precision |a|²+|b|²-2ab rounds these distances by ~1e-4.
    assert got == pytest.approx(silhouette_score(matrix - matrix.mean(0), labels), abs=1e-7)


def test_a_sampled_silhouette_is_measured_on_its_sample():
    from clusterlab.core.mltask import MetricsSpec
    from clusterlab.ml.metrics import silhouette, stratified_sample

    matrix, labels = three_groups(3000, seed=9)
    spec = MetricsSpec(silhouette_exact_threshold=1000, silhouette_sample_size=800, seed=3)
    value, used, exact = silhouette(matrix, labels, spec)
    rows = stratified_sample(labels, 800, 3)
    assert (used, exact) == (len(rows), False)
    assert value == pytest.approx(silhouette_score(matrix[rows], labels[rows]), abs=1e-7)
