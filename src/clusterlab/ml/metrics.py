"""Metrics of a clustering model, computed on its final training matrix.

- **Silhouette** (euclidean, higher is better): exact up to a row threshold (10,000 by
  default); above it, on a cluster-stratified sample of the configured size, whose
  size is reported, its distances in single precision. Distances come in blocks, so
  memory stays bounded (time is quadratic in the rows used, hence the sample).
- **Inertia** (K-means family, lower is better): sum of squared distances of the rows
  to their cluster mean.
- **Davies-Bouldin** (lower is better) and **Calinski-Harabasz** (higher is better) on
  all rows; both derive from per-cluster means and spreads measured in two passes
  over the rows (`ClusterSpread`), so they and the inertia are linear in the rows.
- **BIC** and **AIC** for Gaussian mixtures (lower is better).

Noise rows (DBSCAN, HDBSCAN) are left out of the silhouette, inertia, Davies-Bouldin
and Calinski-Harabasz: they belong to no cluster. Metrics needing two clusters are
None when a model finds fewer.

Examples
--------
>>> import numpy as np
>>> from clusterlab.core.mltask import MetricsSpec
>>> x = np.array([[0.0], [0.1], [5.0], [5.1]])
>>> m = compute_metrics(x, np.array([0, 0, 1, 1]), {0: "a", 1: "b"}, MetricsSpec(),
...                     inertia=True)
>>> m.n_clusters, round(m.silhouette, 3), m.silhouette_exact, round(m.inertia, 3)
(2, 0.98, True, 0.01)
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from clusterlab.core.mltask import MetricName, MetricsSpec, ParamValue
from clusterlab.ml.preprocess import Matrix
from clusterlab.ml.sampling import stratified_by_codes, stratified_positions
from clusterlab.ml.threads import native_threads

IntArray = np.ndarray[Any, np.dtype[np.int64]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]
Block = np.ndarray[Any, np.dtype[np.floating[Any]]]
"""Distances in double or single precision (see `silhouette_score_of`)."""

LOWER_IS_BETTER = frozenset({"inertia", "davies_bouldin", "bic", "aic"})
"""Metrics for which a smaller value is a better model."""
_CHUNK_ROWS = 16_384
_ONE_HOT_MAX_CLUSTERS = 16
"""Up to this many clusters, per-cluster sums are one-hot products (see `_cluster_sums`)."""
SILHOUETTE_WORKING_MB = 64
"""Memory the silhouette's distance blocks may take, whatever the number of rows."""
_SILHOUETTE_BLOCK_CELLS = 2**19
# Blocks of 4 MB stay in cache: at 10,000 rows, 1.3x faster than 1 MB or 16 MB blocks.


class ModelMetrics(BaseModel):
    """The metrics of one trained model.

    ``cluster_sizes`` maps cluster names to training rows (noise included, outliers
    not); ``silhouette_sample_size`` is the number of rows the silhouette used.
    """

    model_config = ConfigDict(frozen=True)

    n_clusters: int
    cluster_sizes: dict[str, int]
    silhouette: float | None = None
    silhouette_sample_size: int | None = None
    silhouette_exact: bool | None = None
    inertia: float | None = None
    davies_bouldin: float | None = None
    calinski_harabasz: float | None = None
    bic: float | None = None
    aic: float | None = None

    def value(self, metric: MetricName) -> float | None:
        """The value of ``metric`` (None when it does not apply to this model)."""
        found = getattr(self, metric)
        return None if found is None else float(found)

    def as_dict(self) -> dict[str, ParamValue]:
        """The scalar metrics, for a manifest or a results table."""
        return {k: v for k, v in self.model_dump().items() if k != "cluster_sizes"}


def label_groups(labels: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """The distinct labels, each row's position among them, and their counts.

    The same as ``np.unique(labels, return_inverse=True, return_counts=True)`` for
    integer labels, in linear time: sorting a million labels took ~0.1 s, and every
    metric needs this grouping.

    Examples
    --------
    >>> import numpy as np
    >>> ids, inverse, counts = label_groups(np.array([4, -1, 4, 2]))
    >>> ids.tolist(), inverse.tolist(), counts.tolist()
    ([-1, 2, 4], [2, 0, 2, 1], [1, 1, 2])
    """
    values = np.asarray(labels)
    if values.size == 0 or not np.issubdtype(values.dtype, np.integer):
        ids, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
        return ids, inverse.astype(np.int64), counts.astype(np.int64)
    low, high = int(values.min()), int(values.max())
    if high - low >= max(len(values), 1024):
        # Ids far apart (a custom clusterer's): a table as wide as their range won't pay.
        ids, inverse, found = np.unique(values, return_inverse=True, return_counts=True)
        return ids.astype(np.int64), inverse.astype(np.int64), found.astype(np.int64)
    shifted = values.astype(np.int64, copy=False) if low == 0 else values.astype(np.int64) - low
    counts = np.bincount(shifted)
    if counts.all():
        # Ids 0 to k - 1, each present (a model's labels, most often): each row's id
        # is its position already. Read-only, as it may be ``labels`` itself.
        inverse = shifted.view()
        inverse.flags.writeable = False
        return np.arange(low, high + 1, dtype=np.int64), inverse, counts.astype(np.int64)
    present = np.flatnonzero(counts)
    lookup = np.full(len(counts), -1, dtype=np.int64)
    lookup[present] = np.arange(len(present))
    return (present + low).astype(np.int64), lookup[shifted], counts[present].astype(np.int64)


def stratified_sample(labels: IntArray, size: int, seed: int) -> IntArray:
    """Row indices of about ``size`` rows, each cluster sampled in proportion to its size.

    See `clusterlab.ml.sampling.stratified_positions` (every cluster keeps at least two
    rows; indices come back sorted).

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([0] * 90 + [1] * 10)
    >>> picked = stratified_sample(labels, 20, seed=0)
    >>> len(picked), int((labels[picked] == 1).sum())
    (20, 2)
    """
    return stratified_positions(labels, size, seed)


def silhouette_score_of(matrix: Matrix, labels: IntArray, *, single: bool = False) -> float:
    """The mean euclidean silhouette of all rows, as scikit-learn's ``silhouette_score``.

    Each pair of rows is measured once, in blocks of distances that stay in the CPU
    cache (see ``_cluster_distance_sums``), so that memory stays under
    `SILHOUETTE_WORKING_MB`. Needs at least two clusters.

    ``single`` measures the distances in single precision, from rows centred first:
    2.2x faster at 10,000 rows. On standardized blobs, dummies, and mixes of both, the
    value moved by at most 3e-8, far below what a sample of rows moves it by (~1e-4);
    a sampled silhouette is computed so. Without it, equal rows are exactly 0 apart
    and the value equals scikit-learn's to rounding.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> round(silhouette_score_of(x, np.array([0, 0, 1, 1])), 4)
    0.8997
    """
    _, inverse, counts = label_groups(labels)
    # Rows sorted by cluster: a cluster's rows, and so its distances, are contiguous.
    order = np.argsort(inverse, kind="stable")
    sums = np.empty((len(order), len(counts)))
    sums[order] = _cluster_distance_sums(matrix[order], counts, single)
    n_rows = len(inverse)
    rows = np.arange(n_rows)
    size = counts[inverse]
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = sums[rows, inverse] / np.maximum(size - 1, 1)
        means = sums / counts[None, :]
        means[rows, inverse] = np.inf
        nearest = means.min(axis=1)
        value = (nearest - inside) / np.maximum(inside, nearest)
    # A row alone in its cluster scores 0, as in Rousseeuw's definition.
    scores = np.where(size > 1, np.nan_to_num(value), 0.0)
    return float(scores.mean())


def _cluster_distance_sums(matrix: Matrix, counts: IntArray, single: bool = False) -> FloatArray:
    """Each row's summed euclidean distances to the rows of every cluster.

    ``matrix`` holds the clusters' rows one cluster after the other, ``counts[c]`` rows
    for cluster ``c``. Distances are symmetric, so a block of rows meets only the rows
    from its own on and adds what it finds to both sides. As the block's rows belong to
    one cluster, each side's sums are products with a vector of ones (BLAS: twice as
    fast as numpy's sums here), over the whole block or over a cluster's columns. Time
    goes to the square roots and to one matrix product per block.

    Examples
    --------
    >>> import numpy as np
    >>> sums = _cluster_distance_sums(np.array([[0.0], [2.0], [4.0]]), np.array([2, 1]))
    >>> sums.tolist()
    [[2.0, 4.0], [2.0, 2.0], [6.0, 0.0]]
    """
    n_rows, n_clusters = len(matrix), len(counts)
    dtype = np.float32 if single else np.float64
    # Centred for single precision: far from the origin, |a|² + |b|² - 2 a·b would
    # lose the distance between close rows to rounding.
    left, right = _widened(matrix - matrix.mean(axis=0) if single else matrix, dtype)
    starts = np.concatenate([[0], np.cumsum(counts)])
    block_rows = max(1, min(_SILHOUETTE_BLOCK_CELLS, SILHOUETTE_WORKING_MB * 2**17) // n_rows)
    buffer = np.empty(min(block_rows, n_rows) * n_rows, dtype=dtype)
    zeros, ones = np.zeros(n_rows, dtype=dtype), np.ones(n_rows, dtype=dtype)
    sums = np.zeros((n_rows, n_clusters))
    # One BLAS thread: on these small products, threads cost more than they bring.
    with native_threads(limits=1, user_api="blas"):
        for cluster, (first, end) in enumerate(itertools.pairwise(starts)):
            for start in range(first, end, block_rows):
                stop = min(start + block_rows, end)
                block = _distances(left[start:stop], right[:, start:], buffer, zeros)
                sums[stop:, cluster] += ones[: stop - start] @ block[:, stop - start :]
                for other in range(cluster, n_clusters):
                    low, high = max(starts[other] - start, 0), starts[other + 1] - start
                    sums[start:stop, other] += block[:, low:high] @ ones[: high - low]
    return sums


def _widened(matrix: Matrix, dtype: Any = np.float64) -> tuple[Block, Block]:
    """``left`` and ``right`` whose product is the squared distances between rows.

    ``[a, |a|², 1] · [-2 b, 1, |b|²] = |a - b|²``: one matrix product, no extra pass.
    ``right`` is transposed, so that the columns of a block are contiguous slices.
    Built in double precision, then given ``dtype``.
    """
    # Not centred, though centring shrinks the rounding: equal rows of small integers
    # or dummies would no longer be exactly 0 apart, as they are in scikit-learn.
    squares = np.einsum("ij,ij->i", matrix, matrix)
    ones = np.ones(len(matrix))
    left = np.column_stack([matrix, squares, ones]).astype(dtype, copy=False)
    right = np.vstack([-2.0 * matrix.T, ones, squares]).astype(dtype, copy=False)
    return left, right


def _distances(left: Block, right: Block, buffer: Block, zeros: Block) -> Block:
    """The distances between the rows of ``left`` and the columns of ``right``.

    Written into ``buffer``; ``zeros`` is as long as a row of the result. The first
    columns of ``right`` are the rows of ``left``, whose distances to themselves are
    set to 0.
    """
    shape = (len(left), right.shape[1])
    block = buffer[: shape[0] * shape[1]].reshape(shape)
    np.matmul(left, right, out=block)
    # Rounding leaves tiny negatives. Clamping against a row of zeros takes numpy's
    # vector loop: twice as fast as against the scalar 0.
    np.maximum(block, zeros[: shape[1]], out=block)
    np.sqrt(block, out=block)
    diagonal = np.arange(shape[0])
    block[diagonal, diagonal] = 0.0
    return block


def silhouette(
    matrix: Matrix, labels: IntArray, spec: MetricsSpec
) -> tuple[float | None, int | None, bool | None]:
    """Silhouette of the clustered rows: (value, rows used, exact?).

    (None, None, None) when there are fewer than two clusters or no row is left alone.
    """
    _, inverse, counts = label_groups(labels)
    n_clusters = len(counts)
    if n_clusters < 2 or n_clusters >= len(labels):
        return None, None, None
    exact = len(labels) <= spec.silhouette_exact_threshold
    # Stratified on the groups at hand (the labels coded once, not twice).
    size, seed = spec.silhouette_sample_size, spec.seed
    rows = None if exact else stratified_by_codes(inverse, counts, size, seed)
    x, y = (matrix, labels) if rows is None else (matrix[rows], labels[rows])
    if len(np.unique(y)) < 2:
        return None, None, None
    return silhouette_score_of(x, y, single=not exact), len(y), exact


@dataclass(frozen=True)
class ClusterSpread:
    """Per-cluster sizes, means and spreads of a labelled matrix, from two passes over it.

    ``squares[c]`` sums the squared distances of cluster ``c``'s rows to its mean and
    ``distances[c]`` the distances themselves: the inertia, Davies-Bouldin and
    Calinski-Harabasz all derive from them in O(rows × features) time.
    """

    counts: FloatArray
    means: FloatArray
    squares: FloatArray
    distances: FloatArray
    ids: IntArray | None = None
    """The label id of each cluster, ascending (the order of the arrays above)."""
    row_distances: FloatArray | None = None
    """Each row's distance to its cluster's mean, when measured ``with_rows``."""

    @classmethod
    def of(cls, matrix: Matrix, labels: IntArray, *, with_rows: bool = False) -> ClusterSpread:
        """Measure the clusters of ``matrix`` given each row's label.

        ``with_rows`` keeps each row's distance to its cluster's mean (a training
        model's drift baseline is made of them).

        Examples
        --------
        >>> import numpy as np
        >>> spread = ClusterSpread.of(np.array([[0.0], [2.0], [10.0]]), np.array([0, 0, 1]))
        >>> spread.means.ravel().tolist(), spread.squares.tolist(), spread.distances.tolist()
        ([1.0, 10.0], [2.0, 0.0], [2.0, 0.0])
        """
        ids, inverse, found = label_groups(labels)
        counts = found.astype(np.float64)
        means = _cluster_sums(matrix, inverse, len(ids)) / counts[:, None]
        squares, distances, rows = _distances_to_means(matrix, inverse, means, with_rows)
        return cls(counts, means, squares, distances, np.asarray(ids, np.int64), rows)

    @property
    def inertia(self) -> float:
        """Sum over rows of the squared distance to their cluster's mean."""
        return float(self.squares.sum())

    def davies_bouldin(self) -> float:
        """Davies-Bouldin index, as scikit-learn's ``davies_bouldin_score``."""
        scatter = self.distances / self.counts
        gaps = np.sqrt(((self.means[:, None, :] - self.means[None, :, :]) ** 2).sum(axis=2))
        if np.allclose(scatter, 0) or np.allclose(gaps, 0):
            return 0.0
        gaps[gaps == 0] = np.inf
        ratios = (scatter[:, None] + scatter[None, :]) / gaps
        return float(np.mean(np.max(ratios, axis=1)))

    def calinski_harabasz(self) -> float:
        """Calinski-Harabasz index, as scikit-learn's ``calinski_harabasz_score``."""
        n_rows, k = float(self.counts.sum()), len(self.counts)
        centre = (self.means * self.counts[:, None]).sum(axis=0) / n_rows
        between = float((self.counts * ((self.means - centre) ** 2).sum(axis=1)).sum())
        within = self.inertia
        return 1.0 if within == 0.0 else between * (n_rows - k) / (within * (k - 1.0))


def _cluster_sums(matrix: Matrix, inverse: IntArray, k: int) -> FloatArray:
    """The column sums of each cluster's rows, shape (k, n_features).

    Up to `_ONE_HOT_MAX_CLUSTERS` clusters, one product per block of rows with the
    block's one-hot matrix; beyond, its cost growing with the clusters, one weighted
    ``bincount`` per column. Either is several times faster than a ``bincount`` per
    column of the whole matrix, which copied each strided column first (~0.14 s on 1M
    rows x 15).
    """
    if k > _ONE_HOT_MAX_CLUSTERS:
        return _bincount_sums(matrix, inverse, k)
    sums = np.zeros((k, matrix.shape[1]))
    codes = np.arange(k)[:, None]
    one_hot = np.empty((k, min(_CHUNK_ROWS, len(inverse))))
    # One BLAS thread: on these thin products, threads cost more than they bring.
    with native_threads(limits=1, user_api="blas"):
        for start in range(0, len(inverse), _CHUNK_ROWS):
            part = inverse[start : start + _CHUNK_ROWS]
            block = one_hot[:, : len(part)]
            np.equal(part, codes, out=block, casting="unsafe")
            # np.dot, not @: numpy's matmul held the GIL through these products (two
            # threads took twice as long as one), np.dot lets a second model run.
            sums += np.dot(block, matrix[start : start + _CHUNK_ROWS])
    return sums


def _bincount_sums(matrix: Matrix, inverse: IntArray, k: int) -> FloatArray:
    """`_cluster_sums` by one weighted ``bincount`` per column of a transposed block."""
    sums = np.zeros((matrix.shape[1], k))
    columns = np.empty((matrix.shape[1], min(_CHUNK_ROWS, len(inverse))))
    for start in range(0, len(inverse), _CHUNK_ROWS):
        part = inverse[start : start + _CHUNK_ROWS]
        block = columns[:, : len(part)]
        np.copyto(block, matrix[start : start + _CHUNK_ROWS].T)
        for total, column in zip(sums, block, strict=True):
            total += np.bincount(part, weights=column, minlength=k)
    return sums.T.copy()


def _distances_to_means(
    matrix: Matrix, inverse: IntArray, means: FloatArray, with_rows: bool
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """Per cluster, the summed squared and plain distances of its rows to its mean.

    Also each row's distance when ``with_rows``. Blocks of rows reuse one buffer for
    their centred copy, small enough to stay in the CPU cache.
    """
    k = len(means)
    squares, distances = np.zeros(k), np.zeros(k)
    rows = np.empty(len(inverse)) if with_rows else None
    centred = np.empty((min(_CHUNK_ROWS, len(inverse)), matrix.shape[1]))
    for start in range(0, len(inverse), _CHUNK_ROWS):
        part = inverse[start : start + _CHUNK_ROWS]
        block = centred[: len(part)]
        np.take(means, part, axis=0, out=block)
        np.subtract(matrix[start : start + _CHUNK_ROWS], block, out=block)
        row_squares = np.einsum("ij,ij->i", block, block)
        row_distances = np.sqrt(row_squares)
        squares += np.bincount(part, weights=row_squares, minlength=k)
        distances += np.bincount(part, weights=row_distances, minlength=k)
        if rows is not None:
            rows[start : start + len(part)] = row_distances
    return squares, distances, rows


def within_sum_of_squares(matrix: Matrix, labels: IntArray) -> float:
    """Sum over rows of the squared distance to their cluster's mean (the inertia).

    Examples
    --------
    >>> import numpy as np
    >>> within_sum_of_squares(np.array([[0.0], [2.0], [10.0]]), np.array([0, 0, 1]))
    2.0
    """
    return ClusterSpread.of(matrix, labels).inertia


def compute_metrics(
    matrix: Matrix,
    label_ids: IntArray,
    names: Mapping[int, str],
    spec: MetricsSpec,
    *,
    inertia: bool = False,
    mixture: Any = None,
    spread: ClusterSpread | None = None,
) -> ModelMetrics:
    """All metrics of one model.

    Parameters
    ----------
    matrix : ndarray of shape (n_rows, n_features)
        The final matrix the model was fitted on.
    label_ids : ndarray of shape (n_rows,)
        Label id of each row; -1 is noise.
    names : mapping
        Cluster name of each label id.
    spec : MetricsSpec
        Silhouette threshold, sample size and seed.
    inertia : bool
        Whether to report the inertia (K-means family).
    mixture : GaussianMixture, optional
        A fitted Gaussian mixture, to report its BIC and AIC on ``matrix``.
    spread : ClusterSpread, optional
        The spread of the rows with a cluster (label id >= 0), when the caller already
        measured it.
    """
    ids, _, counts = label_groups(label_ids)
    sizes = {names[int(i)]: int(c) for i, c in zip(ids, counts, strict=True)}
    noise = int(counts[ids < 0].sum())
    # Indexing copies the matrix: only do it when there are noise rows to leave out.
    x, y = (matrix, label_ids)
    if noise:
        clustered = label_ids >= 0
        x, y = matrix[clustered], label_ids[clustered]
    n_clusters = int((ids >= 0).sum())
    value, used, exact = silhouette(x, y, spec)
    separated = 2 <= n_clusters < len(y)
    if spread is None and len(y):
        spread = ClusterSpread.of(x, y)
    return ModelMetrics(
        n_clusters=n_clusters,
        cluster_sizes=sizes,
        silhouette=value,
        silhouette_sample_size=used,
        silhouette_exact=exact,
        inertia=spread.inertia if inertia and spread is not None else None,
        davies_bouldin=spread.davies_bouldin() if separated and spread is not None else None,
        calinski_harabasz=(
            spread.calinski_harabasz() if separated and spread is not None else None
        ),
        bic=None if mixture is None else float(mixture.bic(matrix)),
        aic=None if mixture is None else float(mixture.aic(matrix)),
    )
