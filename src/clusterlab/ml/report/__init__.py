"""Engine-neutral statistics and figures of a clustering model's report.

Everything is computed from the scored training table through Ibis, so the same
builders run on DuckDB and on Spark; only per-cluster summaries reach Python.

Examples
--------
>>> import ibis
>>> from clusterlab.ml.report import build_report, features_of
>>> t = ibis.memtable({"x": [1.0, 2.0, 9.0], "cluster": ["a", "a", "b"]})
>>> build_report(t, features_of(numeric=["x"])).clusters[1].size_text
'1 (33.33%)'
"""

from clusterlab.ml.report.cluster_report import ClusterReport, ClusterSummary, build_report
from clusterlab.ml.report.figures import (
    HEATMAP_COLORSCALE,
    ElbowPoint,
    cluster_colors,
    elbow_figure,
    heatmap_figure,
    importance_figure,
    profile_figure,
    scatter_figure,
)
from clusterlab.ml.report.formatting import format_number, format_percent, format_size
from clusterlab.ml.report.heatmap import (
    EXPORT_COLUMNS,
    Heatmap,
    HeatmapCell,
    HeatmapRow,
    build_heatmap,
    relative_importance_level,
    relative_importance_numeric,
)
from clusterlab.ml.report.importance import (
    FeatureImportance,
    importances_table,
    variables_importance,
)
from clusterlab.ml.report.inputs import (
    DEFAULT_CLUSTER_COLUMN,
    MISSING_LEVEL,
    OTHER_LEVEL,
    FeatureInfo,
    FeatureKind,
    features_of,
)
from clusterlab.ml.report.observations import (
    ClusterObservations,
    Observation,
    ObservationsReport,
    build_observations,
    suggest_name,
    suggest_names,
)
from clusterlab.ml.report.profiles import (
    OVERALL,
    BoxStats,
    DistributionRow,
    FeatureProfile,
    build_profiles,
    profile_for,
)
from clusterlab.ml.report.stats import NumericSummary, ReportStats, compute_stats

__all__ = [
    "DEFAULT_CLUSTER_COLUMN",
    "EXPORT_COLUMNS",
    "HEATMAP_COLORSCALE",
    "MISSING_LEVEL",
    "OTHER_LEVEL",
    "OVERALL",
    "BoxStats",
    "ClusterObservations",
    "ClusterReport",
    "ClusterSummary",
    "DistributionRow",
    "ElbowPoint",
    "FeatureImportance",
    "FeatureInfo",
    "FeatureKind",
    "FeatureProfile",
    "Heatmap",
    "HeatmapCell",
    "HeatmapRow",
    "NumericSummary",
    "Observation",
    "ObservationsReport",
    "ReportStats",
    "build_heatmap",
    "build_observations",
    "build_profiles",
    "build_report",
    "cluster_colors",
    "compute_stats",
    "elbow_figure",
    "features_of",
    "format_number",
    "format_percent",
    "format_size",
    "heatmap_figure",
    "importance_figure",
    "importances_table",
    "profile_figure",
    "profile_for",
    "relative_importance_level",
    "relative_importance_numeric",
    "scatter_figure",
    "suggest_name",
    "suggest_names",
    "variables_importance",
]
