"""The model report data: every panel of one trained model, storable as JSON.

`build_report` runs the engine-neutral builders on the scored training table; the
result is a pydantic model that the storage layer writes with ``model_dump_json``
and the UI reads back with `ClusterReport.model_validate_json`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from clusterlab.core.errors import NotFoundError
from clusterlab.ml.report.anomalies import AnomaliesPanel
from clusterlab.ml.report.figures import cluster_colors
from clusterlab.ml.report.formatting import format_size
from clusterlab.ml.report.heatmap import Heatmap, build_heatmap
from clusterlab.ml.report.hierarchy import HierarchyPanel
from clusterlab.ml.report.importance import FeatureImportance
from clusterlab.ml.report.inputs import DEFAULT_CLUSTER_COLUMN, FeatureInfo
from clusterlab.ml.report.observations import (
    ObservationsReport,
    build_observations,
    suggest_names,
)
from clusterlab.ml.report.panels import DetailedMetrics, TrainingInfo
from clusterlab.ml.report.profiles import DEFAULT_BINS, FeatureProfile, build_profiles
from clusterlab.ml.report.rules import ClusterRules
from clusterlab.ml.report.scatter import ScatterData
from clusterlab.ml.report.stats import DEFAULT_MAX_LEVELS, compute_stats


class ClusterSummary(BaseModel):
    """One cluster in the summary panel: size, default color and suggested name."""

    model_config = ConfigDict(frozen=True)

    name: str
    size: int
    share: float
    size_text: str
    color: str
    suggested_name: str = ""


class ClusterReport(BaseModel):
    """Data of the model report panels, storable as JSON.

    Summary and heatmap are always there; profiles (unless built without them) too.
    Importance, the scatter plot, rules, detailed metrics and training information are
    added with `with_importances` and `with_panels` by the caller that has the matrix
    and the model, as are the anomalies (Isolation Forest) and hierarchy (two-step)
    panels of the models that have them. Panels left out are None, so reports stored
    before they existed still load. ``deferred`` marks a report whose profiles,
    importance, scatter plot and rules are still to be built (a training session
    leaves them to the first view of the model).

    Examples
    --------
    >>> import ibis
    >>> from clusterlab.ml.report.inputs import features_of
    >>> t = ibis.memtable({"x": [1.0, 1.0, 1.0, 9.0], "c": ["u", "u", "v", "v"],
    ...                    "cluster": ["a", "a", "a", "b"]})
    >>> report = build_report(t, features_of(["x"], ["c"]))
    >>> [(c.name, c.size_text, c.suggested_name) for c in report.clusters]
    [('a', '3 (75.00%)', 'Low x'), ('b', '1 (25.00%)', 'High x')]
    >>> ClusterReport.model_validate_json(report.model_dump_json()) == report
    True
    """

    model_config = ConfigDict(frozen=True)

    cluster_column: str
    n_rows: int
    features: list[FeatureInfo]
    clusters: list[ClusterSummary]
    observations: ObservationsReport
    heatmap: Heatmap
    profiles: list[FeatureProfile]
    importances: list[FeatureImportance] = []
    scatter: ScatterData | None = None
    anomalies: AnomaliesPanel | None = None
    hierarchy: HierarchyPanel | None = None
    detailed_metrics: DetailedMetrics | None = None
    training_info: TrainingInfo | None = None
    rules: list[ClusterRules] | None = None
    deferred: bool = False

    def cluster(self, name: str) -> ClusterSummary:
        """Return the summary of cluster ``name`` or raise `NotFoundError`."""
        for item in self.clusters:
            if item.name == name:
                return item
        names = ", ".join(c.name for c in self.clusters)
        raise NotFoundError(f"No cluster {name!r} in the report; the clusters are: {names}.")

    def with_importances(self, importances: Sequence[FeatureImportance]) -> ClusterReport:
        """Return a copy holding the variables importance (computed from the matrix)."""
        return self.model_copy(update={"importances": list(importances)})

    def completed(
        self, profiles: Sequence[FeatureProfile], importances: Sequence[FeatureImportance]
    ) -> ClusterReport:
        """Return a copy holding the deferred profiles and importance, no longer deferred
        (add the scatter plot and rules with `with_panels`)."""
        return self.model_copy(
            update={"profiles": list(profiles), "importances": list(importances), "deferred": False}
        )

    def with_panels(
        self,
        *,
        scatter: ScatterData | None = None,
        anomalies: AnomaliesPanel | None = None,
        hierarchy: HierarchyPanel | None = None,
        detailed_metrics: DetailedMetrics | None = None,
        training_info: TrainingInfo | None = None,
        rules: Sequence[ClusterRules] | None = None,
    ) -> ClusterReport:
        """Return a copy holding the given panels (the ones not given are kept)."""
        given = {
            "scatter": scatter,
            "anomalies": anomalies,
            "hierarchy": hierarchy,
            "detailed_metrics": detailed_metrics,
            "training_info": training_info,
            "rules": None if rules is None else list(rules),
        }
        return self.model_copy(update={k: v for k, v in given.items() if v is not None})


def build_report(
    table: Any,
    features: Sequence[FeatureInfo],
    *,
    cluster_column: str = DEFAULT_CLUSTER_COLUMN,
    cluster_order: Sequence[str] | None = None,
    importances: Sequence[FeatureImportance] = (),
    bins: int = DEFAULT_BINS,
    max_levels: int = DEFAULT_MAX_LEVELS,
    profile_sample: Any = None,
    with_profiles: bool = True,
) -> ClusterReport:
    """Build every engine-neutral panel of a model report from its scored table.

    Runs five grouped queries in the table's engine whatever its size: per-cluster
    numeric statistics, categorical level counts, histograms, and per-cluster and
    global quantiles (the last three for the profiles only).

    Parameters
    ----------
    table : ibis.Table
        The scored training table: feature columns plus the cluster label column.
    features : sequence of FeatureInfo
        Features to report on, numeric or categorical.
    cluster_column : str
        Column holding each row's cluster name (rows without one are left out).
    cluster_order : sequence of str, optional
        Display order of clusters (default: natural order of names).
    importances : sequence of FeatureImportance
        Variables importance, from `clusterlab.ml.report.importance.variables_importance`.
    bins, max_levels : int
        Profile bins of numeric features; levels kept per categorical feature.
    profile_sample : ibis.Table, optional
        A uniform sample of ``table``'s rows to read the profiles' numeric bins and box
        statistics from (every other figure is of all rows); by default all rows.
    with_profiles : bool
        False leaves the profiles out and marks the report ``deferred`` (see
        `report_profiles`).
    """
    stats = compute_stats(
        table,
        features,
        cluster_column=cluster_column,
        cluster_order=cluster_order,
        max_levels=max_levels,
    )
    observations = build_observations(stats)
    names = suggest_names(observations)
    colors = cluster_colors(stats.clusters)
    total = stats.n_rows
    clusters = [
        ClusterSummary(
            name=c,
            size=stats.sizes[c],
            share=stats.sizes[c] / total,
            size_text=format_size(stats.sizes[c], total),
            color=colors[c],
            suggested_name=names.get(c, ""),
        )
        for c in stats.clusters
    ]
    return ClusterReport(
        cluster_column=cluster_column,
        n_rows=total,
        features=list(stats.features),
        clusters=clusters,
        observations=observations,
        heatmap=build_heatmap(stats, max_levels=max_levels),
        profiles=build_profiles(
            table, stats, bins=bins, max_levels=max_levels, sample=profile_sample
        )
        if with_profiles
        else [],
        importances=list(importances),
        deferred=not with_profiles,
    )


def report_profiles(
    table: Any,
    features: Sequence[FeatureInfo],
    *,
    cluster_column: str = DEFAULT_CLUSTER_COLUMN,
    cluster_order: Sequence[str] | None = None,
    bins: int = DEFAULT_BINS,
    max_levels: int = DEFAULT_MAX_LEVELS,
    profile_sample: Any = None,
) -> list[FeatureProfile]:
    """The profiles panel alone, for a report built ``with_profiles=False`` (the
    parameters are `build_report`'s)."""
    stats = compute_stats(
        table,
        features,
        cluster_column=cluster_column,
        cluster_order=cluster_order,
        max_levels=max_levels,
    )
    return build_profiles(table, stats, bins=bins, max_levels=max_levels, sample=profile_sample)
