"""Train a session of clustering models on Spark with pyspark.ml.

`train_spark` follows the local trainer (`clusterlab.ml.training.train_session`): the
design's sampling, one preprocessing fitted once and shared by every model
(`clusterlab.engines.spark.ml_prep`), PCA when a model asks for it, then each model of
the grid. A model that fails, or whose algorithm Spark lacks, does not fail the
session: its `SparkTrainedModel` carries the reason.

What runs where:

* on the executors: preprocessing, K-means (k-means|| initialisation), bisecting
  K-means, Gaussian mixtures, the two-step pre-clusters, scoring;
* on the driver: the two-step Ward tree over the pre-cluster centers
  (`clusterlab.ml.twostep.weighted_ward`), and the silhouette over a cluster-stratified
  sample (`clusterlab.engines.spark.ml_metrics`). Inertia, cluster sizes and the
  mixtures' likelihood come from Spark's training summaries.

Clusters are named as on the local engine: ``cluster_0``, ``cluster_1``, ... by label
id, and ``node_<id>`` for two-step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from time import perf_counter
from typing import TYPE_CHECKING, Any

import numpy as np

from clusterlab.core.errors import ClusterLabError, InvalidInputError, UnsupportedError
from clusterlab.core.mltask import (
    ALGORITHM_LABELS,
    DEFAULT_SEED,
    AlgorithmType,
    MetricName,
    ModelParams,
    ParamValue,
    TaskDesign,
)
from clusterlab.engines.spark.capabilities import SPARK_CAPABILITIES
from clusterlab.engines.spark.ml_metrics import sample_rows, spark_silhouette
from clusterlab.engines.spark.ml_model import PREDICTION_COLUMN, label_frame
from clusterlab.engines.spark.ml_prep import (
    FACTORS_COLUMN,
    FEATURES_COLUMN,
    PREFIX,
    SparkPreprocessing,
    fit_pca,
    fit_preprocessing,
)
from clusterlab.ml.algorithms import cluster_name
from clusterlab.ml.metrics import LOWER_IS_BETTER, ModelMetrics
from clusterlab.ml.model import LABEL_COLUMN
from clusterlab.ml.twostep import node_name, tree_parents, weighted_ward

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

BISECTING_KMEANS = "bisecting_kmeans"
"""Spark's bisecting K-means: trained on Spark only (`SparkModelSpec.bisecting`)."""
PRECLUSTER_COLUMN = f"{PREFIX}precluster"
PROBABILITY_COLUMN = f"{PREFIX}probability"
KMEANS_MAX_ITER = 300  # scikit-learn's default; Spark stops earlier once converged

ProgressCallback = Callable[[int, int, str], None]


@dataclass(frozen=True)
class SparkModelSpec:
    """One model to train on Spark: an algorithm name, its parameters, with or without PCA.

    The algorithm is an `AlgorithmType` value or `BISECTING_KMEANS`.

    Examples
    --------
    >>> SparkModelSpec.bisecting(4).label
    'Bisecting K-means (k=4)'
    """

    algorithm: str
    params: dict[str, ParamValue] = field(default_factory=dict)
    pca: bool = False

    @classmethod
    def from_params(cls, params: ModelParams) -> SparkModelSpec:
        """The spec of one model of a design's grid."""
        return cls(params.algorithm.value, dict(params.params), params.pca)

    @classmethod
    def bisecting(cls, k: int, seed: int = DEFAULT_SEED, *, pca: bool = False) -> SparkModelSpec:
        """A bisecting K-means model with ``k`` clusters."""
        return cls(BISECTING_KMEANS, {"k": k, "seed": seed}, pca)

    @property
    def label(self) -> str:
        """A display name, as `ModelParams.label` gives."""
        if self.algorithm == BISECTING_KMEANS:
            shown = [f"k={self.params['k']}"] + (["PCA"] if self.pca else [])
            return f"Bisecting K-means ({', '.join(shown)})"
        return self.model_params().label

    def model_params(self) -> ModelParams:
        """The `ModelParams` a manifest stores (not for algorithms the core lacks)."""
        try:
            algorithm = AlgorithmType(self.algorithm)
        except ValueError:
            raise UnsupportedError(
                f"{self.algorithm} models cannot be saved yet: the model manifest has no "
                "such algorithm type."
            ) from None
        return ModelParams(algorithm=algorithm, params=self.params, pca=self.pca)

    def number(self, key: str, default: int) -> int:
        """An integer parameter of the model."""
        value = self.params.get(key, default)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise InvalidInputError(f"Parameter {key!r} must be a number, not {value!r}.")
        return int(value)


@dataclass(frozen=True)
class TwoStepTree:
    """The two-step Ward tree over the Spark pre-clusters (see `clusterlab.ml.twostep`)."""

    linkage: Any
    node_centers: Any
    node_sizes: Any
    cluster_nodes: tuple[int, ...]
    precluster_to_cluster: tuple[int, ...]


@dataclass
class SparkTrainedModel:
    """One model of a Spark session: its PipelineModel, names and metrics, or its error."""

    spec: SparkModelSpec
    features: tuple[Any, ...] = ()
    feature_names: tuple[str, ...] = ()
    factor_names: tuple[str, ...] = ()
    error: str | None = None
    pipeline: Any = None
    names: dict[int, str] = field(default_factory=dict)
    metrics: ModelMetrics | None = None
    hierarchy: TwoStepTree | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the model trained."""
        return self.error is None

    def metric(self, name: MetricName) -> float | None:
        """The value of metric ``name``; None when it does not apply or the model failed."""
        return None if self.metrics is None else self.metrics.value(name)

    def label(self, frame: DataFrame, column: str = LABEL_COLUMN) -> DataFrame:
        """``frame`` with each row's cluster name in ``column`` (lazy)."""
        if self.pipeline is None:
            raise InvalidInputError(f"{self.spec.label} failed to train: {self.error}")
        return label_frame(self.pipeline, self.names, frame, column)


@dataclass
class SparkTrainingResult:
    """The models of one Spark training session and what they share."""

    design: TaskDesign
    models: list[SparkTrainedModel]
    preprocessing: SparkPreprocessing
    factor_names: tuple[str, ...]
    rows: int
    timings: dict[str, float]

    def sorted_models(self, metric: MetricName | None = None) -> list[SparkTrainedModel]:
        """Models best first by ``metric`` (the design's by default); failures last."""
        name = metric or self.design.metrics.metric
        sign = 1.0 if name in LOWER_IS_BETTER else -1.0

        def key(model: SparkTrainedModel) -> tuple[int, float]:
            value = model.metric(name)
            rank = 0 if value is not None else 1 if model.ok else 2
            return rank, sign * value if value is not None else 0.0

        return sorted(self.models, key=key)


@dataclass
class _Fitted:
    stages: list[Any]
    names: dict[int, str]
    sizes: list[int]
    inertia: float | None = None
    bic: float | None = None
    aic: float | None = None
    tree: TwoStepTree | None = None


def _kmeans(spec: SparkModelSpec, column: str, data: DataFrame) -> _Fitted:
    from pyspark.ml.clustering import KMeans

    k, seed = spec.number("k", 5), spec.number("seed", DEFAULT_SEED)
    best: Any = None
    # Spark's K-means has no restarts of its own: keep the lowest cost of n_init seeds.
    for restart in range(max(1, spec.number("n_init", 1))):
        model = KMeans(
            k=k,
            seed=seed + restart,
            initMode="k-means||",
            maxIter=KMEANS_MAX_ITER,
            featuresCol=column,
            predictionCol=PREDICTION_COLUMN,
        ).fit(data)
        if best is None or model.summary.trainingCost < best.summary.trainingCost:
            best = model
    sizes = list(best.summary.clusterSizes)
    names = {i: cluster_name(i) for i in range(k)}
    return _Fitted([best], names, sizes, inertia=float(best.summary.trainingCost))


def _bisecting(spec: SparkModelSpec, column: str, data: DataFrame) -> _Fitted:
    from pyspark.ml.clustering import BisectingKMeans

    model = BisectingKMeans(
        k=spec.number("k", 5),
        seed=spec.number("seed", DEFAULT_SEED),
        featuresCol=column,
        predictionCol=PREDICTION_COLUMN,
    ).fit(data)
    sizes = list(model.summary.clusterSizes)
    names = {i: cluster_name(i) for i in range(len(sizes))}
    return _Fitted([model], names, sizes, inertia=float(model.summary.trainingCost))


def _gmm(spec: SparkModelSpec, column: str, data: DataFrame, n_rows: int, width: int) -> _Fitted:
    from pyspark.ml.clustering import GaussianMixture

    covariance = spec.params.get("covariance_type", "full")
    if covariance != "full":
        raise UnsupportedError(
            f"Spark's Gaussian mixture has full covariances only, not {covariance!r}: choose "
            "'full', or train this model on the local engine."
        )
    k = spec.number("k", 5)
    model = GaussianMixture(
        k=k,
        seed=spec.number("seed", DEFAULT_SEED),
        maxIter=spec.number("max_iter", 100),
        featuresCol=column,
        predictionCol=PREDICTION_COLUMN,
        probabilityCol=PROBABILITY_COLUMN,
    ).fit(data)
    likelihood = float(model.summary.logLikelihood)
    # Free parameters of a full-covariance mixture, as scikit-learn counts them for BIC.
    free = k * width * (width + 1) / 2 + k * width + k - 1
    names = {i: cluster_name(i) for i in range(k)}
    return _Fitted(
        [model],
        names,
        list(model.summary.clusterSizes),
        bic=-2 * likelihood + free * np.log(n_rows),
        aic=-2 * likelihood + 2 * free,
    )


def _default_cut(linkage: Any, k: int) -> list[int]:
    # The k nodes left when merging stops k - 1 steps before the root (as TwoStepClustering).
    m = len(linkage) + 1
    roots = set(range(m))
    for t in range(m - k):
        roots -= {int(linkage[t, 0]), int(linkage[t, 1])}
        roots.add(m + t)
    return sorted(roots)


def _two_step(spec: SparkModelSpec, column: str, data: DataFrame) -> _Fitted:
    from pyspark.ml.clustering import KMeans
    from pyspark.ml.feature import SQLTransformer

    k = spec.number("k", 5)
    pre = KMeans(
        k=spec.number("pre_k", 100),
        seed=spec.number("seed", DEFAULT_SEED),
        initMode="k-means||",
        maxIter=spec.number("max_iter", KMEANS_MAX_ITER),
        featuresCol=column,
        predictionCol=PRECLUSTER_COLUMN,
    ).fit(data)
    centers = np.array(pre.clusterCenters(), dtype=np.float64)
    sizes = np.asarray(pre.summary.clusterSizes, dtype=np.float64)[: len(centers)]
    m = len(centers)
    if k > m:
        raise InvalidInputError(
            f"Two-step clustering cannot make {k} clusters from {m} pre-clusters; lower k "
            "or train on more rows."
        )
    # An empty pre-cluster would weigh 0 and make Ward's cost 0/0: give it a tiny weight.
    linkage, node_centers = weighted_ward(centers.copy(), np.maximum(sizes, 1e-9))
    node_sizes = np.zeros(2 * m - 1)
    node_sizes[:m] = sizes
    for t, (a, b, _, _) in enumerate(linkage):
        node_sizes[m + t] = node_sizes[int(a)] + node_sizes[int(b)]
    chosen = _default_cut(linkage, k)
    parent, position = tree_parents(linkage), {n: i for i, n in enumerate(chosen)}
    mapping = []
    for leaf in range(m):
        node = leaf
        while node not in position:
            node = int(parent[node])
        mapping.append(position[node])
    ids = ", ".join(str(i) for i in mapping)
    to_cluster = SQLTransformer(
        statement=f"SELECT *, element_at(array({ids}), CAST({PRECLUSTER_COLUMN} AS INT) + 1) "
        f"AS {PREDICTION_COLUMN} FROM __THIS__"
    )
    # Within-cluster squares = the pre-clusters' own + each one's pull to its cluster mean.
    cluster_centers = node_centers[np.asarray(chosen)[mapping]]
    pull = float((sizes * ((centers - cluster_centers) ** 2).sum(axis=1)).sum())
    tree = TwoStepTree(
        linkage, node_centers, node_sizes.astype(np.int64), tuple(chosen), tuple(mapping)
    )
    return _Fitted(
        [pre, to_cluster],
        {i: node_name(n) for i, n in enumerate(chosen)},
        np.bincount(mapping, weights=sizes, minlength=k).astype(int).tolist(),
        inertia=float(pre.summary.trainingCost) + pull,
        tree=tree,
    )


def _fit(spec: SparkModelSpec, column: str, data: DataFrame, n_rows: int, width: int) -> _Fitted:
    if spec.algorithm in (AlgorithmType.KMEANS.value, AlgorithmType.MINIBATCH_KMEANS.value):
        return _kmeans(spec, column, data)
    if spec.algorithm == BISECTING_KMEANS:
        return _bisecting(spec, column, data)
    if spec.algorithm == AlgorithmType.GMM.value:
        return _gmm(spec, column, data, n_rows, width)
    if spec.algorithm == AlgorithmType.TWO_STEP.value:
        return _two_step(spec, column, data)
    note = SPARK_CAPABILITIES.algorithm(spec.algorithm).note
    label = ALGORITHM_LABELS.get(AlgorithmType(spec.algorithm), spec.algorithm)
    raise UnsupportedError(f"{label} cannot be trained on Spark: {note}")


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ClusterLabError):
        return str(exc)
    first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "")
    return f"{type(exc).__name__}: {first[:500]}"


def _train_one(
    spec: SparkModelSpec,
    session: SparkTrainingResult,
    matrix: DataFrame,
    pca: Any,
) -> SparkTrainedModel:
    from pyspark.ml import PipelineModel

    start = perf_counter()
    prep = session.preprocessing
    column = FACTORS_COLUMN if spec.pca else FEATURES_COLUMN
    width = len(session.factor_names) if spec.pca else len(prep.feature_names)
    result = SparkTrainedModel(
        spec,
        features=prep.features,
        feature_names=prep.feature_names,
        factor_names=session.factor_names if spec.pca else (),
    )
    try:
        fitted = _fit(spec, column, matrix, session.rows, width)
        result.timings["fit"] = perf_counter() - start
        scored = PipelineModel(stages=fitted.stages).transform(matrix)
        sizes = dict(enumerate(fitted.sizes))
        value, used, exact = spark_silhouette(
            scored, column, PREDICTION_COLUMN, sizes, session.design.metrics
        )
    except Exception as exc:  # one failing model must never fail the session
        result.error = _error_text(exc)
        result.timings["total"] = perf_counter() - start
        return result
    stages = [prep.model, *([pca] if spec.pca else []), *fitted.stages]
    result.pipeline = PipelineModel(stages=stages)
    result.names = fitted.names
    result.hierarchy = fitted.tree
    result.metrics = ModelMetrics(
        n_clusters=sum(1 for s in fitted.sizes if s),
        cluster_sizes={fitted.names[i]: int(s) for i, s in sizes.items() if s},
        silhouette=value,
        silhouette_sample_size=used,
        silhouette_exact=exact,
        inertia=fitted.inertia,
        bic=fitted.bic,
        aic=fitted.aic,
    )
    result.timings["total"] = perf_counter() - start
    return result


def train_spark(
    frame: DataFrame,
    design: TaskDesign,
    *,
    extra_models: Sequence[SparkModelSpec] = (),
    on_progress: ProgressCallback | None = None,
) -> SparkTrainingResult:
    """Train every model of ``design`` (and ``extra_models``) on the Spark ``frame``.

    Parameters
    ----------
    frame : pyspark.sql.DataFrame
        The dataset rows (at least the input features).
    design : TaskDesign
        Features handling, sampling, algorithms grid, PCA and metrics.
    extra_models : sequence of SparkModelSpec
        Models the design cannot name yet, e.g. ``SparkModelSpec.bisecting(5)``.
    on_progress : callable, optional
        Called as ``on_progress(done, total, message)`` before each step.

    Raises
    ------
    UnsupportedError
        When the design needs what Spark lacks for the whole session (text features,
        outliers detection); an unsupported algorithm only fails its own models.
    InvalidInputError
        When there is no model to train or fewer than 2 rows to train on.

    Examples
    --------
    >>> session = train_spark(engine.session.read.parquet(path), design)  # doctest: +SKIP
    >>> best = session.sorted_models()[0]  # doctest: +SKIP
    """
    specs = [SparkModelSpec.from_params(p) for p in design.grid()] + list(extra_models)
    if not specs:
        raise InvalidInputError("No algorithm is enabled in the design: enable at least one.")
    if design.outliers.method != "none":
        raise UnsupportedError(
            f"Outliers detection ({design.outliers.method}) is not available on Spark: "
            f"{SPARK_CAPABILITIES.ml_options['outliers'].note}. Set it to none, or train on "
            "the local engine."
        )
    report = on_progress or (lambda done, total, message: None)
    total = len(specs) + 1
    start = perf_counter()
    report(0, total, "Preprocessing")
    rows = sample_rows(frame, design.sampling)
    prep, transformed = fit_preprocessing(rows, design.features)
    pca: Any = None
    factors: tuple[str, ...] = ()
    if any(s.pca for s in specs):
        pca, factors = fit_pca(transformed, design.reduction.variance, len(prep.feature_names))
        transformed = pca.transform(transformed)
    columns = [FEATURES_COLUMN] + ([FACTORS_COLUMN] if pca is not None else [])
    # Every model and metric scans the matrix again: keep it in memory for the session.
    matrix = transformed.select(*columns).persist()
    try:
        n_rows = matrix.count()
        if n_rows < 2:
            raise InvalidInputError(
                f"Only {n_rows} row is left to train on: clustering needs at least 2 rows. "
                "Train on more rows, or impute missing values instead of dropping rows."
            )
        timings = {"preprocessing": perf_counter() - start}
        session = SparkTrainingResult(design, [], prep, factors, n_rows, timings)
        for done, spec in enumerate(specs, start=1):
            report(done, total, f"Training {spec.label}")
            session.models.append(_train_one(spec, session, matrix, pca))
    finally:
        matrix.unpersist()
    timings["total"] = perf_counter() - start
    report(total, total, "Done")
    return session
