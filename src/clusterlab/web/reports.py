"""The model report as the UI shows it: panels with the analyst's cluster names and colors.

The stored report names clusters by their model ids (``cluster_0``…); the analyst's
names live beside it. Figures are made with the report's own builders, then relabelled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import ValidationError

from clusterlab.core.errors import InvalidInputError, NotFoundError
from clusterlab.core.explore import RowQuery
from clusterlab.core.mltask import TaskDesign

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from clusterlab.services.lab import ClusteringTask, Model

SCATTER_ROWS = 5_000
SCATTER_POINTS = 1_000


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
    handling, never which columns exist.
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
    update = getattr(task, "update_design", None)
    if update is not None:
        result: ClusteringTask = update(design)
        return result
    # Until the Lab service offers update_design (see docs/ui.md), store it the way
    # its own setters do.
    return task._save(design)


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


def cluster_rows(model: Model) -> list[dict[str, Any]]:
    """Summary panel rows: id, name, color, description, size and suggested name."""
    report = model.report.data
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


def names_and_colors(model: Model) -> tuple[dict[str, str], dict[str, str]]:
    """Cluster id → analyst's name, and analyst's name → color."""
    clusters = model.clusters
    return {c.id: c.name for c in clusters}, {c.name: c.color for c in clusters}


def resolve_cluster(model: Model, cluster: str) -> str:
    """The cluster id for an id or a current name (a click gives the shown name)."""
    for meta in model.clusters:
        if cluster in (meta.id, meta.name):
            return meta.id
    names = ", ".join(c.name for c in model.clusters)
    raise NotFoundError(f"No cluster {cluster!r} in this model (clusters: {names}).")


def heatmap_view(
    model: Model,
    *,
    sort_cluster: str | None = None,
    sort_feature: str | None = None,
    show: str | None = None,
) -> tuple[go.Figure, Any]:
    """The heatmap figure after filter (``all``, ``numeric`` or a categorical) and sort."""
    from clusterlab.ml.report import heatmap_figure

    heatmap = model.report.data.heatmap
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


def profile_chart(model: Model, feature: str) -> go.Figure:
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


def importance_chart(model: Model) -> go.Figure | None:
    """Variables importance bars, or ``None`` when the report has none."""
    from clusterlab.ml.report import importance_figure

    importances = model.report.data.importances
    return importance_figure(importances) if importances else None


def numeric_features(model: Model) -> list[str]:
    """Numeric features of the report, for the scatter plot's axis pickers."""
    return [f.name for f in model.report.data.features if f.is_numeric]


def scatter_chart(model: Model, x: str, y: str) -> go.Figure:
    """Rows of the task's dataset scored by the model, at most ~1,000 balanced by cluster.

    The model scores the dataset's first rows (up to 5,000); each cluster then gives
    the same number of points, so that small clusters stay visible.
    """
    from clusterlab.ml.report import scatter_figure

    allowed = numeric_features(model)
    for axis in (x, y):
        if axis not in allowed:
            raise InvalidInputError(
                f"{axis!r} is not a numeric feature of this model: choose one of "
                f"{', '.join(allowed)}."
            )
    task = model.session.task
    table, _ = task.project.dataset(task.spec.dataset).page(RowQuery(limit=SCATTER_ROWS))
    frame = table.to_pandas()
    frame["cluster"] = model.predict(frame).astype("string")
    frame = frame.dropna(subset=["cluster"])
    groups = frame.groupby("cluster", observed=True)
    per_cluster = max(1, SCATTER_POINTS // max(groups.ngroups, 1))
    points = (
        pd.concat([g.sample(n=min(len(g), per_cluster), random_state=0) for _, g in groups])
        if len(frame)
        else frame
    )
    _, colors = names_and_colors(model)
    return scatter_figure(points[[x, y, "cluster"]], x, y, colors)
