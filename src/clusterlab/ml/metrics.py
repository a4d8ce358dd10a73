"""Metrics of a clustering model, computed on its final training matrix.

- **Silhouette** (euclidean, higher is better): exact up to a row threshold (10,000 by
  default); above it, on a cluster-stratified sample of the configured size, whose
  size is reported. scikit-learn computes distances in chunks, so memory stays bounded
  (time is quadratic in the rows used, hence the sample).
- **Inertia** (K-means family, lower is better): sum of squared distances of the rows
  to their cluster mean.
- **Davies-Bouldin** (lower is better) and **Calinski-Harabasz** (higher is better) on
  all rows; both are linear in the rows.
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

from collections.abc import Mapping
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict

from clusterlab.core.mltask import MetricName, MetricsSpec, ParamValue
from clusterlab.ml.preprocess import Matrix

IntArray = np.ndarray[Any, np.dtype[np.int64]]

LOWER_IS_BETTER = frozenset({"inertia", "davies_bouldin", "bic", "aic"})
"""Metrics for which a smaller value is a better model."""
_CHUNK_ROWS = 65_536
SILHOUETTE_WORKING_MB = 64
"""Memory the silhouette's distance blocks may take, whatever the number of rows."""


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


def stratified_sample(labels: IntArray, size: int, seed: int) -> IntArray:
    """Row indices of about ``size`` rows, each cluster sampled in proportion to its size.

    Every cluster keeps at least two rows (when it has them), so that each one still
    has a within-cluster distance. Indices come back sorted.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([0] * 90 + [1] * 10)
    >>> picked = stratified_sample(labels, 20, seed=0)
    >>> len(picked), int((labels[picked] == 1).sum())
    (20, 2)
    """
    rng = np.random.default_rng(seed)
    clusters, counts = np.unique(labels, return_counts=True)
    share = counts * size / counts.sum()
    quota = np.floor(share).astype(np.int64)
    # Largest remainders first, so that the quotas add up to the requested size.
    short = size - int(quota.sum())
    if short > 0:
        quota[np.argsort(-(share - quota), kind="stable")[:short]] += 1
    quota = np.minimum(np.maximum(quota, 2), counts)
    picked = [
        rng.choice(np.flatnonzero(labels == c), size=int(q), replace=False)
        for c, q in zip(clusters, quota, strict=True)
    ]
    return np.sort(np.concatenate(picked)).astype(np.int64)


def silhouette(
    matrix: Matrix, labels: IntArray, spec: MetricsSpec
) -> tuple[float | None, int | None, bool | None]:
    """Silhouette of the clustered rows: (value, rows used, exact?).

    (None, None, None) when there are fewer than two clusters or no row is left alone.
    """
    from sklearn import config_context
    from sklearn.metrics import silhouette_score

    n_clusters = len(np.unique(labels))
    if n_clusters < 2 or n_clusters >= len(labels):
        return None, None, None
    exact = len(labels) <= spec.silhouette_exact_threshold
    rows = None if exact else stratified_sample(labels, spec.silhouette_sample_size, spec.seed)
    x, y = (matrix, labels) if rows is None else (matrix[rows], labels[rows])
    if len(np.unique(y)) < 2:
        return None, None, None
    # Distance blocks of at most this many MB (scikit-learn's default is 1 GB).
    with config_context(working_memory=SILHOUETTE_WORKING_MB):
        value = float(silhouette_score(x, y))
    return value, len(y), exact


def within_sum_of_squares(matrix: Matrix, labels: IntArray) -> float:
    """Sum over rows of the squared distance to their cluster's mean (the inertia).

    Examples
    --------
    >>> import numpy as np
    >>> within_sum_of_squares(np.array([[0.0], [2.0], [10.0]]), np.array([0, 0, 1]))
    2.0
    """
    ids, inverse = np.unique(labels, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(ids)).astype(np.float64)
    # One weighted bincount per column: far faster than np.add.at on tall matrices.
    sums = np.column_stack(
        [
            np.bincount(inverse, weights=matrix[:, j], minlength=len(ids))
            for j in range(matrix.shape[1])
        ]
    ).reshape(len(ids), matrix.shape[1])
    means = sums / counts[:, None]
    total = 0.0
    # Chunks keep the centered copy small on tall matrices.
    for start in range(0, len(labels), _CHUNK_ROWS):
        block = matrix[start : start + _CHUNK_ROWS] - means[inverse[start : start + _CHUNK_ROWS]]
        total += float(np.einsum("ij,ij->", block, block))
    return total


def compute_metrics(
    matrix: Matrix,
    label_ids: IntArray,
    names: Mapping[int, str],
    spec: MetricsSpec,
    *,
    inertia: bool = False,
    mixture: Any = None,
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
    """
    from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score

    ids, counts = np.unique(label_ids, return_counts=True)
    sizes = {names[int(i)]: int(c) for i, c in zip(ids, counts, strict=True)}
    clustered = label_ids >= 0
    x, y = matrix[clustered], label_ids[clustered]
    n_clusters = len(np.unique(y))
    value, used, exact = silhouette(x, y, spec)
    separated = 2 <= n_clusters < len(y)
    return ModelMetrics(
        n_clusters=n_clusters,
        cluster_sizes=sizes,
        silhouette=value,
        silhouette_sample_size=used,
        silhouette_exact=exact,
        inertia=within_sum_of_squares(x, y) if inertia and len(y) else None,
        davies_bouldin=float(davies_bouldin_score(x, y)) if separated else None,
        calinski_harabasz=float(calinski_harabasz_score(x, y)) if separated else None,
        bic=None if mixture is None else float(mixture.bic(matrix)),
        aic=None if mixture is None else float(mixture.aic(matrix)),
    )
