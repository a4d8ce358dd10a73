"""Data of the small report panels: Detailed metrics, and Training information.

Both are built from values the caller already has (the model's metrics, timings,
settings and diagnostics) and stored in the report JSON as they are; nothing is
computed from the data here.

Examples
--------
>>> panel = build_detailed_metrics({"silhouette": 0.61, "inertia": 12.5, "bic": None},
...                                {"cluster_0": 30, "cluster_1": 10})
>>> [(m.label, m.value, m.better) for m in panel.metrics]
[('Silhouette', 0.61, 'higher'), ('Inertia', 12.5, 'lower')]
>>> [c.size_text for c in panel.clusters]
['30 (75.00%)', '10 (25.00%)']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from clusterlab.core.mltask import FeatureHandling, FeatureRole, FeatureType, ParamValue
from clusterlab.ml.report.formatting import format_size

# Kept here rather than imported from clusterlab.ml.metrics: that module imports the
# preprocessing, which imports this package, and the cycle would break at import.
METRIC_LABELS = {
    "silhouette": "Silhouette",
    "inertia": "Inertia",
    "davies_bouldin": "Davies-Bouldin",
    "calinski_harabasz": "Calinski-Harabasz",
    "bic": "BIC",
    "aic": "AIC",
    "n_clusters": "Number of clusters",
}
"""Display names of the metrics, in display order."""
_LOWER_IS_BETTER = frozenset({"inertia", "davies_bouldin", "bic", "aic"})
_HIGHER_IS_BETTER = frozenset({"silhouette", "calinski_harabasz"})
_SILHOUETTE_DETAILS = ("silhouette_sample_size", "silhouette_exact")

Better = Literal["higher", "lower"]


class MetricEntry(BaseModel):
    """One metric of the model, its display name and which way is better."""

    model_config = ConfigDict(frozen=True)

    name: str
    label: str
    value: ParamValue
    better: Better | None = None


class ClusterSize(BaseModel):
    """Rows of one cluster, as ``N (x.xx%)``."""

    model_config = ConfigDict(frozen=True)

    name: str
    size: int
    share: float
    size_text: str


class DetailedMetrics(BaseModel):
    """The Detailed metrics panel: every metric that applies, and the cluster sizes."""

    model_config = ConfigDict(frozen=True)

    metrics: list[MetricEntry]
    clusters: list[ClusterSize]
    n_rows: int
    silhouette_sample_size: int | None = None
    silhouette_exact: bool | None = None


def _better(metric: str) -> Better | None:
    if metric in _LOWER_IS_BETTER:
        return "lower"
    return "higher" if metric in _HIGHER_IS_BETTER else None


def build_detailed_metrics(
    metrics: Mapping[str, ParamValue],
    cluster_sizes: Mapping[str, int],
    *,
    silhouette_sample_size: int | None = None,
    silhouette_exact: bool | None = None,
) -> DetailedMetrics:
    """Build the Detailed metrics panel; metrics that do not apply (None) are left out.

    ``metrics`` is e.g. `clusterlab.ml.metrics.ModelMetrics.as_dict`; its
    silhouette sample size and exactness are used unless given explicitly. Known
    metrics come first in `METRIC_LABELS` order, others after, in given order.
    """
    known = [m for m in METRIC_LABELS if m in metrics]
    others = [m for m in metrics if m not in METRIC_LABELS and m not in _SILHOUETTE_DETAILS]
    entries = [
        MetricEntry(
            name=name,
            label=METRIC_LABELS.get(name, name.replace("_", " ").capitalize()),
            value=metrics[name],
            better=_better(name),
        )
        for name in [*known, *others]
        if metrics[name] is not None
    ]
    total = sum(cluster_sizes.values())
    if silhouette_sample_size is None:
        sample = metrics.get("silhouette_sample_size")
        silhouette_sample_size = int(sample) if isinstance(sample, int | float) else None
    if silhouette_exact is None:
        exact = metrics.get("silhouette_exact")
        silhouette_exact = exact if isinstance(exact, bool) else None
    return DetailedMetrics(
        metrics=entries,
        clusters=[
            ClusterSize(
                name=name,
                size=size,
                share=size / total if total else 0.0,
                size_text=format_size(size, total),
            )
            for name, size in cluster_sizes.items()
        ],
        n_rows=total,
        silhouette_sample_size=silhouette_sample_size,
        silhouette_exact=silhouette_exact,
    )


class FeatureSummary(BaseModel):
    """How one column was handled: role, type and a one-line description."""

    model_config = ConfigDict(frozen=True)

    name: str
    role: str
    type: str
    handling: str


_CAPS = {
    "max_categories": "at most {max_categories} levels",
    "cumulative_proportion": "levels covering {cumulative_proportion:.0%} of rows",
    "min_samples": "levels seen in at least {min_samples} rows",
}


def feature_summary(feature: FeatureHandling) -> FeatureSummary:
    """Describe the handling of ``feature`` in one line, as the Features panel lists it.

    Examples
    --------
    >>> feature_summary(FeatureHandling(name="age")).handling
    'rescaling standard; missing values: impute mean'
    >>> feature_summary(FeatureHandling(name="id", role="reject", reject_reason="unique ID"))
    FeatureSummary(name='id', role='reject', type='numeric', handling='rejected: unique ID')
    """
    if feature.role is FeatureRole.REJECT:
        text = f"rejected: {feature.reject_reason}" if feature.reject_reason else "rejected"
    elif feature.role is FeatureRole.DISPLAY:
        text = "display only (not used to fit)"
    elif feature.type is FeatureType.NUMERIC:
        num = feature.numeric
        missing = "drop rows" if num.missing == "drop" else f"impute {num.missing}"
        if num.missing == "constant":
            missing += f" {num.constant:g}"
        text = f"rescaling {num.rescaling}; missing values: {missing}"
    elif feature.type is FeatureType.CATEGORICAL:
        cat = feature.categorical
        cap = _CAPS[cat.cap].format(**cat.model_dump())
        missing = cat.missing.replace("_", " ")
        if cat.missing == "constant":
            missing += f" {cat.constant!r}"
        text = f"dummy encoding, {cap}; missing values: {missing}"
    else:
        txt = feature.text
        text = f"TF-IDF ({txt.max_terms} terms) reduced to {txt.components} components"
    return FeatureSummary(
        name=feature.name, role=feature.role.value, type=feature.type.value, handling=text
    )


class DiagnosticMessage(BaseModel):
    """One ML diagnostic: a stable code and the message shown."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str


class TrainingInfo(BaseModel):
    """The Training information, Features and Algorithm panels.

    ``outliers`` and ``pca`` hold the settings used (e.g. ``OutliersSpec.model_dump()``
    plus the number of outlier rows; whether PCA was on, the variance kept and the
    number of factors); ``timings`` seconds per step.
    """

    model_config = ConfigDict(frozen=True)

    algorithm: str
    params: dict[str, ParamValue]
    timings: dict[str, float]
    outliers: dict[str, ParamValue]
    pca: dict[str, ParamValue]
    diagnostics: list[DiagnosticMessage]
    features: list[FeatureSummary]
    n_rows: int | None = None


def build_training_info(
    algorithm: str,
    params: Mapping[str, ParamValue],
    *,
    timings: Mapping[str, float] = {},
    outliers: Mapping[str, ParamValue] = {},
    pca: Mapping[str, ParamValue] = {},
    diagnostics: Sequence[Any] = (),
    features: Sequence[FeatureHandling | FeatureSummary] = (),
    n_rows: int | None = None,
) -> TrainingInfo:
    """Build the Training information panel from what the caller passes.

    ``diagnostics`` items are strings or objects with ``code`` and ``message`` (such
    as `clusterlab.ml.diagnostics.Diagnostic`); ``features`` are the design's feature
    handlings or ready summaries.

    Examples
    --------
    >>> info = build_training_info("K-means (k=3)", {"k": 3}, timings={"fit": 0.25},
    ...                            diagnostics=["Few rows"], features=[FeatureHandling(name="x")])
    >>> info.diagnostics[0].code, info.features[0].handling
    ('message', 'rescaling standard; missing values: impute mean')
    >>> TrainingInfo.model_validate_json(info.model_dump_json()) == info
    True
    """
    messages = [
        DiagnosticMessage(code="message", message=d)
        if isinstance(d, str)
        else DiagnosticMessage(code=str(d.code), message=str(d.message))
        for d in diagnostics
    ]
    return TrainingInfo(
        algorithm=algorithm,
        params=dict(params),
        timings={k: float(v) for k, v in timings.items()},
        outliers=dict(outliers),
        pca=dict(pca),
        diagnostics=messages,
        features=[f if isinstance(f, FeatureSummary) else feature_summary(f) for f in features],
        n_rows=n_rows,
    )
