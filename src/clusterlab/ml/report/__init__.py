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

from clusterlab.ml.report.anomalies import (
    DEFAULT_TOP_ANOMALIES,
    REGULAR_ROWS,
    AnomaliesPanel,
    AnomalyRow,
    FeatureMoments,
    anomaly_strength,
    build_anomalies,
    z_score,
)
from clusterlab.ml.report.cluster_report import ClusterReport, ClusterSummary, build_report
from clusterlab.ml.report.figures import (
    HEATMAP_COLORSCALE,
    ElbowPoint,
    anomalies_figure,
    anomaly_scores_figure,
    cluster_colors,
    dendrogram_figure,
    elbow_figure,
    heatmap_figure,
    importance_figure,
    profile_figure,
    scatter_figure,
    z_score_color,
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
from clusterlab.ml.report.hierarchy import (
    HierarchyNode,
    HierarchyPanel,
    build_hierarchy,
    session_hierarchy,
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
from clusterlab.ml.report.panels import (
    ClusterSize,
    DetailedMetrics,
    DiagnosticMessage,
    FeatureSummary,
    MetricEntry,
    TrainingInfo,
    build_detailed_metrics,
    build_training_info,
    feature_summary,
)
from clusterlab.ml.report.profiles import (
    OVERALL,
    BoxStats,
    DistributionRow,
    FeatureProfile,
    build_profiles,
    profile_for,
)
from clusterlab.ml.report.scatter import (
    DEFAULT_MAX_POINTS,
    PROJECTION_X,
    PROJECTION_Y,
    ScatterData,
    balanced_quotas,
    balanced_sample,
    build_scatter,
    default_axes,
    fit_projection,
    scatter_frame,
    session_scatter,
)
from clusterlab.ml.report.stats import NumericSummary, ReportStats, compute_stats

__all__ = [
    "DEFAULT_CLUSTER_COLUMN",
    "DEFAULT_MAX_POINTS",
    "DEFAULT_TOP_ANOMALIES",
    "EXPORT_COLUMNS",
    "HEATMAP_COLORSCALE",
    "MISSING_LEVEL",
    "OTHER_LEVEL",
    "OVERALL",
    "PROJECTION_X",
    "PROJECTION_Y",
    "REGULAR_ROWS",
    "AnomaliesPanel",
    "AnomalyRow",
    "BoxStats",
    "ClusterObservations",
    "ClusterReport",
    "ClusterSize",
    "ClusterSummary",
    "DetailedMetrics",
    "DiagnosticMessage",
    "DistributionRow",
    "ElbowPoint",
    "FeatureImportance",
    "FeatureInfo",
    "FeatureKind",
    "FeatureMoments",
    "FeatureProfile",
    "FeatureSummary",
    "Heatmap",
    "HeatmapCell",
    "HeatmapRow",
    "HierarchyNode",
    "HierarchyPanel",
    "MetricEntry",
    "NumericSummary",
    "Observation",
    "ObservationsReport",
    "ReportStats",
    "ScatterData",
    "TrainingInfo",
    "anomalies_figure",
    "anomaly_scores_figure",
    "anomaly_strength",
    "balanced_quotas",
    "balanced_sample",
    "build_anomalies",
    "build_detailed_metrics",
    "build_heatmap",
    "build_hierarchy",
    "build_observations",
    "build_profiles",
    "build_report",
    "build_scatter",
    "build_training_info",
    "cluster_colors",
    "compute_stats",
    "default_axes",
    "dendrogram_figure",
    "elbow_figure",
    "feature_summary",
    "features_of",
    "fit_projection",
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
    "scatter_frame",
    "session_hierarchy",
    "session_scatter",
    "suggest_name",
    "suggest_names",
    "variables_importance",
    "z_score",
    "z_score_color",
]
