"""Outliers detection through mini-clusters, as in DSS.

The preprocessed matrix is standardized and reduced by PCA (keeping 90% of the
variance by default), then cut by K-means into k = max(3, ⌊rows^(1/3)⌋) mini-clusters.
Sorted by size ascending, a mini-cluster is an outlier when it holds fewer than
``min_size`` rows, or when the cumulative share of rows up to and including it is below
``min_cum_ratio``. At scoring time the same mini-K-means assigns new rows, so a row is
an outlier exactly when it falls in an outlier mini-cluster.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = np.vstack([rng.normal(size=(500, 2)), rng.normal(40, 1, size=(4, 2))])
>>> detector = MiniClusterOutliers(min_size=10, random_state=0).fit(x)
>>> int(detector.is_outlier(x).sum()), bool(detector.is_outlier(x)[-4:].all())
(4, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.mltask import OutliersSpec
from clusterlab.ml.preprocess import Mask, Matrix, make_pca

OUTLIERS_CLUSTER = "cluster_outliers"
"""Name of the cluster gathering the outliers when the method is "cluster"."""


def mini_cluster_count(n_rows: int) -> int:
    """k = max(3, ⌊n_rows^(1/3)⌋), never more than the rows.

    Examples
    --------
    >>> [mini_cluster_count(n) for n in (2, 10, 1000, 999, 1_000_000)]
    [2, 3, 10, 9, 100]
    """
    # An integer cube root: 1000 ** (1 / 3) is 9.999… in floating point.
    root: int = round(float(n_rows) ** (1 / 3))
    while root * root * root > n_rows:
        root -= 1
    while (root + 1) * (root + 1) * (root + 1) <= n_rows:
        root += 1
    return max(1, min(n_rows, max(3, root)))


class MiniClusterOutliers(BaseEstimator):  # type: ignore[misc]
    """Flag the rows of tiny mini-clusters as outliers (scikit-learn estimator).

    Parameters
    ----------
    min_size : int
        A mini-cluster with fewer rows is an outlier.
    min_cum_ratio : float
        A mini-cluster whose cumulative share of rows (sizes ascending) is below this
        is an outlier.
    variance : float
        Share of variance the PCA keeps before the mini-K-means.
    random_state : int or None
        Seed of the PCA and the mini-K-means.

    Attributes
    ----------
    projection_ : Pipeline
        The fitted standardization and PCA.
    kmeans_ : KMeans
        The fitted mini-K-means.
    cluster_sizes_ : ndarray of shape (n_mini_clusters,)
        Training rows per mini-cluster.
    outlier_clusters_ : ndarray
        Ids of the mini-clusters whose rows are outliers.
    labels_ : ndarray of shape (n_rows,)
        The mini-cluster of each training row.
    """

    def __init__(
        self,
        min_size: int = 10,
        min_cum_ratio: float = 0.01,
        variance: float = 0.9,
        random_state: int | None = None,
    ) -> None:
        self.min_size = min_size
        self.min_cum_ratio = min_cum_ratio
        self.variance = variance
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> MiniClusterOutliers:
        """Fit the projection and mini-K-means, and find the outlier mini-clusters."""
        from sklearn.cluster import KMeans

        matrix = np.asarray(X, dtype=np.float64)
        n_rows = matrix.shape[0]
        if n_rows == 0:
            raise InvalidInputError("Outliers detection needs at least one row.")
        self.projection_ = make_pca(self.variance, self.random_state)
        projected = self.projection_.fit_transform(matrix)
        k = mini_cluster_count(n_rows)
        self.kmeans_ = KMeans(n_clusters=k, n_init=1, random_state=self.random_state)
        self.labels_ = self.kmeans_.fit_predict(projected)
        sizes = np.bincount(self.labels_, minlength=k)
        order = np.argsort(sizes, kind="stable")
        cumulative = np.cumsum(sizes[order]) / n_rows
        flagged = (sizes[order] < self.min_size) | (cumulative < self.min_cum_ratio)
        self.cluster_sizes_ = sizes
        self.outlier_clusters_ = np.sort(order[flagged])
        return self

    def mini_clusters(self, X: Any) -> np.ndarray[Any, np.dtype[np.int64]]:
        """The mini-cluster of each row."""
        projected = self.projection_.transform(np.asarray(X, dtype=np.float64))
        return np.asarray(self.kmeans_.predict(projected), dtype=np.int64)

    def is_outlier(self, X: Any) -> Mask:
        """Whether each row falls in an outlier mini-cluster."""
        return np.isin(self.mini_clusters(X), self.outlier_clusters_)

    def predict(self, X: Any) -> np.ndarray[Any, np.dtype[np.int64]]:
        """-1 for outliers and 1 for inliers, as scikit-learn's outlier detectors do."""
        return np.where(self.is_outlier(X), -1, 1).astype(np.int64)


def detect_outliers(matrix: Matrix, spec: OutliersSpec) -> tuple[MiniClusterOutliers, Mask]:
    """Fit the detector of ``spec`` on ``matrix``; return it and the outlier rows.

    Raises
    ------
    InvalidInputError
        When every row would be an outlier, saying how to fix the settings.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.core.mltask import OutliersSpec
    >>> x = np.random.default_rng(0).normal(size=(300, 3))
    >>> _, outliers = detect_outliers(x, OutliersSpec(method="drop", min_size=5))
    >>> int(outliers.sum())
    0
    """
    detector = MiniClusterOutliers(
        min_size=spec.min_size,
        min_cum_ratio=spec.min_cum_ratio,
        variance=spec.variance,
        random_state=spec.seed,
    ).fit(matrix)
    outliers = np.isin(detector.labels_, detector.outlier_clusters_)
    if outliers.all():
        n_rows = matrix.shape[0]
        k = len(detector.cluster_sizes_)
        raise InvalidInputError(
            f"Outliers detection flags all {n_rows} rows as outliers: each of the {k} "
            f"mini-clusters holds fewer than {spec.min_size} rows (min size) or less than "
            f"{spec.min_cum_ratio:.2%} of the rows cumulatively (the largest holds "
            f"{int(detector.cluster_sizes_.max())} rows), so no row would be left to train "
            "on. Lower the outliers min size or min cumulative ratio, train on more rows, "
            "or set outliers detection to none."
        )
    return detector, outliers
