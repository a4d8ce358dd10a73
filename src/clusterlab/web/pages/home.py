"""Home: the projects, a new project (blank or starter), import and export of zips."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from clusterlab.services.starter import STARTERS
from clusterlab.web import deps
from clusterlab.web.templating import render

router = APIRouter()


@router.get("/")
def home(request: Request) -> Response:
    """The projects of the workspace, and forms to create or import one."""
    ws = deps.workspace(request)
    projects = []
    for project in ws.projects():
        defs = ws.definitions
        projects.append(
            {
                "spec": project.spec,
                "datasets": len(defs.dataset_names(project.key)),
                "recipes": len(defs.recipe_names(project.key)),
            }
        )
    return render(
        request,
        "home.html",
        {"projects": projects, "starters": STARTERS, "home": str(ws.home)},
    )


@router.get("/projects/{key}")
def project_root(request: Request, key: str) -> Response:
    """A project opens on its Flow."""
    deps.project(request, key)
    return RedirectResponse(f"/projects/{key}/flow", status_code=303)
