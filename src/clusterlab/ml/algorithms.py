"""The algorithm registry: one scikit-learn estimator per model, and its cluster names.

`REGISTRY` maps each `AlgorithmType` to an `AlgorithmInfo` whose ``build`` makes the
unfitted estimator of one parameter set. `fit_clustering` fits it and names the
clusters:

- ``cluster_0`` … ``cluster_{k-1}`` by ascending label id;
- ``noise`` for the rows DBSCAN and HDBSCAN leave out (label -1);
- ``regular`` / ``anomalies`` for Isolation Forest, with an anomaly score per row
  (higher is more anomalous, between 0 and 1);
- ``node_<id>`` for two-step clusters, the tree node each cluster is.

K-means on more than `KMEANS_SAMPLE_ROWS` rows is fitted on a sample, then labels every
row by its nearest centre (`fit_kmeans_from_sample`).

Algorithms without ``predict`` (agglomerative, spectral, DBSCAN, HDBSCAN) get an
approximate assignment rule for new rows: the nearest cluster centroid, or for DBSCAN
the nearest core point within ``eps`` (else ``noise``).

Examples
--------
>>> import numpy as np
>>> from clusterlab.core.mltask import ModelParams
>>> x = np.vstack([np.zeros((5, 2)), np.ones((5, 2)) * 9])
>>> fitted = fit_clustering(ModelParams(algorithm="kmeans", params={"k": 2, "seed": 0}), x)
>>> sorted(set(fitted.names_of(fitted.label_ids)))
['cluster_0', 'cluster_1']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from clusterlab.core.errors import InvalidInputError, UnsupportedError
from clusterlab.core.mltask import ALGORITHM_LABELS, AlgorithmType, ModelParams, ParamValue
from clusterlab.ml.custom import build_custom_clusterer, custom_cluster_names
from clusterlab.ml.metrics import label_groups
from clusterlab.ml.preprocess import Matrix
from clusterlab.ml.threads import native_threads
from clusterlab.ml.twostep import TwoStepClustering

IntArray = np.ndarray[Any, np.dtype[np.int64]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]
Params = Mapping[str, ParamValue]

NOISE = "noise"
REGULAR = "regular"
ANOMALIES = "anomalies"
QUADRATIC_MAX_ROWS = 20_000
"""Rows above which algorithms needing a rows × rows matrix refuse to run."""
KMEANS_SAMPLE_ROWS = 50_000
"""Above this many rows, K-means seeds its restarts on a random sample of this size.

The k-means++ restarts run on the sample; Lloyd iterations then continue on all rows
from the best restart's centres until scikit-learn's own convergence test holds.
Measured on 1M rows × 15 columns: the restarts cost ~0.05 s instead of seconds, and
the inertia on all rows matches a fit on all rows to a fraction of a percent.
"""


def cluster_name(position: int) -> str:
    """The default name of the cluster at ``position`` (ascending label id)."""
    return f"cluster_{position}"


def _int(params: Params, key: str, default: int | None = None) -> int:
    value = params.get(key, default)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidInputError(f"Parameter {key!r} must be a number, not {value!r}.")
    return int(value)


def _seed(params: Params) -> int | None:
    value = params.get("seed")
    return None if value is None else _int(params, "seed")


def _quadratic_guard(label: str, n_rows: int) -> None:
    if n_rows > QUADRATIC_MAX_ROWS:
        gigabytes = n_rows * n_rows * 8 / 2 / 1e9
        raise UnsupportedError(
            f"{label} needs a rows × rows matrix: {n_rows:,} rows would take about "
            f"{gigabytes:,.0f} GB. Train on a sample of at most {QUADRATIC_MAX_ROWS:,} rows "
            "(design → sampling), or use K-means or two-step clustering."
        )


def _kmeans(p: Params, n_rows: int) -> Any:
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=_int(p, "k"), n_init=_int(p, "n_init", 3), random_state=_seed(p))


def _minibatch(p: Params, n_rows: int) -> Any:
    from sklearn.cluster import MiniBatchKMeans

    return MiniBatchKMeans(
        n_clusters=_int(p, "k"),
        batch_size=_int(p, "batch_size", 1024),
        n_init=_int(p, "n_init", 3),
        random_state=_seed(p),
    )


def _gmm(p: Params, n_rows: int) -> Any:
    from sklearn.mixture import GaussianMixture

    return GaussianMixture(
        n_components=_int(p, "k"),
        covariance_type=str(p.get("covariance_type", "full")),
        max_iter=_int(p, "max_iter", 100),
        random_state=_seed(p),
    )


def _agglomerative(p: Params, n_rows: int) -> Any:
    from sklearn.cluster import AgglomerativeClustering

    _quadratic_guard("Agglomerative clustering", n_rows)
    return AgglomerativeClustering(n_clusters=_int(p, "k"), linkage=str(p.get("linkage", "ward")))


def _spectral(p: Params, n_rows: int) -> Any:
    from sklearn.cluster import SpectralClustering

    affinity = str(p.get("affinity", "nearest_neighbors"))
    if affinity != "nearest_neighbors":
        _quadratic_guard(f"Spectral clustering with the {affinity} affinity", n_rows)
    kernel = {"polynomial": "poly"}.get(affinity, affinity)
    gamma, coef0 = p.get("gamma", 1.0), p.get("coef0", 1.0)
    return SpectralClustering(
        n_clusters=_int(p, "k"),
        affinity=kernel,
        gamma=float(gamma) if isinstance(gamma, int | float) else 1.0,
        coef0=float(coef0) if isinstance(coef0, int | float) else 1.0,
        n_neighbors=min(10, max(1, n_rows - 1)),
        random_state=_seed(p),
    )


def _share(p: Params, key: str) -> float:
    value = p.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidInputError(f"Parameter {key!r} must be a number, not {value!r}.")
    return float(value)


def _dbscan(p: Params, n_rows: int) -> Any:
    from sklearn.cluster import DBSCAN

    min_samples = max(1, round(_share(p, "min_sample_ratio") * n_rows))
    return DBSCAN(eps=_share(p, "eps"), min_samples=min_samples)


def _hdbscan(p: Params, n_rows: int) -> Any:
    from sklearn.cluster import HDBSCAN

    size = max(2, round(_share(p, "min_cluster_ratio") * n_rows))
    # copy=True: HDBSCAN may otherwise write into the shared session matrix.
    return HDBSCAN(min_cluster_size=size, copy=True)


def _two_step(p: Params, n_rows: int) -> Any:
    return TwoStepClustering(
        n_clusters=_int(p, "k"),
        n_preclusters=_int(p, "pre_k", 100),
        max_iter=_int(p, "max_iter", 300),
        random_state=_seed(p),
    )


def _isolation_forest(p: Params, n_rows: int) -> Any:
    from sklearn.ensemble import IsolationForest

    return IsolationForest(
        n_estimators=_int(p, "n_estimators", 100),
        contamination=p.get("contamination", "auto"),
        max_samples=p.get("max_samples", "auto"),
        bootstrap=bool(p.get("bootstrap", False)),
        max_features=p.get("max_features", 1.0),
        random_state=_seed(p),
    )


@dataclass(frozen=True)
class AlgorithmInfo:
    """What the trainer needs to know about one algorithm.

    ``build(params, n_rows)`` returns the unfitted estimator; ``predicts`` says whether
    it labels new rows itself; ``inertia`` whether the inertia metric applies (K-means
    family).
    """

    type: AlgorithmType
    build: Callable[[Params, int], Any]
    predicts: bool
    inertia: bool = False

    @property
    def label(self) -> str:
        """The display name of the algorithm."""
        return ALGORITHM_LABELS[self.type]


def _no_builder(p: Params, n_rows: int) -> Any:
    raise UnsupportedError("Custom models are built by build_custom_clusterer.")


REGISTRY: dict[AlgorithmType, AlgorithmInfo] = {
    info.type: info
    for info in (
        AlgorithmInfo(AlgorithmType.KMEANS, _kmeans, predicts=True, inertia=True),
        AlgorithmInfo(AlgorithmType.MINIBATCH_KMEANS, _minibatch, predicts=True, inertia=True),
        AlgorithmInfo(AlgorithmType.GMM, _gmm, predicts=True),
        AlgorithmInfo(AlgorithmType.AGGLOMERATIVE, _agglomerative, predicts=False),
        AlgorithmInfo(AlgorithmType.SPECTRAL, _spectral, predicts=False),
        AlgorithmInfo(AlgorithmType.DBSCAN, _dbscan, predicts=False),
        AlgorithmInfo(AlgorithmType.HDBSCAN, _hdbscan, predicts=False),
        AlgorithmInfo(AlgorithmType.TWO_STEP, _two_step, predicts=True, inertia=True),
        AlgorithmInfo(AlgorithmType.ISOLATION_FOREST, _isolation_forest, predicts=True),
        AlgorithmInfo(AlgorithmType.CUSTOM, _no_builder, predicts=True),
    )
}
"""Every algorithm a task can train, by type."""


def build_estimator(params: ModelParams, n_rows: int, *, allow_custom_code: bool = False) -> Any:
    """The unfitted estimator of one model, for a training matrix of ``n_rows`` rows.

    Examples
    --------
    >>> from clusterlab.core.mltask import ModelParams
    >>> build_estimator(ModelParams(algorithm="dbscan",
    ...                             params={"eps": 0.5, "min_sample_ratio": 0.01}), 800)
    DBSCAN(min_samples=8)
    """
    if params.algorithm is AlgorithmType.CUSTOM:
        return build_custom_clusterer(str(params.params.get("code", "")), allowed=allow_custom_code)
    return REGISTRY[params.algorithm].build(params.params, n_rows)


@dataclass
class Clustering:
    """A fitted model's estimator, the label id of each row, and the cluster names.

    ``names`` maps every label id the model can give (including -1 for noise when the
    algorithm has noise) to its cluster name; ``assigner`` is the approximate
    assignment rule of algorithms without ``predict`` (None otherwise).
    """

    estimator: Any
    label_ids: IntArray
    names: dict[int, str]
    anomaly_scores: FloatArray | None = None
    assigner: dict[str, Any] | None = None

    def codes_of(self, label_ids: IntArray) -> tuple[IntArray, list[str]]:
        """Each label id's position among the named ids, and the names in that order
        (`KeyError` for an id without a name)."""
        ids = np.asarray(label_ids, dtype=np.int64)
        known = np.array(sorted(self.names), dtype=np.int64)
        names = [self.names[int(i)] for i in known]
        own = len(ids) and np.array_equal(known, np.arange(len(known)))
        # Ids 0 to k - 1 (a model's own labels): each is its position already.
        if own and ids.min() >= 0 and ids.max() < len(known):
            return ids, names
        # One lookup table indexed in C: a Python loop over a million rows took 0.6 s.
        found = np.searchsorted(known, ids).clip(0, max(len(known) - 1, 0))
        unknown = ids != known[found] if len(known) else np.ones(len(ids), dtype=bool)
        if unknown.any():
            raise KeyError(int(ids[np.argmax(unknown)]))
        return found, names

    def names_of(self, label_ids: IntArray) -> np.ndarray[Any, np.dtype[np.object_]]:
        """The cluster name of each label id (`KeyError` for an id without a name)."""
        found, names = self.codes_of(label_ids)
        table = np.empty(len(names), dtype=object)
        table[:] = names
        result: np.ndarray[Any, np.dtype[np.object_]] = table[found]
        return result


def fit_kmeans_from_sample(
    estimator: Any, matrix: Matrix, seed: int | None, sample_rows: int = KMEANS_SAMPLE_ROWS
) -> IntArray:
    """Fit a scikit-learn ``KMeans`` on a sample of rows, then label every row.

    The restarts and Lloyd iterations of ``estimator`` run on ``sample_rows`` random
    rows; every row of ``matrix`` then gets its nearest centre. Measured on 1M rows
    x 15: the inertia of the labels is within 0.01% of a full fit's, at a seventh of
    the CPU time (a full refit from the sample's centres still cost 2-3 passes plus
    scikit-learn's input checks and copies). The estimator's ``labels_`` and
    ``inertia_`` are those of the sample; ``predict`` gives the returned labels.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.cluster import KMeans
    >>> rng = np.random.default_rng(0)
    >>> x = np.vstack([rng.normal(c, 0.1, (500, 2)) for c in (0, 5)])
    >>> km = KMeans(n_clusters=2, n_init=2, random_state=0)
    >>> labels = fit_kmeans_from_sample(km, x, seed=0, sample_rows=50)
    >>> len(labels), sorted(np.bincount(labels).tolist())
    (1000, [500, 500])
    """
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(matrix.shape[0], size=sample_rows, replace=False))
    # One thread for the sample: on 50k rows x 15 the restarts took 0.08-0.19 s on one
    # thread against 0.4-1.2 s on two OpenMP threads when the other core was busy.
    with native_threads(limits=1):
        estimator.fit(matrix[rows])
    return np.asarray(estimator.predict(matrix), dtype=np.int64)


def _raw_labels(estimator: Any, matrix: Matrix) -> IntArray:
    if hasattr(estimator, "fit_predict"):
        raw = estimator.fit_predict(matrix)
    else:
        estimator.fit(matrix)
        raw = estimator.labels_ if hasattr(estimator, "labels_") else estimator.predict(matrix)
    labels = np.asarray(raw)
    if labels.shape != (matrix.shape[0],) or not np.issubdtype(labels.dtype, np.integer):
        raise InvalidInputError(
            f"The clusterer gave labels of shape {labels.shape} and type {labels.dtype}; "
            f"it must give one integer label per row ({matrix.shape[0]} rows)."
        )
    return np.where(labels < 0, -1, labels).astype(np.int64)


def _names(params: ModelParams, estimator: Any, labels: IntArray) -> dict[int, str]:
    algorithm = params.algorithm
    if algorithm is AlgorithmType.TWO_STEP:
        return dict(enumerate(estimator.cluster_names()))
    k = params.k if algorithm in _FIXED_K else None
    ids = list(range(k)) if k is not None else sorted(int(i) for i in set(labels) if i >= 0)
    names = None
    if algorithm is AlgorithmType.CUSTOM:
        names = custom_cluster_names(estimator, ids)
    names = names or {i: cluster_name(position) for position, i in enumerate(ids)}
    if algorithm in _NOISY or (labels < 0).any():
        names[-1] = NOISE
    return names


_FIXED_K = frozenset(
    {
        AlgorithmType.KMEANS,
        AlgorithmType.MINIBATCH_KMEANS,
        AlgorithmType.GMM,
        AlgorithmType.AGGLOMERATIVE,
        AlgorithmType.SPECTRAL,
    }
)
_NOISY = frozenset({AlgorithmType.DBSCAN, AlgorithmType.HDBSCAN})


def fit_clustering(
    params: ModelParams, matrix: Matrix, *, allow_custom_code: bool = False
) -> Clustering:
    """Fit the model of ``params`` on ``matrix`` and name its clusters.

    Parameters
    ----------
    params : ModelParams
        The algorithm and its resolved parameters.
    matrix : ndarray of shape (n_rows, n_features)
        The final training matrix (after preprocessing, outlier removal and PCA).
    allow_custom_code : bool
        Whether a custom model's Python code may run.

    Returns
    -------
    Clustering
        The fitted estimator, a label id per row and the id → name mapping.
    """
    estimator = build_estimator(params, matrix.shape[0], allow_custom_code=allow_custom_code)
    if params.algorithm is AlgorithmType.ISOLATION_FOREST:
        estimator.fit(matrix)
        ids, scores = isolation_labels(estimator, matrix)
        return Clustering(estimator, ids, {0: REGULAR, 1: ANOMALIES}, anomaly_scores=scores)
    if params.algorithm is AlgorithmType.KMEANS and matrix.shape[0] > KMEANS_SAMPLE_ROWS:
        labels = fit_kmeans_from_sample(estimator, matrix, _seed(params.params))
    else:
        labels = _raw_labels(estimator, matrix)
    names = _names(params, estimator, labels)
    unknown = sorted(set(label_groups(labels)[0].tolist()) - set(names))
    if unknown:
        raise InvalidInputError(f"The clusterer gave label ids {unknown} beyond its k.")
    assigner = None
    if not REGISTRY[params.algorithm].predicts:
        assigner = make_assigner(params, estimator, matrix, labels)
    return Clustering(estimator, labels, names, assigner=assigner)


def isolation_labels(estimator: Any, matrix: Matrix) -> tuple[IntArray, FloatArray]:
    """Label ids (0 regular, 1 anomalies) and anomaly scores of an Isolation Forest."""
    ids = np.where(estimator.predict(matrix) == -1, 1, 0).astype(np.int64)
    # score_samples is the opposite of the paper's anomaly score: flip it, higher = odder.
    scores = -np.asarray(estimator.score_samples(matrix), dtype=np.float64)
    return ids, scores


def make_assigner(
    params: ModelParams, estimator: Any, matrix: Matrix, labels: IntArray
) -> dict[str, Any]:
    """An approximate rule labelling new rows for an algorithm without ``predict``.

    Only scikit-learn objects and arrays, so that it is saved with the model by skops.
    """
    from sklearn.neighbors import NearestCentroid, NearestNeighbors

    if params.algorithm is AlgorithmType.DBSCAN:
        core = np.asarray(estimator.core_sample_indices_, dtype=np.int64)
        if len(core) == 0:
            return {"kind": "constant", "label": -1}
        neighbors = NearestNeighbors(n_neighbors=1).fit(matrix[core])
        return {
            "kind": "nearest_core",
            "neighbors": neighbors,
            "labels": labels[core],
            "eps": float(estimator.eps),
        }
    clustered = labels >= 0
    present = np.unique(labels[clustered])
    if len(present) == 0:
        return {"kind": "constant", "label": -1}
    if len(present) == 1:
        return {"kind": "constant", "label": int(present[0])}
    return {
        "kind": "nearest_centroid",
        "model": NearestCentroid().fit(matrix[clustered], labels[clustered]),
    }


def assign(assigner: Mapping[str, Any], matrix: Matrix) -> IntArray:
    """Label ids of new rows through an assigner made by `make_assigner`."""
    kind = assigner["kind"]
    if kind == "constant":
        return np.full(matrix.shape[0], int(assigner["label"]), dtype=np.int64)
    if kind == "nearest_centroid":
        return np.asarray(assigner["model"].predict(matrix), dtype=np.int64)
    distance, index = assigner["neighbors"].kneighbors(matrix, n_neighbors=1)
    near = distance[:, 0] <= assigner["eps"]
    return np.where(near, np.asarray(assigner["labels"])[index[:, 0]], -1).astype(np.int64)
