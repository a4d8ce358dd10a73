"""The model report page: Summary, Variables importance, Heatmap, Cluster profiles, …"""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from clusterlab.core.errors import InvalidInputError
from clusterlab.web import deps
from clusterlab.web.reports import cluster_rows, numeric_features
from clusterlab.web.templating import render

router = APIRouter()
PANELS = (
    ("summary", "Summary"),
    ("importance", "Variables importance"),
    ("heatmap", "Heatmap"),
    ("profiles", "Cluster profiles"),
    ("scatter", "Scatter plot"),
    ("hierarchy", "Hierarchy"),
    ("anomalies", "Anomalies"),
    ("metrics", "Detailed metrics"),
    ("training", "Training information"),
)


@router.get("/projects/{key}/lab/{task_id}/sessions/{number}/models/{model_id}")
def model_page(
    request: Request,
    key: str,
    task_id: str,
    number: int,
    model_id: str,
    panel: str = Query("summary"),
) -> Response:
    """One trained model's report, one panel at a time."""
    project = deps.project(request, key)
    task = deps.task(request, key, task_id)
    model = deps.model(request, key, task_id, number, model_id)
    if model.error is not None:
        raise InvalidInputError(
            f"{model.summary.label} failed to train, so it has no report: {model.error}"
        )
    panels = dict(PANELS)
    panel = panel if panel in panels else "summary"
    report = model.report.data
    base = f"/projects/{key}/lab/{task_id}/sessions/{number}/models/{model_id}"
    crumbs = [
        ("Projects", "/"),
        (project.name, f"/projects/{key}/flow"),
        ("Lab", f"/projects/{key}/lab"),
        (task.spec.name, f"/projects/{key}/lab/{task_id}?tab=result&session={number}"),
        (model.summary.label, None),
    ]
    numeric = numeric_features(model)
    return render(
        request,
        "model.html",
        {
            "project": project,
            "section": "lab",
            "crumbs": crumbs,
            "task": task,
            "model": model,
            "session": model.session,
            "panel": panel,
            "panels": PANELS,
            "report": report,
            "clusters": cluster_rows(model),
            "numeric": numeric,
            "features": [f.name for f in report.features],
            "page": base,
            "api": "/api" + base.replace("/lab/", "/tasks/"),
        },
    )
