"""The model report as the UI shows it: panels with the analyst's cluster names and colors.

The stored report names clusters by their model ids (``cluster_0``…); the analyst's
names live beside it. Figures are made with the report's own builders, then relabelled.
A Lab model and a saved model version both have a report: every function here takes
either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from clusterlab.core.errors import InvalidInputError, NotFoundError
from clusterlab.core.mltask import TaskDesign
from clusterlab.web.engines import check_design_engine
from clusterlab.web.serialize import plain

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from clusterlab.services.lab import ClusteringTask, Model
    from clusterlab.services.saved_models import SavedModelVersion

    # Both have ``clusters`` and ``report``: a saved model version's report reads like
    # the Lab model's it was deployed from, only its clusters are not edited there.
    ReportOwner = Model | SavedModelVersion


def validation_message(exc: ValidationError) -> str:
    """Pydantic errors as one sentence: ``where: what`` for each problem."""
    parts = []
    for problem in exc.errors():
        where = ".".join(str(p) for p in problem.get("loc", ()))
        parts.append(f"{where or 'value'}: {problem.get('msg', 'invalid')}")
    return "; ".join(parts)


def save_design(task: ClusteringTask, data: dict[str, Any]) -> ClusteringTask:
    """Validate a whole design sent by the Design tab and store it on the task.

    The features must stay the dataset's columns: the design editor changes their
    handling, never which columns exist. Nothing the task's engine cannot train may be
    added (DBSCAN on Spark, say): 422 with the engine's reasons.
    """
    try:
        design = TaskDesign.model_validate(data)
    except ValidationError as exc:
        raise InvalidInputError(f"The design is not valid: {validation_message(exc)}.") from None
    before = {f.name for f in task.design.features}
    after = {f.name for f in design.features}
    if before != after:
        raise InvalidInputError(
            "The design's features must be the dataset's columns; "
            f"missing: {sorted(before - after)}, unknown: {sorted(after - before)}."
        )
    check_design_engine(task, design)
    return task.update_design(design)


def check_trainable(task: ClusteringTask) -> None:
    """Refuse to start a training that would fail at once, with what to change."""
    if not task.design.grid():
        raise InvalidInputError(
            "No algorithm is enabled: enable one in the Design tab (Algorithms)."
        )
    if not task.design.input_names:
        raise InvalidInputError(
            "Every column is rejected: set at least one feature's role to Input in the "
            "Design tab (Features handling)."
        )


def cluster_rows(model: ReportOwner) -> list[dict[str, Any]]:
    """Summary panel rows: id, name, color, description, size and suggested name."""
    report = model.report.summary
    meta = {c.id: c for c in model.clusters}
    rows = []
    for summary in report.clusters:
        item = meta.get(summary.name)
        observations = []
        for group in report.observations.clusters:
            if group.cluster == summary.name:
                observations = [o.text for o in group.observations]
        rows.append(
            {
                "id": summary.name,
                "name": item.name if item else summary.name,
                "color": item.color if item else summary.color,
                "description": item.description if item else "",
                "size": summary.size,
                "share": summary.share,
                "size_text": summary.size_text,
                "suggested_name": summary.suggested_name,
                "observations": observations,
            }
        )
    return rows


def names_and_colors(model: ReportOwner) -> tuple[dict[str, str], dict[str, str]]:
    """Cluster id → analyst's name, and analyst's name → color."""
    clusters = model.clusters
    return {c.id: c.name for c in clusters}, {c.name: c.color for c in clusters}


def resolve_cluster(model: ReportOwner, cluster: str) -> str:
    """The cluster id for an id or a current name (a click gives the shown name)."""
    for meta in model.clusters:
        if cluster in (meta.id, meta.name):
            return meta.id
    names = ", ".join(c.name for c in model.clusters)
    raise NotFoundError(f"No cluster {cluster!r} in this model (clusters: {names}).")


def heatmap_view(
    model: ReportOwner,
    *,
    sort_cluster: str | None = None,
    sort_feature: str | None = None,
    show: str | None = None,
) -> tuple[go.Figure, Any]:
    """The heatmap figure after filter (``all``, ``numeric`` or a categorical) and sort."""
    from clusterlab.ml.report import heatmap_figure

    heatmap = model.report.summary.heatmap
    if show is None or show == "":
        heatmap = heatmap.default_view()
    elif show == "numeric":
        heatmap = heatmap.filtered(numeric_only=True)
    elif show != "all":
        heatmap = heatmap.filtered(feature=show)
    if sort_cluster:
        heatmap = heatmap.sorted_by_cluster(resolve_cluster(model, sort_cluster))
    if sort_feature:
        heatmap = heatmap.sorted_by_feature(sort_feature)
    names, _ = names_and_colors(model)
    fig = heatmap_figure(heatmap)
    fig.update_traces(x=[names.get(c, c) for c in heatmap.clusters])
    return fig, heatmap


def profile_chart(model: ReportOwner, feature: str) -> go.Figure:
    """Cluster profiles of one feature: overall then each cluster, on one x scale."""
    from clusterlab.ml.report import profile_figure, profile_for

    profile = profile_for(model.report.data.profiles, feature)
    names, colors = names_and_colors(model)
    renamed = profile.model_copy(
        update={
            "clusters": [
                r.model_copy(update={"name": names.get(r.name, r.name)}) for r in profile.clusters
            ]
        }
    )
    return profile_figure(renamed, colors)


def importance_chart(model: ReportOwner) -> go.Figure | None:
    """Variables importance bars, or ``None`` when the report has none."""
    from clusterlab.ml.report import importance_figure

    importances = model.report.data.importances
    return importance_figure(importances) if importances else None


def scatter_axes(model: ReportOwner) -> list[str]:
    """Axes the scatter plot offers: PCA factors, numeric features, the 2-D projection."""
    scatter = model.report.data.scatter
    return scatter.axes if scatter is not None else []


def scatter_chart(model: ReportOwner, x: str, y: str, outliers: bool = True) -> go.Figure:
    """The stored balanced sample of the report on axes ``x`` and ``y``, cluster colors."""
    from clusterlab.ml.report import figures

    report = model.report
    allowed = scatter_axes(model)
    if not allowed:
        raise NotFoundError(
            "This model's report has no scatter sample (it was trained before reports kept "
            "one): train the task again to see the scatter plot."
        )
    for axis in (x, y):
        if axis not in allowed:
            raise InvalidInputError(
                f"{axis!r} is not an axis of this scatter plot: choose one of {', '.join(allowed)}."
            )
    panel = report.data.scatter
    assert panel is not None
    _, colors = names_and_colors(model)
    points = report.scatter_points(include_outliers=outliers)
    return figures.scatter_figure(points, x, y, colors, cluster_column=panel.cluster_column)


def anomalies_view(model: ReportOwner) -> dict[str, Any]:
    """The Anomalies panel as rows to show: cluster name, score, strength, values, z-scores."""
    panel = model.report.summary.anomalies
    if panel is None:
        raise NotFoundError(
            "This model's report has no anomalies: they are listed for Isolation Forest models."
        )
    names, _ = names_and_colors(model)
    table = model.report.anomalies()
    features = [f.name for f in panel.features]
    rows = []
    for position, source in enumerate([*panel.anomalies, *panel.regular]):
        record = table.iloc[position]
        rows.append(
            {
                "cluster": names.get(source.cluster, source.cluster),
                "anomaly": position < len(panel.anomalies),
                "score": plain(record[panel.score_column]),
                "strength": plain(source.strength),
                "values": [plain(record[f]) for f in features],
                "z_scores": [plain(source.z_scores.get(f)) for f in features],
            }
        )
    return {
        "features": features,
        "rows": rows,
        "n_rows": panel.n_rows,
        "n_anomalies": panel.n_anomalies,
        "top": panel.top,
    }


def z_color(z: float | None) -> str:
    """Cell background of a z-score in the anomalies table (white near 0, red or blue)."""
    from clusterlab.ml.report.figures import z_score_color

    return z_score_color(z)


def hierarchy_chart(model: ReportOwner) -> go.Figure:
    """Two-step: the dendrogram of the pre-clusters, links colored by cluster."""
    if model.report.summary.hierarchy is None:
        raise NotFoundError(
            "This model's report has no hierarchy: it is drawn for interactive two-step "
            "clustering models."
        )
    fig: go.Figure = model.report.hierarchy_figure()
    fig.update_layout(xaxis={"showticklabels": False}, yaxis_title="distance")
    return fig
