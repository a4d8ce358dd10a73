"""The Flow page: the DAG as SVG, a side panel of actions and the project's engine, Build
all with progress."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from clusterlab.services.engine_choice import recipe_engines
from clusterlab.web import deps
from clusterlab.web.api.flow import project_layout
from clusterlab.web.engines import engine_options
from clusterlab.web.flowsvg import render_flow_svg
from clusterlab.web.templating import render

router = APIRouter()


@router.get("/projects/{key}/flow")
def flow_page(request: Request, key: str) -> Response:
    """The Flow of a project, with its datasets, saved models and Lab tasks listed beside it."""
    project = deps.project(request, key)
    lay = project_layout(project)
    recipes = project.recipes_specs()
    return render(
        request,
        "flow.html",
        {
            "project": project,
            "section": "flow",
            "crumbs": [("Projects", "/"), (project.name, None)],
            "svg": render_flow_svg(lay),
            "datasets": [n for n in lay.nodes.values() if n.kind == "dataset"],
            "recipes": recipes,
            "tasks": project.clustering_tasks(),
            "saved_models": [n for n in lay.nodes.values() if n.kind == "saved_model"],
            "running": [j for j in project.jobs(limit=10) if not j.status.finished],
            "engines": engine_options(),
            "refused": [r for r in recipe_engines(project) if r.problems],
        },
    )
