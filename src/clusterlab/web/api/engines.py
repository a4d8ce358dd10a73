"""Engines: each one's capability table, and the engine of a project, recipe or Lab task."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from clusterlab.core.dataset import EngineName
from clusterlab.web import deps
from clusterlab.web.engines import project_engines_json, set_task_engine
from clusterlab.web.serialize import task_json

router = APIRouter(tags=["engines"])


class ProjectEngine(BaseModel):
    """The engine a project's recipes and Lab tasks run on unless they name one."""

    engine: EngineName


class OwnEngine(BaseModel):
    """The engine a recipe or Lab task runs on; null: its project's."""

    engine: EngineName | None = Field(default=None, description="null: the project's engine.")


@router.get("/projects/{key}/engines")
def get_engines(request: Request, key: str) -> dict[str, Any]:
    """The project's engine, each engine's capability table (recipes, processors,
    aggregations, input formats, algorithms, ML options: ``{supported, note}``), and
    where each recipe runs in a build that names no engine, with what stops it there."""
    return project_engines_json(deps.project(request, key))


@router.put("/projects/{key}/engine")
def put_project_engine(request: Request, key: str, body: ProjectEngine) -> dict[str, Any]:
    """Choose the project's engine; answers like ``GET .../engines``."""
    project = deps.project(request, key).set_engine(body.engine)
    return project_engines_json(project)


@router.put("/projects/{key}/recipes/{name}/engine")
def put_recipe_engine(request: Request, key: str, name: str, body: OwnEngine) -> dict[str, Any]:
    """Choose a recipe's engine (null: the project's); 422 with the reasons if that
    engine cannot run the recipe."""
    spec = deps.project(request, key).set_recipe_engine(name, body.engine)
    return spec.model_dump(mode="json")


@router.put("/projects/{key}/tasks/{task_id}/engine")
def put_task_engine(request: Request, key: str, task_id: str, body: OwnEngine) -> dict[str, Any]:
    """Choose the engine a Lab task trains on (null: the project's); 422 naming what its
    design uses that the engine cannot train."""
    return task_json(set_task_engine(deps.task(request, key, task_id), body.engine))
