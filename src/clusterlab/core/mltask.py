"""The design of a Lab clustering task: features handling, sampling, algorithms and more.

A `TaskDesign` is data (frozen pydantic models stored as JSON). `TaskDesign.grid`
expands it into one `ModelParams` per model to train: each listed value of a
multi-valued parameter (k = 3, 5, 7) trains its own model, once without and once with
PCA when the reduction is "both". Algorithm specs form a union discriminated on
``type``, so a stored design names each algorithm's kind.

Examples
--------
>>> design = TaskDesign(
...     features=(FeatureHandling(name="age"),),
...     algorithms=(KMeansSpec(k=(3, 5, 7)),),
...     reduction=ReductionSpec(mode="both"),
... )
>>> [p.label for p in design.grid()][:2]
['K-means (k=3)', 'K-means (k=3, PCA)']
>>> len(design.grid())
6
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ParamValue = int | float | str | bool | None
"""A resolved hyper-parameter value of one model."""

Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]
DEFAULT_SEED = 1337


class _Spec(BaseModel):
    # extra="forbid" so a misspelled setting fails loudly instead of being ignored.
    model_config = ConfigDict(frozen=True, extra="forbid")


# ------------------------------------------------------------------- features handling


class FeatureRole(StrEnum):
    """What a column is used for: fitting, nothing, or display in the report only."""

    INPUT = "input"
    REJECT = "reject"
    DISPLAY = "display"


class FeatureType(StrEnum):
    """How a column's values are encoded."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    TEXT = "text"


class RejectReason(StrEnum):
    """Why the guess rejected a column, as shown next to it in the design."""

    UNIQUE_ID = "unique ID"
    TOO_MANY_MISSING = "too many missing values"
    CONSTANT = "constant (too many equal values)"
    TEXT = "text"
    TOO_MANY_CATEGORIES = "too many categories"
    DATE = "date (not a usable feature)"


class NumericHandling(_Spec):
    """Rescaling and missing-value handling of a numeric feature.

    ``missing="drop"`` drops the rows where the value is missing (they get an empty
    cluster label); ``constant`` is the imputed value when ``missing="constant"``.
    """

    rescaling: Literal["standard", "minmax", "none"] = "standard"
    missing: Literal["mean", "median", "constant", "drop"] = "mean"
    constant: float = 0.0


class CategoricalHandling(_Spec):
    """Dummy encoding with a cap, and missing-value handling of a categorical feature.

    The cap keeps the most frequent levels and gathers the others in one ``other``
    dummy: at most ``max_categories`` levels, or the fewest levels covering
    ``cumulative_proportion`` of the rows, or the levels seen in at least
    ``min_samples`` rows. Missing values become their own level, the most frequent
    level, the ``constant`` level, or drop the row.
    """

    cap: Literal["max_categories", "cumulative_proportion", "min_samples"] = "max_categories"
    max_categories: int = Field(default=100, ge=1)
    cumulative_proportion: float = Field(default=0.95, gt=0, le=1)
    min_samples: int = Field(default=10, ge=1)
    missing: Literal["own_level", "most_frequent", "constant", "drop"] = "own_level"
    constant: str = "missing"


class TextHandling(_Spec):
    """TF-IDF of a text feature, reduced to ``components`` dimensions by truncated SVD."""

    max_terms: int = Field(default=10_000, ge=2)
    components: int = Field(default=10, ge=1)


class FeatureHandling(_Spec):
    """Role, type and handling of one column of the dataset.

    Examples
    --------
    >>> FeatureHandling(name="country", type="categorical").categorical.max_categories
    100
    """

    name: str = Field(min_length=1, max_length=512)
    role: FeatureRole = FeatureRole.INPUT
    type: FeatureType = FeatureType.NUMERIC
    numeric: NumericHandling = NumericHandling()
    categorical: CategoricalHandling = CategoricalHandling()
    text: TextHandling = TextHandling()
    reject_reason: str | None = None

    @property
    def is_input(self) -> bool:
        """Whether the column is used to fit the models."""
        return self.role is FeatureRole.INPUT

    @property
    def drops_missing(self) -> bool:
        """Whether rows missing this input feature are dropped before fitting."""
        if not self.is_input:
            return False
        if self.type is FeatureType.NUMERIC:
            return self.numeric.missing == "drop"
        if self.type is FeatureType.CATEGORICAL:
            return self.categorical.missing == "drop"
        return False


# ------------------------------------------------------------------------ sampling


class SamplingSpec(_Spec):
    """Which rows the models learn from.

    ``first_n`` and ``random_n`` keep ``n`` rows, ``random_ratio`` a share ``ratio``,
    ``stratified`` a share ``ratio`` of each value of ``column``.
    """

    method: Literal["all", "first_n", "random_n", "random_ratio", "stratified"] = "all"
    n: int = Field(default=100_000, ge=1)
    ratio: float = Field(default=0.1, gt=0, le=1)
    column: str | None = None
    seed: Seed = DEFAULT_SEED

    @model_validator(mode="after")
    def _column_for_stratified(self) -> SamplingSpec:
        if self.method == "stratified" and not self.column:
            raise ValueError("stratified sampling needs the column to stratify on (column=...)")
        return self


# ---------------------------------------------------------------------- algorithms


class AlgorithmType(StrEnum):
    """The clustering algorithms a task can train."""

    KMEANS = "kmeans"
    MINIBATCH_KMEANS = "minibatch_kmeans"
    GMM = "gmm"
    AGGLOMERATIVE = "agglomerative"
    SPECTRAL = "spectral"
    DBSCAN = "dbscan"
    HDBSCAN = "hdbscan"
    TWO_STEP = "two_step"
    ISOLATION_FOREST = "isolation_forest"
    CUSTOM = "custom"


ALGORITHM_LABELS: dict[AlgorithmType, str] = {
    AlgorithmType.KMEANS: "K-means",
    AlgorithmType.MINIBATCH_KMEANS: "Mini-batch K-means",
    AlgorithmType.GMM: "Gaussian mixture",
    AlgorithmType.AGGLOMERATIVE: "Agglomerative clustering",
    AlgorithmType.SPECTRAL: "Spectral clustering",
    AlgorithmType.DBSCAN: "DBSCAN",
    AlgorithmType.HDBSCAN: "HDBSCAN",
    AlgorithmType.TWO_STEP: "Interactive two-step clustering",
    AlgorithmType.ISOLATION_FOREST: "Isolation Forest",
    AlgorithmType.CUSTOM: "Custom model",
}
"""Display names of the algorithms, as in the design's algorithm list."""

KList = Annotated[tuple[Annotated[int, Field(ge=2)], ...], Field(min_length=1)]
Grid = list[dict[str, ParamValue]]


class _Algorithm(_Spec):
    enabled: bool = True

    def expand(self) -> Grid:
        """One resolved parameter set per model this algorithm trains."""
        raise NotImplementedError


class KMeansSpec(_Algorithm):
    """K-means: one model per ``k``; ``n_init`` restarts keep the lowest inertia.

    Three k-means++ restarts by default: scikit-learn's default is one, DSS's was ten,
    and on 200,000 rows × 113 features each restart took about 17 s.
    """

    type: Literal["kmeans"] = "kmeans"
    k: KList = (3, 5, 7)
    seed: Seed = DEFAULT_SEED
    n_init: int = Field(default=3, ge=1)

    def expand(self) -> Grid:
        return [{"k": k, "seed": self.seed, "n_init": self.n_init} for k in self.k]


class MiniBatchKMeansSpec(_Algorithm):
    """Mini-batch K-means: K-means on random batches, for large data."""

    type: Literal["minibatch_kmeans"] = "minibatch_kmeans"
    k: KList = (3, 5, 7)
    seed: Seed = DEFAULT_SEED
    batch_size: int = Field(default=1024, ge=1)
    n_init: int = Field(default=3, ge=1)

    def expand(self) -> Grid:
        return [
            {"k": k, "seed": self.seed, "batch_size": self.batch_size, "n_init": self.n_init}
            for k in self.k
        ]


CovarianceType = Literal["full", "tied", "diag", "spherical"]


class GaussianMixtureSpec(_Algorithm):
    """Gaussian mixture: one model per (components, covariance type)."""

    type: Literal["gmm"] = "gmm"
    components: KList = (3, 5, 7)
    covariance_types: Annotated[tuple[CovarianceType, ...], Field(min_length=1)] = ("full",)
    max_iter: int = Field(default=100, ge=1)
    seed: Seed = DEFAULT_SEED

    def expand(self) -> Grid:
        return [
            {"k": k, "covariance_type": cov, "max_iter": self.max_iter, "seed": self.seed}
            for k in self.components
            for cov in self.covariance_types
        ]


class AgglomerativeSpec(_Algorithm):
    """Agglomerative (Ward by default) clustering: one model per ``k``."""

    type: Literal["agglomerative"] = "agglomerative"
    k: KList = (3, 5, 7)
    linkage: Literal["ward", "complete", "average", "single"] = "ward"

    def expand(self) -> Grid:
        return [{"k": k, "linkage": self.linkage} for k in self.k]


class SpectralSpec(_Algorithm):
    """Spectral clustering on a nearest-neighbors, RBF or polynomial affinity."""

    type: Literal["spectral"] = "spectral"
    k: KList = (3, 5, 7)
    affinity: Literal["nearest_neighbors", "rbf", "polynomial"] = "nearest_neighbors"
    gamma: float = Field(default=1.0, gt=0)
    coef0: float = 1.0
    seed: Seed = DEFAULT_SEED

    def expand(self) -> Grid:
        return [
            {
                "k": k,
                "affinity": self.affinity,
                "gamma": self.gamma,
                "coef0": self.coef0,
                "seed": self.seed,
            }
            for k in self.k
        ]


class DBSCANSpec(_Algorithm):
    """DBSCAN: one model per ``eps``; min_samples = ``min_sample_ratio`` × rows."""

    type: Literal["dbscan"] = "dbscan"
    eps: Annotated[tuple[Annotated[float, Field(gt=0)], ...], Field(min_length=1)] = (0.5,)
    min_sample_ratio: float = Field(default=0.01, gt=0, le=1)

    def expand(self) -> Grid:
        return [{"eps": eps, "min_sample_ratio": self.min_sample_ratio} for eps in self.eps]


class HDBSCANSpec(_Algorithm):
    """HDBSCAN: one model per min cluster ratio (min cluster size = ratio × rows)."""

    type: Literal["hdbscan"] = "hdbscan"
    min_cluster_ratio: Annotated[
        tuple[Annotated[float, Field(gt=0, le=0.5)], ...], Field(min_length=1)
    ] = (0.05,)

    def expand(self) -> Grid:
        return [{"min_cluster_ratio": r} for r in self.min_cluster_ratio]


class TwoStepSpec(_Algorithm):
    """Interactive two-step: K-means pre-clusters, then Ward on their centroids."""

    type: Literal["two_step"] = "two_step"
    pre_k: int = Field(default=100, ge=2)
    k: int = Field(default=5, ge=2)
    max_iter: int = Field(default=300, ge=1)
    seed: Seed = DEFAULT_SEED

    @model_validator(mode="after")
    def _k_below_pre_k(self) -> TwoStepSpec:
        if self.k > self.pre_k:
            raise ValueError(
                f"two-step needs k ({self.k}) <= the number of pre-clusters ({self.pre_k})"
            )
        return self

    def expand(self) -> Grid:
        return [{"pre_k": self.pre_k, "k": self.k, "max_iter": self.max_iter, "seed": self.seed}]


class IsolationForestSpec(_Algorithm):
    """Isolation Forest anomaly detection: rows split into ``regular`` and ``anomalies``."""

    type: Literal["isolation_forest"] = "isolation_forest"
    n_estimators: int = Field(default=100, ge=1)
    contamination: Literal["auto"] | Annotated[float, Field(gt=0, le=0.5)] = "auto"
    max_samples: (
        Literal["auto"] | Annotated[int, Field(ge=1)] | Annotated[float, Field(gt=0, le=1)]
    ) = "auto"
    bootstrap: bool = False
    max_features: Annotated[int, Field(ge=1)] | Annotated[float, Field(gt=0, le=1)] = 1.0
    anomalies_to_display: int = Field(default=100, ge=1)
    seed: Seed = DEFAULT_SEED

    def expand(self) -> Grid:
        return [
            {
                "n_estimators": self.n_estimators,
                "contamination": self.contamination,
                "max_samples": self.max_samples,
                "bootstrap": self.bootstrap,
                "max_features": self.max_features,
                "anomalies_to_display": self.anomalies_to_display,
                "seed": self.seed,
            }
        ]


class CustomSpec(_Algorithm):
    """A scikit-learn-compatible clusterer given as Python code that defines ``clf``.

    The code runs only where custom code is explicitly allowed.
    """

    type: Literal["custom"] = "custom"
    name: str = Field(default="Custom model", min_length=1, max_length=200)
    code: str = Field(min_length=1)

    def expand(self) -> Grid:
        return [{"name": self.name, "code": self.code}]


AlgorithmSpec = Annotated[
    KMeansSpec
    | MiniBatchKMeansSpec
    | GaussianMixtureSpec
    | AgglomerativeSpec
    | SpectralSpec
    | DBSCANSpec
    | HDBSCANSpec
    | TwoStepSpec
    | IsolationForestSpec
    | CustomSpec,
    Field(discriminator="type"),
]


# ---------------------------------------------------- reduction, outliers, metrics


class ReductionSpec(_Spec):
    """PCA before clustering: off, on, or both (each algorithm trained with and without).

    PCA standardizes the features and keeps the fewest components reaching
    ``variance`` of the variance, named ``factor_0``, ``factor_1``, ...
    """

    mode: Literal["off", "pca", "both"] = "off"
    variance: float = Field(default=0.9, gt=0, le=1)

    @property
    def variants(self) -> tuple[bool, ...]:
        """The PCA settings each algorithm is trained with."""
        return {"off": (False,), "pca": (True,), "both": (False, True)}[self.mode]


class OutliersSpec(_Spec):
    """Outliers detection through mini-clusters: none, drop them, or gather them.

    A mini-cluster is an outlier when it holds fewer than ``min_size`` rows, or when
    the cumulative share of rows up to it (sizes ascending) is below ``min_cum_ratio``.
    """

    method: Literal["none", "drop", "cluster"] = "none"
    min_size: int = Field(default=10, ge=1)
    min_cum_ratio: float = Field(default=0.01, ge=0, lt=1)
    variance: float = Field(default=0.9, gt=0, le=1)
    seed: Seed = DEFAULT_SEED


MetricName = Literal[
    "silhouette", "inertia", "davies_bouldin", "calinski_harabasz", "bic", "aic", "n_clusters"
]


class MetricsSpec(_Spec):
    """How the models are measured and which metric sorts the results table.

    The silhouette is exact up to ``silhouette_exact_threshold`` rows, else computed on
    a cluster-stratified sample of ``silhouette_sample_size`` rows.
    """

    metric: MetricName = "silhouette"
    silhouette_exact_threshold: int = Field(default=10_000, ge=2)
    silhouette_sample_size: int = Field(default=10_000, ge=2)
    seed: Seed = DEFAULT_SEED


# ---------------------------------------------------------------- design and grid


class ModelParams(_Spec):
    """One model of a session: an algorithm, its resolved parameters, with or without PCA.

    Examples
    --------
    >>> p = ModelParams(algorithm="gmm", params={"k": 4, "covariance_type": "diag"})
    >>> p.label, p.k
    ('Gaussian mixture (k=4, covariance_type=diag)', 4)
    """

    algorithm: AlgorithmType
    params: dict[str, ParamValue] = Field(default_factory=dict)
    pca: bool = False

    @property
    def k(self) -> int | None:
        """The requested number of clusters, when the algorithm takes one."""
        value = self.params.get("k")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    @property
    def label(self) -> str:
        """A short display name, e.g. ``K-means (k=3, PCA)``."""
        if self.algorithm is AlgorithmType.CUSTOM:
            head = str(self.params.get("name") or ALGORITHM_LABELS[self.algorithm])
            shown: list[str] = []
        else:
            head = ALGORITHM_LABELS[self.algorithm]
            shown = [f"{key}={value}" for key, value in self.params.items() if key in _SHOWN]
        if self.pca:
            shown.append("PCA")
        return f"{head} ({', '.join(shown)})" if shown else head


# The parameters that tell the models of one algorithm apart; seeds and limits do not.
_SHOWN = frozenset({"k", "covariance_type", "eps", "min_cluster_ratio", "pre_k", "contamination"})


class TaskDesign(_Spec):
    """Everything a training session needs besides the data.

    Examples
    --------
    >>> TaskDesign(features=(FeatureHandling(name="x"),)).input_names
    ('x',)
    """

    features: tuple[FeatureHandling, ...] = ()
    sampling: SamplingSpec = SamplingSpec()
    algorithms: tuple[AlgorithmSpec, ...] = (KMeansSpec(),)
    reduction: ReductionSpec = ReductionSpec()
    outliers: OutliersSpec = OutliersSpec()
    metrics: MetricsSpec = MetricsSpec()
    models: tuple[ModelParams, ...] = ()
    """When set, the models trained instead of the algorithms' grid (a train recipe's)."""

    @field_validator("features")
    @classmethod
    def _distinct_features(
        cls, features: tuple[FeatureHandling, ...]
    ) -> tuple[FeatureHandling, ...]:
        seen: set[str] = set()
        for feature in features:
            if feature.name in seen:
                raise ValueError(f"column {feature.name!r} is listed twice in the features")
            seen.add(feature.name)
        return features

    @property
    def inputs(self) -> tuple[FeatureHandling, ...]:
        """The features used to fit the models, in design order."""
        return tuple(f for f in self.features if f.is_input)

    @property
    def input_names(self) -> tuple[str, ...]:
        """Names of the input features."""
        return tuple(f.name for f in self.inputs)

    def for_models(self, *models: ModelParams) -> TaskDesign:
        """This design pinned to train exactly ``models``.

        Examples
        --------
        >>> one = ModelParams(algorithm="kmeans", params={"k": 5})
        >>> [m.label for m in TaskDesign().for_models(one).grid()]
        ['K-means (k=5)']
        """
        return self.model_copy(update={"models": tuple(models)})

    def feature(self, name: str) -> FeatureHandling:
        """The handling of column ``name`` (KeyError when the design does not list it)."""
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(name)

    def grid(self) -> tuple[ModelParams, ...]:
        """One `ModelParams` per (enabled algorithm, parameter value, PCA variant).

        A design pinned to given models (`for_models`) trains exactly those.
        """
        if self.models:
            return self.models
        return tuple(
            ModelParams(algorithm=AlgorithmType(spec.type), params=params, pca=pca)
            for spec in self.algorithms
            if spec.enabled
            for params in spec.expand()
            for pca in self.reduction.variants
        )


# ---------------------------------------------------------------------- manifest


class ModelManifest(_Spec):
    """What a saved model is, stored as JSON next to its skops artifact.

    ``features`` are the input features' handling, ``feature_names`` the preprocessed
    matrix columns, ``factor_names`` the PCA components the model was fitted on (empty
    without PCA), ``cluster_names`` the cluster name of each label id. The
    ``artifact_sha256`` is checked before the artifact is ever read.
    """

    format_version: int = 1
    flavor: Literal["sklearn", "spark"] = "sklearn"
    algorithm: AlgorithmType
    params: ModelParams
    features: tuple[FeatureHandling, ...]
    feature_names: tuple[str, ...]
    factor_names: tuple[str, ...] = ()
    outliers: OutliersSpec
    cluster_names: dict[str, str]
    metrics: dict[str, ParamValue] = Field(default_factory=dict)
    library_versions: dict[str, str] = Field(default_factory=dict)
    seed: int | None = None
    data_hash: str | None = None
    lineage: dict[str, str | int | None] = Field(default_factory=dict)
    """Where the model comes from: task, session and model, or train recipe and dataset."""
    approximate: bool = False
    """New rows are labelled by an assignment rule, not the algorithm (Ward, spectral,
    DBSCAN, HDBSCAN: nearest centroid or nearest core point)."""
    artifact: str = "model.skops"
    artifact_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    created_at: str
