"""The model report page: Summary, Variables importance, Heatmap, Cluster profiles, …

The same page shows a Lab model's report (clusters editable, Deploy) and a saved
model version's (read only): `report_context` gathers what both need.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from clusterlab.core.errors import InvalidInputError
from clusterlab.services.model_report import DEFERRED_PANELS
from clusterlab.web import deps
from clusterlab.web.reports import anomalies_view, cluster_rows, scatter_axes, z_color
from clusterlab.web.templating import render

router = APIRouter()
PANELS = (
    ("summary", "Summary"),
    ("importance", "Variables importance"),
    ("heatmap", "Heatmap"),
    ("rules", "Rules"),
    ("profiles", "Cluster profiles"),
    ("scatter", "Scatter plot"),
    ("hierarchy", "Hierarchy"),
    ("anomalies", "Anomalies"),
    ("metrics", "Detailed metrics"),
    ("training", "Training information"),
)
PLOT_PANELS = frozenset({"importance", "heatmap", "profiles", "scatter", "hierarchy"})
_REPORT_FIELDS = {"importance": "importances"}
"""The report field of a panel whose name differs from it."""


def report_context(owner: Any, panel: str, *, label: str, api: str) -> dict[str, Any]:
    """What the report template needs for ``panel`` of a Lab model or saved model version.

    ``owner`` has ``report`` and ``clusters``; ``api`` is the URL prefix of its panel
    endpoints (``/api/…/models/ID`` or ``/api/…/versions/vN``).
    """
    panel = panel if panel in dict(PANELS) else "summary"
    # A session defers some panels: only opening one of them builds them.
    deferred = _REPORT_FIELDS.get(panel, panel) in DEFERRED_PANELS
    report = owner.report.data if deferred else owner.report.summary
    clusters = cluster_rows(owner)
    names = {c["id"]: c["name"] for c in clusters}
    context: dict[str, Any] = {
        "label": label,
        "panel": panel,
        "panels": PANELS,
        "plots": panel in PLOT_PANELS,
        "report": report,
        "clusters": clusters,
        "cluster_names": names,
        "api": api,
        "axes": scatter_axes(owner) if panel == "scatter" else [],
        "has_outliers": bool(report.scatter and any(report.scatter.is_outlier)),
    }
    if panel == "anomalies" and report.anomalies is not None:
        context["anomalies"] = anomalies_view(owner)
        context["z_color"] = z_color
    return context


@router.get("/projects/{key}/lab/{task_id}/sessions/{number}/models/{model_id}")
def model_page(
    request: Request,
    key: str,
    task_id: str,
    number: int,
    model_id: str,
    panel: str = Query("summary"),
) -> Response:
    """One trained model's report, one panel at a time, with Deploy."""
    project = deps.project(request, key)
    task = deps.task(request, key, task_id)
    model = deps.model(request, key, task_id, number, model_id)
    if model.error is not None:
        raise InvalidInputError(
            f"{model.summary.label} failed to train, so it has no report: {model.error}"
        )
    base = f"/projects/{key}/lab/{task_id}/sessions/{number}/models/{model_id}"
    crumbs = [
        ("Projects", "/"),
        (project.name, f"/projects/{key}/flow"),
        ("Lab", f"/projects/{key}/lab"),
        (task.spec.name, f"/projects/{key}/lab/{task_id}?tab=result&session={number}"),
        (model.summary.label, None),
    ]
    context = report_context(
        model, panel, label=model.summary.label, api="/api" + base.replace("/lab/", "/tasks/")
    )
    saved = project.saved_models()
    context.update(
        {
            "project": project,
            "section": "lab",
            "crumbs": crumbs,
            "editable": True,
            "subtitle": f"session {number} · {context['report'].n_rows:,} rows of "
            f"{task.spec.dataset}",
            "dataset": task.spec.dataset,
            "metrics": model.metrics,
            "params": model.params,
            "deploy": {
                "saved_models": [{"id": m.id, "name": m.name} for m in saved],
                "default_id": _default_saved_model_id(task.spec.dataset, saved),
            },
        }
    )
    return render(request, "model.html", context)


def _default_saved_model_id(dataset: str, saved: list[Any]) -> str:
    """A free saved model id to suggest: ``<dataset>_model``, numbered when taken."""
    taken = {m.id for m in saved}
    base = f"{dataset}_model"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    return candidate
