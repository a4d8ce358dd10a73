"""Projects: list, create (blank or from a starter), delete, export and import as zip."""

from __future__ import annotations

import shutil
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from clusterlab.services.starter import STARTERS
from clusterlab.web import deps
from clusterlab.web.serialize import project_json
from clusterlab.web.uploads import saved_upload

router = APIRouter(tags=["projects"])


class NewProject(BaseModel):
    """A project to create: blank, or from a starter such as ``weblogs``."""

    key: str = Field(description="Upper-case KEY, e.g. CLUSTERING.")
    name: str | None = None
    description: str = ""
    starter: str | None = Field(default=None, description="Starter to copy, e.g. 'weblogs'.")
    rows: int | None = Field(default=None, description="Page views a starter generates.")


@router.get("/projects")
def list_projects(request: Request) -> list[dict[str, Any]]:
    """Every project of the workspace, by KEY."""
    return [project_json(p) for p in deps.workspace(request).projects()]


@router.get("/starters")
def list_starters() -> list[dict[str, str]]:
    """Starter projects a new project can be made from."""
    return [{"id": key, "name": name} for key, name in STARTERS.items()]


@router.post("/projects", status_code=201)
def create_project(request: Request, body: NewProject) -> dict[str, Any]:
    """Create a project; 409 if the KEY is taken, 400 if it breaks the naming rules."""
    project = deps.workspace(request).create_project(
        body.key, body.name or None, body.description, starter=body.starter, rows=body.rows
    )
    return project_json(project)


@router.get("/projects/{key}")
def get_project(request: Request, key: str) -> dict[str, Any]:
    """One project with its dataset names and recipe names."""
    project = deps.project(request, key)
    return {
        **project_json(project),
        "datasets": [d.name for d in project.datasets()],
        "recipes": [r.name for r in project.recipes_specs()],
    }


@router.delete("/projects/{key}", status_code=204)
def delete_project(request: Request, key: str) -> None:
    """Delete a project and everything in it."""
    deps.workspace(request).delete_project(key)


@router.get("/projects/{key}/export", response_class=FileResponse)
def export_project(request: Request, key: str) -> FileResponse:
    """Download the project (definitions and current data) as a zip archive."""
    ws = deps.workspace(request)
    folder = ws.scratch_dir()
    try:
        path = ws.export_project(key, folder / f"{key}.zip")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        media_type="application/zip",
        filename=f"{key}.zip",
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


@router.post("/projects/import", status_code=201)
def import_project(
    request: Request,
    file: Annotated[UploadFile, File(description="A project zip made by export.")],
    key: Annotated[str | None, Form(description="Import under this KEY instead.")] = None,
) -> dict[str, Any]:
    """Import a project zip; the archive is checked before anything is written."""
    ws = deps.workspace(request)
    with saved_upload(ws, file, ws.settings.max_archive_bytes) as path:
        project = ws.import_project(path, key or None)
    return project_json(project)
