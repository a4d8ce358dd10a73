"""Train a session of clustering models on the embedded (scikit-learn) engine.

`train_session` samples the rows, fits the preprocessing once (shared by every model),
detects outliers, fits PCA when a model asks for it, then trains each model of the
design's grid. A model that fails does not fail the session: its `TrainedModel`
carries the error text. Each trained model holds its metrics, the cluster name of
every training row, diagnostics, timings and the fitted `ClusteringModel` used to
label new rows; `save_model` / `load_model` store it with skops.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from clusterlab.core.mltask import FeatureHandling, KMeansSpec, TaskDesign
>>> rng = np.random.default_rng(0)
>>> frame = pd.DataFrame(np.vstack([rng.normal(c, 0.2, (30, 2)) for c in (0, 4, 8)]),
...                      columns=["a", "b"])
>>> design = TaskDesign(features=(FeatureHandling(name="a"), FeatureHandling(name="b")),
...                     algorithms=(KMeansSpec(k=(2, 3, 4), seed=0),))
>>> session = train_session(frame, design)
>>> [m.params.k for m in session.sorted_models()]
[3, 4, 2]
>>> [(p.k, round(p.value, 2)) for p in elbow_points(session, metrics=("silhouette",))]
[(2, 0.71), (3, 0.94), (4, 0.77)]
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from time import perf_counter
from typing import Any

import numpy as np
import pandas as pd

from clusterlab.core.errors import ClusterLabError, InvalidInputError
from clusterlab.core.mltask import (
    AlgorithmType,
    FeatureType,
    MetricName,
    ModelParams,
    TaskDesign,
)
from clusterlab.ml.algorithms import REGISTRY, Clustering, fit_clustering
from clusterlab.ml.artifacts import load_model, save_model
from clusterlab.ml.diagnostics import (
    Diagnostic,
    check_model_rows,
    model_diagnostics,
    session_diagnostics,
)
from clusterlab.ml.metrics import LOWER_IS_BETTER, ClusterSpread, ModelMetrics, compute_metrics
from clusterlab.ml.model import ClusteringModel
from clusterlab.ml.outliers import OUTLIERS_CLUSTER, MiniClusterOutliers, detect_outliers
from clusterlab.ml.preprocess import (
    FittedPreprocessing,
    Mask,
    Matrix,
    factor_names,
    fit_pca,
    fit_preprocessing,
)
from clusterlab.ml.report import DEFAULT_CLUSTER_COLUMN, ElbowPoint, FeatureInfo
from clusterlab.ml.report.importance import FeatureImportance, variables_importance
from clusterlab.ml.sampling import sample_frame
from clusterlab.ml.threads import native_threads
from clusterlab.ml.twostep import TwoStepClustering

__all__ = [
    "ProgressCallback",
    "SessionResult",
    "TrainedModel",
    "elbow_points",
    "load_model",
    "prepare_session",
    "save_model",
    "train_model",
    "train_session",
]

ProgressCallback = Callable[[int, int, str], None]
"""Called with (steps done, total steps, what is being done)."""

SINGLE_THREAD_MAX_ROWS = 50_000
"""Below this many rows, native thread pools are limited to one thread by default.

On small matrices OpenMP/BLAS threads cost more in synchronisation than they save:
measured here, K-means on 5,000 × 10 took 0.09 s on one thread and 1.6 s on two.
"""

ELBOW_METRICS: tuple[MetricName, ...] = (
    "silhouette",
    "inertia",
    "davies_bouldin",
    "calinski_harabasz",
    "bic",
    "aic",
)


@dataclass
class TrainedModel:
    """One model of a session: its parameters and either its results or its error.

    ``labels`` holds the cluster name of every training row (indexed like the sampled
    frame; ``cluster_outliers`` for outliers gathered in a cluster, missing for dropped
    rows); ``anomaly_scores`` likewise for Isolation Forest.
    """

    params: ModelParams
    error: str | None = None
    model: ClusteringModel | None = None
    labels: pd.Series[Any] | None = None
    anomaly_scores: pd.Series[Any] | None = None
    metrics: ModelMetrics | None = None
    timings: dict[str, float] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    data_hash: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the model trained."""
        return self.error is None

    @cached_property
    def categorical(self) -> pd.Categorical:
        """``labels`` as a Categorical (a missing label has code -1).

        Passes over every row read its integer codes: hashing a million names cost
        ~0.1 s per pass. Training sets it from the label ids, without hashing.
        """
        if self.labels is None:
            raise InvalidInputError(f"{self.params.label} failed to train: {self.error}")
        return pd.Categorical(self.labels)

    @property
    def cluster_names(self) -> list[str]:
        """Names of the clusters holding training rows, noise and outliers last."""
        if self.model is None or self.labels is None:
            return []
        labels = self.categorical
        counts = np.bincount(labels.codes[labels.codes >= 0], minlength=len(labels.categories))
        present = {str(name) for name, n in zip(labels.categories, counts, strict=True) if n}
        return [name for name in self.model.cluster_names if name in present]

    @property
    def hierarchy(self) -> TwoStepClustering | None:
        """The two-step tree (linkage, node sizes and centers), for two-step models."""
        estimator = None if self.model is None else self.model.estimator
        return estimator if isinstance(estimator, TwoStepClustering) else None

    def metric(self, name: MetricName) -> float | None:
        """The value of metric ``name``, None when it does not apply or the model failed."""
        return None if self.metrics is None else self.metrics.value(name)

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Label new rows (see `ClusteringModel.predict`)."""
        if self.model is None:
            raise InvalidInputError(f"{self.params.label} failed to train: {self.error}")
        return self.model.predict(frame)


@dataclass
class SessionResult:
    """The models of one training session and what they share.

    ``frame`` is the sampled rows; ``matrix`` the preprocessed matrix (before PCA) of
    the rows the models were fitted on, which are ``frame.iloc[fit_positions]``.
    """

    design: TaskDesign
    models: list[TrainedModel]
    frame: pd.DataFrame
    preprocessing: FittedPreprocessing
    matrix: Matrix
    fit_positions: np.ndarray[Any, np.dtype[np.int64]]
    dropped_rows: Mask
    outlier_rows: Mask
    pca: Any
    data_hash: str
    timings: dict[str, float]
    diagnostics: list[Diagnostic]
    projected: Matrix | None = None
    """``matrix`` projected by ``pca``, which models using PCA are fitted on."""
    outlier_detector: MiniClusterOutliers | None = None

    def model_matrix(self, params: ModelParams) -> Matrix:
        """The matrix a model with ``params`` is fitted on: projected when it uses PCA."""
        return self.projected if params.pca and self.projected is not None else self.matrix

    @property
    def factor_names(self) -> tuple[str, ...]:
        """Names of the PCA components, when PCA was fitted."""
        return () if self.pca is None else factor_names(self.pca.named_steps["pca"].n_components_)

    def sorted_models(self, metric: MetricName | None = None) -> list[TrainedModel]:
        """Models best first by ``metric`` (the design's by default); failures last."""
        name = metric or self.design.metrics.metric
        sign = 1.0 if name in LOWER_IS_BETTER else -1.0

        def key(model: TrainedModel) -> tuple[int, float]:
            value = model.metric(name)
            rank = 0 if value is not None and not np.isnan(value) else 1 if model.ok else 2
            return rank, sign * value if rank == 0 and value is not None else 0.0

        return sorted(self.models, key=key)

    def scored_frame(
        self, model: TrainedModel, column: str = DEFAULT_CLUSTER_COLUMN
    ) -> pd.DataFrame:
        """The sampled rows with the model's cluster names in ``column`` (for reports)."""
        return self.frame.assign(**{column: model.labels})

    def report_features(self) -> list[FeatureInfo]:
        """Input and display-only features, as the report builders take them."""
        return report_features(self.design)

    def importances(self, model: TrainedModel, **options: Any) -> list[FeatureImportance]:
        """Variables importance of ``model`` on the preprocessed matrix (before PCA)."""
        if model.labels is None:
            raise InvalidInputError(f"{model.params.label} failed to train: {model.error}")
        labels = model.labels.to_numpy()[self.fit_positions]
        return variables_importance(
            self.matrix, labels, self.preprocessing.feature_names, **options
        )


def report_features(design: TaskDesign) -> list[FeatureInfo]:
    """The design's input and display-only features, as the report builders take them."""
    return [
        FeatureInfo.numeric(f.name)
        if f.type is FeatureType.NUMERIC
        else FeatureInfo.categorical(f.name)
        for f in design.features
        if f.role.value in ("input", "display") and f.type is not FeatureType.TEXT
    ]


def data_hash(frame: pd.DataFrame, columns: Sequence[str]) -> str:
    """A sha256 of the given columns' names, types and values (not the index).

    Numeric columns are hashed as their raw bytes, which hashlib reads without holding
    the GIL; other columns through pandas' per-row hash.
    """
    digest = hashlib.sha256(
        json.dumps([list(map(str, columns)), [str(frame[c].dtype) for c in columns]]).encode()
    )
    for name in columns:
        column = frame[name]
        if isinstance(column.dtype, np.dtype) and column.dtype.kind in "biuf":
            digest.update(np.ascontiguousarray(column.to_numpy()).view(np.uint8))
        else:
            digest.update(pd.util.hash_pandas_object(column, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def _error_text(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ClusterLabError) else f"{type(exc).__name__}: {exc}"


def _warnings(caught: Sequence[warnings.WarningMessage]) -> list[Diagnostic]:
    # Library warnings (no convergence, disconnected graph) tell users why a model is odd.
    messages = dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught)
    return [Diagnostic(code="algorithm_warning", message=m) for m in messages]


def train_model(
    shared: SessionResult, params: ModelParams, *, allow_custom_code: bool = False
) -> TrainedModel:
    """Train one model of ``shared``'s session (made by `prepare_session`) with ``params``.

    A model that fails gives a `TrainedModel` carrying the error: it never raises.
    Two calls may run at once in two threads (see `trains_two_at_a_time`).
    """
    start = perf_counter()
    design = shared.design
    matrix = shared.model_matrix(params)
    try:
        check_model_rows(params, matrix.shape[0])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fitted = fit_clustering(params, matrix, allow_custom_code=allow_custom_code)
        fit_seconds = perf_counter() - start
        gmm = params.algorithm is AlgorithmType.GMM
        # Measured once for the metrics and the drift baseline (means, row distances).
        clustered = fitted.label_ids >= 0
        spread = None
        if clustered.any():
            rows = matrix if clustered.all() else matrix[clustered]
            spread = ClusterSpread.of(rows, fitted.label_ids[clustered], with_rows=True)
        metrics = compute_metrics(
            matrix,
            fitted.label_ids,
            fitted.names,
            design.metrics,
            inertia=REGISTRY[params.algorithm].inertia,
            mixture=fitted.estimator if gmm else None,
            spread=spread,
        )
    except Exception as exc:  # one failing model must never fail the session
        return TrainedModel(
            params, error=_error_text(exc), timings={"total": perf_counter() - start}
        )
    categorical = _row_labels(fitted, shared, design.outliers.method == "cluster")
    # Missing labels are None, as in every frame of names; np.asarray gives NaN.
    labels = np.array([*categorical.categories, None], dtype=object)[categorical.codes]
    n_rows = len(shared.frame)
    scores = None
    if fitted.anomaly_scores is not None:
        values = np.full(n_rows, np.nan)
        values[shared.fit_positions] = fitted.anomaly_scores
        scores = pd.Series(values, index=shared.frame.index, name="anomaly_score")
    model = ClusteringModel(
        params=params,
        preprocessing=shared.preprocessing,
        estimator=fitted.estimator,
        names=fitted.names,
        outliers=design.outliers,
        outlier_detector=shared.outlier_detector,
        pca=shared.pca if params.pca else None,
        assigner=fitted.assigner,
    )
    # Centroids and the drift baseline (shares, distances) that apply runs compare with.
    model.record_training(matrix, fitted.label_ids, categorical, spread)
    trained = TrainedModel(
        params,
        model=model,
        labels=pd.Series(labels, index=shared.frame.index, dtype=object, name="cluster"),
        anomaly_scores=scores,
        metrics=metrics,
        timings={
            "fit": fit_seconds,
            "metrics": perf_counter() - start - fit_seconds,
            "total": perf_counter() - start,
        },
        diagnostics=model_diagnostics(metrics.cluster_sizes) + _warnings(caught),
        data_hash=shared.data_hash,
    )
    trained.categorical = categorical  # known from the label ids: no names to hash
    return trained


def _row_labels(
    fitted: Clustering, shared: SessionResult, outliers_cluster: bool
) -> pd.Categorical:
    """The cluster of every sampled row, from the fitted rows' label ids: outlier rows
    in ``cluster_outliers`` when they form a cluster, dropped rows in none."""
    found, names = fitted.codes_of(fitted.label_ids)
    codes = np.full(len(shared.frame), -1, dtype=np.int32)
    codes[shared.fit_positions] = found
    if outliers_cluster:
        names.append(OUTLIERS_CLUSTER)
        codes[shared.outlier_rows] = len(names) - 1
    return pd.Categorical.from_codes(codes, categories=names)


def train_session(
    frame: pd.DataFrame,
    design: TaskDesign,
    *,
    on_progress: ProgressCallback | None = None,
    allow_custom_code: bool = False,
    sample: bool = True,
    threads: int | None = None,
) -> SessionResult:
    """Train every model of ``design`` on ``frame``.

    `prepare_session`, then `train_model` for each entry of the grid (two at a time
    when `trains_two_at_a_time` says so).

    Parameters
    ----------
    frame : DataFrame
        The dataset rows (at least the input features).
    design : TaskDesign
        Features handling, sampling, algorithms grid, PCA, outliers and metrics.
    on_progress : callable, optional
        Called as ``on_progress(done, total, message)`` before each step.
    allow_custom_code : bool
        Whether custom models may run their Python code (off by default).
    sample : bool
        Apply ``design.sampling`` to ``frame``; pass False when the engine sampled.
    threads : int, optional
        Native threads (OpenMP, BLAS) the algorithms may use. By default one below
        `SINGLE_THREAD_MAX_ROWS` rows, the libraries' default above.

    Returns
    -------
    SessionResult
        One `TrainedModel` per grid entry, in grid order, failed ones included.

    Raises
    ------
    InvalidInputError
        When the session cannot train at all: no rows, no input feature, no algorithm,
        every row dropped by missing values or by outliers detection.
    """
    report = on_progress or (lambda done, total, message: None)
    start = perf_counter()
    shared = prepare_session(frame, design, on_progress=report, sample=sample, threads=threads)
    grid = design.grid()
    total_steps = len(grid) + 1
    threads = session_threads(shared, threads)

    def train(params: ModelParams) -> TrainedModel:
        return train_model(shared, params, allow_custom_code=allow_custom_code)

    if not trains_two_at_a_time(shared, threads):
        with native_threads(limits=threads):
            for done, params in enumerate(grid, start=1):
                report(done, total_steps, f"Training {params.label}")
                shared.models.append(train(params))
    else:
        report(1, total_steps, f"Training {len(grid)} models, two at a time")
        with two_model_threads() as pool:
            running = {i: pool.submit(train, grid[i]) for i in largest_k_first(grid)}
            for done, finished in enumerate(as_completed(running.values()), start=2):
                label = finished.result().params.label
                report(min(done, len(grid)), total_steps, f"Trained {label}")
            shared.models.extend(running[i].result() for i in range(len(grid)))
    shared.timings["total"] = perf_counter() - start
    report(total_steps, total_steps, "Done")
    return shared


def prepare_session(
    frame: pd.DataFrame,
    design: TaskDesign,
    *,
    on_progress: ProgressCallback | None = None,
    sample: bool = True,
    threads: int | None = None,
) -> SessionResult:
    """What the models of a session share, before any is trained (``models`` is empty).

    Samples the rows, fits the preprocessing, detects outliers and fits PCA when a
    model asks for it; hashes and diagnoses the rows. See `train_session` for the
    parameters and errors; `train_model` then trains each model.
    """
    grid = design.grid()
    if not grid:
        raise InvalidInputError("No algorithm is enabled in the design: enable at least one.")
    report = on_progress or (lambda done, total, message: None)
    start = perf_counter()
    timings: dict[str, float] = {}
    report(0, len(grid) + 1, "Preprocessing")
    rows = sample_frame(frame, design.sampling) if sample else frame
    if len(rows) == 0:
        raise InvalidInputError("There is no row to train on: the dataset or sample is empty.")
    timings["sampling"] = perf_counter() - start
    with native_threads(limits=_default_threads(len(rows), threads)):
        return _prepare(rows, design, timings)


def _default_threads(n_rows: int, threads: int | None) -> int | None:
    return 1 if threads is None and n_rows < SINGLE_THREAD_MAX_ROWS else threads


def session_threads(shared: SessionResult, threads: int | None = None) -> int | None:
    """Native threads a session's models may use: ``threads`` when given, one on fewer
    than `SINGLE_THREAD_MAX_ROWS` rows, else the libraries' default (None)."""
    return _default_threads(len(shared.frame), threads)


def _prepare(rows: pd.DataFrame, design: TaskDesign, timings: dict[str, float]) -> SessionResult:
    start = perf_counter()
    grid = design.grid()
    # Hashed and diagnosed beside the preprocessing, each in a thread of its own so that
    # neither waits for the other: hashlib and numpy's scans run without the GIL.
    beside = ThreadPoolExecutor(2, thread_name_prefix="data-checks")
    hashed = beside.submit(data_hash, rows, design.input_names)
    # The whole frame: selecting the inputs would copy them; only inputs are read.
    diagnosed = beside.submit(
        session_diagnostics, len(rows), rows, design.features, design.outliers
    )
    beside.shutdown(wait=False)
    prep, matrix, kept = fit_preprocessing(rows, design.features)
    timings["preprocessing"] = perf_counter() - start
    mark = perf_counter()
    detector, outlier_in_kept = None, np.zeros(len(matrix), dtype=bool)
    if design.outliers.method != "none":
        detector, outlier_in_kept = detect_outliers(matrix, design.outliers)
    timings["outliers"] = perf_counter() - mark
    kept_positions = np.flatnonzero(kept)
    outlier_rows = np.zeros(len(rows), dtype=bool)
    outlier_rows[kept_positions[outlier_in_kept]] = True
    # Indexing copies: skip it when no row is an outlier, the matrix can be large.
    fit_matrix = matrix[~outlier_in_kept] if outlier_in_kept.any() else matrix
    del matrix
    mark = perf_counter()
    pca, projected = None, None
    if any(p.pca for p in grid):
        pca, projected = fit_pca(fit_matrix, design.reduction.variance)
    timings["pca"] = perf_counter() - mark
    return SessionResult(
        design=design,
        models=[],
        frame=rows,
        preprocessing=prep,
        matrix=fit_matrix,
        fit_positions=kept_positions[~outlier_in_kept].astype(np.int64),
        dropped_rows=~kept,
        outlier_rows=outlier_rows,
        pca=pca,
        data_hash=hashed.result(),
        timings=timings,
        diagnostics=diagnosed.result(),
        projected=projected,
        outlier_detector=detector,
    )


@contextmanager
def two_model_threads() -> Iterator[ThreadPoolExecutor]:
    """The pool models train in when `trains_two_at_a_time`: two threads, with native
    thread pools (OpenMP, BLAS) limited to one thread each while it is open."""
    with native_threads(limits=1), ThreadPoolExecutor(2, thread_name_prefix="model") as pool:
        yield pool


def largest_k_first(grid: Sequence[ModelParams]) -> list[int]:
    """Positions in ``grid``, largest k first: when models train two at a time, the last
    to start is then a short one, so that both cores stay busy until near the end."""
    return sorted(range(len(grid)), key=lambda i: -(grid[i].k or 0))


PARALLEL_ALGORITHMS = frozenset(
    {AlgorithmType.KMEANS, AlgorithmType.MINIBATCH_KMEANS, AlgorithmType.GMM}
)
"""Algorithms trained two at a time on many rows: their memory grows with the rows
only, and each model's work releases the GIL (scikit-learn's Cython, BLAS, NumPy)."""


def trains_two_at_a_time(shared: SessionResult, threads: int | None) -> bool:
    """Whether to train ``shared``'s models two at once, each on one native thread:
    several of them, on many rows, of `PARALLEL_ALGORITHMS`, with the native thread
    count (`session_threads`) left to the libraries.

    One native thread each: two models on two cores instead of one model on two
    threads, whose labels would also depend on how OpenMP split its sums.
    """
    grid = shared.design.grid()
    return (
        threads is None
        and len(grid) > 1
        and len(shared.frame) >= SINGLE_THREAD_MAX_ROWS
        and (os.cpu_count() or 1) > 1
        and all(p.algorithm in PARALLEL_ALGORITHMS for p in grid)
    )


def elbow_points(
    session: SessionResult,
    metrics: Sequence[MetricName] = ELBOW_METRICS,
    *,
    algorithm: AlgorithmType | str | None = None,
    pca: bool | None = None,
) -> list[ElbowPoint]:
    """Metric-vs-k points of one family of models of the session, for the elbow chart.

    A family is one algorithm with one PCA setting and the same parameters besides k;
    by default the family of the first trained model taking a k. Failed models and
    metrics that do not apply are left out.
    """
    candidates = [m for m in session.models if m.ok and m.params.k is not None]
    if algorithm is not None:
        candidates = [m for m in candidates if m.params.algorithm == AlgorithmType(algorithm)]
    if pca is not None:
        candidates = [m for m in candidates if m.params.pca == pca]
    if not candidates:
        return []

    def family(model: TrainedModel) -> tuple[Any, ...]:
        others = {k: v for k, v in model.params.params.items() if k != "k"}
        return model.params.algorithm, model.params.pca, json.dumps(others, sort_keys=True)

    chosen = family(candidates[0])
    points = []
    members = sorted(
        ((m.params.k or 0, m) for m in candidates if family(m) == chosen), key=lambda p: p[0]
    )
    for k, model in members:
        for metric in metrics:
            value = model.metric(metric)
            if value is not None:
                points.append(ElbowPoint(k=k, metric=metric, value=value))
    return points
