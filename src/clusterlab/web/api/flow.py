"""The Flow: its graph (JSON and SVG), recipes, and builds started as jobs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from clusterlab.core.dataset import EngineName
from clusterlab.core.errors import InvalidInputError
from clusterlab.services.project import Project
from clusterlab.web import deps
from clusterlab.web.flowsvg import FlowLayout, layout_flow, render_flow_svg
from clusterlab.web.recipes import preview_recipe, processors
from clusterlab.web.serialize import job_json

router = APIRouter(tags=["flow"])


class PreviewRequest(BaseModel):
    """A recipe definition to preview, optionally only up to a prepare step (exclusive)."""

    recipe: dict[str, Any]
    upto_step: int | None = Field(default=None, ge=0)


class BuildRequest(BaseModel):
    """Datasets to build (every dataset when empty), forced or smart."""

    datasets: list[str] | None = Field(default=None, description="None or [] builds all.")
    force: bool = False
    upstream: bool = True
    engine: EngineName | None = Field(
        default=None,
        description="Run every recipe on this engine; null: each on its own, else the project's.",
    )


def project_layout(project: Project) -> FlowLayout:
    """The placed Flow of a project, nodes linking to the project's pages."""
    datasets = [(d.name, d.has_data()) for d in project.datasets()]
    models = {m.id: m.name for m in project.saved_models()}
    return layout_flow(project.flow(), datasets, f"/projects/{project.key}", models)


@router.get("/projects/{key}/flow")
def get_flow(request: Request, key: str) -> dict[str, Any]:
    """Nodes (datasets, recipes, saved models) with their place, and the edges.

    A saved model's ``name`` is its id; ``label`` is its display name.
    """
    lay = project_layout(deps.project(request, key))
    nodes = [
        {
            "id": n.id,
            "kind": n.kind,
            "name": n.name,
            "label": n.label,
            "type": n.subtype or None,
            "built": n.built,
            "column": n.column,
            "row": n.row,
            "href": n.href,
        }
        for n in lay.nodes.values()
    ]
    return {"nodes": nodes, "edges": [{"from": a, "to": b} for a, b in lay.edges]}


@router.get("/projects/{key}/flow.svg", response_class=Response)
def get_flow_svg(request: Request, key: str) -> Response:
    """The Flow drawn as SVG, left to right."""
    svg = render_flow_svg(project_layout(deps.project(request, key)))
    return Response(svg, media_type="image/svg+xml")


@router.post("/projects/{key}/build", status_code=202)
def build(request: Request, key: str, body: BuildRequest) -> dict[str, Any]:
    """Start a build job and return it at once; poll ``/api/jobs/{id}`` for progress."""
    project = deps.project(request, key)
    if not project.recipes_specs():
        raise InvalidInputError(
            f"Project {key} has no recipe, so there is nothing to build: add a recipe first."
        )
    job = project.start_build(
        body.datasets or None, force=body.force, upstream=body.upstream, engine=body.engine
    )
    return job_json(job)


@router.get("/projects/{key}/recipes")
def list_recipes(request: Request, key: str) -> list[dict[str, Any]]:
    """Every recipe definition of the project."""
    return [r.model_dump(mode="json") for r in deps.project(request, key).recipes_specs()]


@router.get("/processors")
def list_processors() -> list[dict[str, Any]]:
    """Prepare processors: type, description and a step template to start from."""
    return processors()


@router.post("/projects/{key}/recipes/preview")
def preview(request: Request, key: str, body: PreviewRequest) -> dict[str, Any]:
    """Run a recipe (saved or not) on the first rows of its inputs; nothing is written."""
    return preview_recipe(deps.project(request, key), body.recipe, body.upto_step)


@router.get("/projects/{key}/recipes/{name}")
def get_recipe(request: Request, key: str, name: str) -> dict[str, Any]:
    """One recipe: type, inputs, outputs and params."""
    spec = deps.project(request, key).recipe(name)
    return spec.model_dump(mode="json")


@router.put("/projects/{key}/recipes/{name}")
def save_recipe(request: Request, key: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create or replace a recipe; it is checked against its inputs' schemas first."""
    if body.get("name", name) != name:
        raise InvalidInputError(
            f"The recipe in the body is named {body.get('name')!r}, not {name!r}: "
            "renaming is not supported, create a new recipe instead."
        )
    spec = deps.project(request, key).create_recipe({**body, "name": name}, overwrite=True)
    return spec.model_dump(mode="json")


@router.delete("/projects/{key}/recipes/{name}", status_code=204)
def delete_recipe(request: Request, key: str, name: str) -> None:
    """Delete a recipe (its output datasets stay)."""
    deps.project(request, key).delete_recipe(name)
