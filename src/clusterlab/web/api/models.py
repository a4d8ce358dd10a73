"""Trained models of the Lab: clusters (names, descriptions) and the report panels."""

from __future__ import annotations

import io
import json
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from clusterlab.core.errors import NotFoundError
from clusterlab.web import deps
from clusterlab.web.reports import (
    cluster_rows,
    heatmap_view,
    importance_chart,
    profile_chart,
    resolve_cluster,
    scatter_chart,
)
from clusterlab.web.serialize import model_json

router = APIRouter(tags=["models"])
MODEL = "/projects/{key}/tasks/{task_id}/sessions/{number}/models/{model_id}"


class ClusterChange(BaseModel):
    """A new name and, optionally, a new description of a cluster."""

    name: str = Field(description="Non-empty and unique within the model.")
    description: str | None = None


def _figure(fig: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(fig.to_json())
    return data


def _csv(frame: Any, filename: str) -> Response:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(MODEL)
def get_model(
    request: Request, key: str, task_id: str, number: int, model_id: str
) -> dict[str, Any]:
    """A model: label, params, metrics, and its clusters when it trained."""
    model = deps.model(request, key, task_id, number, model_id)
    data = model_json(model)
    if model.error is None:
        data["clusters"] = [c.model_dump() for c in model.clusters]
    return data


@router.get(MODEL + "/summary")
def get_summary(
    request: Request, key: str, task_id: str, number: int, model_id: str
) -> dict[str, Any]:
    """The Summary panel: clusters with sizes, names, descriptions and observations."""
    model = deps.model(request, key, task_id, number, model_id)
    report = model.report.data
    return {
        "rows": report.n_rows,
        "clusters": cluster_rows(model),
        "overall": [o.text for o in report.observations.overall],
    }


@router.put(MODEL + "/clusters/{cluster}")
def rename_cluster(
    request: Request,
    key: str,
    task_id: str,
    number: int,
    model_id: str,
    cluster: str,
    body: ClusterChange,
) -> dict[str, Any]:
    """Rename a cluster (by id or current name) and set its description."""
    model = deps.model(request, key, task_id, number, model_id)
    cluster_id = resolve_cluster(model, cluster)
    current = {c.id: c.name for c in model.clusters}[cluster_id]
    model.rename_cluster(current, body.name, body.description)
    return next(c.model_dump() for c in model.clusters if c.id == cluster_id)


@router.get(MODEL + "/heatmap")
def get_heatmap(
    request: Request,
    key: str,
    task_id: str,
    number: int,
    model_id: str,
    show: str | None = Query(None, description="all, numeric, or a categorical feature."),
    sort_cluster: str | None = Query(None, description="Sort features by this cluster."),
    sort_feature: str | None = Query(None, description="Sort clusters by this row label."),
) -> dict[str, Any]:
    """The heatmap figure, filtered and sorted, with its row labels and filter choices."""
    model = deps.model(request, key, task_id, number, model_id)
    fig, heatmap = heatmap_view(
        model, sort_cluster=sort_cluster, sort_feature=sort_feature, show=show
    )
    return {
        "figure": _figure(fig),
        "rows": heatmap.labels,
        "clusters": heatmap.clusters,
        "categorical_features": model.report.data.heatmap.categorical_features,
    }


@router.get(MODEL + "/heatmap.csv", response_class=Response)
def export_heatmap(
    request: Request, key: str, task_id: str, number: int, model_id: str
) -> Response:
    """The heatmap as a table: cluster_label, feature, means, shares, relative_importance."""
    model = deps.model(request, key, task_id, number, model_id)
    return _csv(model.report.heatmap_table(), f"heatmap-{model_id}.csv")


@router.get(MODEL + "/profiles/{feature}")
def get_profile(
    request: Request, key: str, task_id: str, number: int, model_id: str, feature: str
) -> dict[str, Any]:
    """Cluster profiles of one feature as a Plotly figure."""
    model = deps.model(request, key, task_id, number, model_id)
    return _figure(profile_chart(model, feature))


@router.get(MODEL + "/importance")
def get_importance(
    request: Request, key: str, task_id: str, number: int, model_id: str
) -> dict[str, Any]:
    """Variables importance as a Plotly figure, and the values in %."""
    model = deps.model(request, key, task_id, number, model_id)
    fig = importance_chart(model)
    if fig is None:
        raise NotFoundError("This model's report has no variables importance.")
    values = [i.model_dump() for i in model.report.data.importances]
    return {"figure": _figure(fig), "importances": values}


@router.get(MODEL + "/importance.csv", response_class=Response)
def export_importance(
    request: Request, key: str, task_id: str, number: int, model_id: str
) -> Response:
    """Variables importance as CSV (feature, importance in %)."""
    from clusterlab.ml.report import importances_table

    model = deps.model(request, key, task_id, number, model_id)
    return _csv(importances_table(model.report.data.importances), f"importance-{model_id}.csv")


@router.get(MODEL + "/scatter")
def get_scatter(
    request: Request,
    key: str,
    task_id: str,
    number: int,
    model_id: str,
    x: str = Query(..., description="Numeric feature on the x axis."),
    y: str = Query(..., description="Numeric feature on the y axis."),
) -> dict[str, Any]:
    """Scatter plot of scored rows, colored by cluster."""
    model = deps.model(request, key, task_id, number, model_id)
    return _figure(scatter_chart(model, x, y))
