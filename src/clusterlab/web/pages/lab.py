"""Lab pages: the tasks of a project, and one task's Design, Train and Result tabs; the
Design greys out what the task's engine cannot train, with the engine's reasons."""

from __future__ import annotations

import json
import typing
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from clusterlab.core.mltask import ALGORITHM_LABELS, AlgorithmType, CovarianceType
from clusterlab.engines.capabilities import EngineCapabilities, capabilities_for
from clusterlab.web import deps
from clusterlab.web.engines import engine_options
from clusterlab.web.templating import render

router = APIRouter()
DESIGN_PANELS = (
    ("general", "General and sampling"),
    ("debugging", "Debugging"),
    ("features", "Features handling"),
    ("algorithms", "Algorithms"),
    ("reduction", "Dimensionality reduction"),
    ("outliers", "Outliers detection"),
    ("runtime", "Runtime"),
)
METRICS = ("silhouette", "inertia", "davies_bouldin", "calinski_harabasz", "bic", "aic")
# Lower is better for these; the results table sorts them ascending.
LOWER_IS_BETTER = frozenset({"inertia", "davies_bouldin", "bic", "aic"})


def param_kind(value: Any) -> str:
    """How the Design tab edits a parameter: ``bool``, ``int``, ``float``, a list, or text.

    Examples
    --------
    >>> [param_kind(v) for v in (True, 3, 0.5, [3, 5], [0.1], ["full"], "auto")]
    ['bool', 'int', 'float', 'intlist', 'floatlist', 'strlist', 'scalar']
    """
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, list | tuple):
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return "intlist"
        if all(isinstance(v, int | float) for v in value):
            return "floatlist"
        return "strlist"
    return "scalar"


def algorithm_rows(design: dict[str, Any]) -> list[dict[str, Any]]:
    """Each algorithm of the design with its label and editable parameters."""
    rows = []
    for index, algo in enumerate(design["algorithms"]):
        params = [
            {"name": name, "value": value, "kind": param_kind(value)}
            for name, value in algo.items()
            if name not in ("type", "enabled")
        ]
        label = ALGORITHM_LABELS.get(AlgorithmType(algo["type"]), algo["type"])
        rows.append(
            {
                "index": index,
                "type": algo["type"],
                "label": label,
                "params": params,
                "enabled": algo["enabled"],
            }
        )
    return rows


def engine_notes(rows: list[dict[str, Any]], capabilities: EngineCapabilities) -> None:
    """Mark each algorithm row with what the engine says of it (``cap``) and, for the
    Gaussian mixture, the covariance types it lacks (``off_options``)."""
    for row in rows:
        row["cap"] = capabilities.algorithm(row["type"])
        row["off_options"] = []
        if row["type"] == "gmm":
            kinds = [
                kind
                for kind in typing.get_args(CovarianceType)
                if not capabilities.option(f"gmm_covariance:{kind}").supported
            ]
            if kinds:
                note = capabilities.option(f"gmm_covariance:{kinds[0]}").note
                row["off_options"] = [f"{', '.join(kinds)} covariances: {note}"]


def _sorted_models(models: list[Any], metric: str) -> list[Any]:
    def key(model: Any) -> tuple[int, float]:
        value = model.metrics.get(metric)
        if not isinstance(value, int | float):
            return (1, 0.0)
        return (0, value if metric in LOWER_IS_BETTER else -value)

    return sorted(models, key=key)


@router.get("/projects/{key}/lab")
def lab_home(request: Request, key: str) -> Response:
    """The project's Lab tasks, and the datasets a new task can be made from."""
    project = deps.project(request, key)
    crumbs = [("Projects", "/"), (project.name, f"/projects/{key}/flow"), ("Lab", None)]
    return render(
        request,
        "lab_home.html",
        {
            "project": project,
            "section": "lab",
            "crumbs": crumbs,
            "tasks": project.clustering_tasks(),
            "datasets": [d.name for d in project.datasets() if d.has_data()],
        },
    )


@router.get("/projects/{key}/lab/{task_id}")
def task_page(
    request: Request,
    key: str,
    task_id: str,
    tab: str = Query("design"),
    panel: str = Query("general"),
    session: int | None = Query(None),
    sort: str | None = Query(None),
) -> Response:
    """A Lab task: Design (every panel, its engine), Train with progress, Result."""
    project = deps.project(request, key)
    task = deps.task(request, key, task_id)
    sessions = task.sessions()
    tab = tab if tab in ("design", "result") else "design"
    panels = dict(DESIGN_PANELS)
    panel = panel if panel in panels else "general"
    chosen = None
    if sessions:
        numbers = {s.summary.number: s for s in sessions}
        chosen = numbers.get(session or 0, sessions[-1])
    metric = sort if sort in METRICS else task.design.metrics.metric
    design = task.design.model_dump(mode="json")
    engine = task.engine
    capabilities = capabilities_for(engine)
    algorithms = algorithm_rows(design)
    engine_notes(algorithms, capabilities)
    crumbs = [
        ("Projects", "/"),
        (project.name, f"/projects/{key}/flow"),
        ("Lab", f"/projects/{key}/lab"),
        (task.spec.name, None),
    ]
    return render(
        request,
        "lab_task.html",
        {
            "project": project,
            "section": "lab",
            "crumbs": crumbs,
            "task": task,
            "tab": tab,
            "panel": panel,
            "panels": DESIGN_PANELS,
            "design": design,
            "design_json": json.dumps(design),
            "algorithms": algorithms,
            "engine": engine,
            "own_engine": task.spec.engine,
            "engines": engine_options(),
            "text_features": capabilities.option("text_features"),
            "outliers_cap": capabilities.option("outliers"),
            "design_problems": capabilities.design_problems(task.design),
            "sessions": sessions,
            "session": chosen,
            "models": _sorted_models(chosen.models, metric) if chosen else [],
            "metric": metric,
            "metrics": METRICS,
            "lower_is_better": LOWER_IS_BETTER,
            "api": f"/api/projects/{key}/tasks/{task_id}",
        },
    )
