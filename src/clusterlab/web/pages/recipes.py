"""Recipe editors: Prepare (steps with a live preview), Group, Join, Split and the others,
each with the engine the recipe runs on and what that engine cannot run greyed out."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response

from clusterlab.services.engine_choice import (
    capability_tables,
    declared_inputs,
    engine_problems,
    resolve_engine,
)
from clusterlab.web import deps
from clusterlab.web.engines import engine_options
from clusterlab.web.recipes import PARAM_SKELETONS, processors
from clusterlab.web.templating import render

router = APIRouter()


@router.get("/projects/{key}/new-recipe")
def new_recipe_page(request: Request, key: str) -> Response:
    """Create a recipe: type, name, inputs and outputs, then its editor opens."""
    project = deps.project(request, key)
    crumbs = [("Projects", "/"), (project.name, f"/projects/{key}/flow"), ("New recipe", None)]
    return render(
        request,
        "recipe_new.html",
        {
            "project": project,
            "section": "flow",
            "crumbs": crumbs,
            "datasets": [d.name for d in project.datasets()],
            "skeletons": json.dumps(PARAM_SKELETONS),
            "types": list(PARAM_SKELETONS),
        },
    )


@router.get("/projects/{key}/recipes/{name}")
def recipe_page(request: Request, key: str, name: str) -> Response:
    """A recipe's editor: its steps or settings, a preview of its output, Save and Run."""
    project = deps.project(request, key)
    spec = project.recipe(name)
    crumbs = [("Projects", "/"), (project.name, f"/projects/{key}/flow"), (name, None)]
    # Greyed out by the engine the recipe runs on when no build names one.
    engine = resolve_engine(project.engine, spec).engine
    tables = capability_tables()
    return render(
        request,
        "recipe.html",
        {
            "project": project,
            "section": "flow",
            "crumbs": crumbs,
            "recipe": spec,
            "recipe_json": json.dumps(spec.model_dump(mode="json")),
            "params_text": json.dumps(
                spec.params.model_dump(mode="json", exclude={"type"}), indent=2
            ),
            "processors": processors() if spec.type == "prepare" else [],
            "processors_json": json.dumps(processors() if spec.type == "prepare" else []),
            "engines": engine_options(spec.type),
            "engine": engine,
            "capabilities": tables[engine],
            "problems": engine_problems(project, spec, engine),
            "engines_json": json.dumps(
                {
                    "project_engine": project.engine,
                    "tables": tables,
                    "external_inputs": {
                        name: data.format.value
                        for name, data in declared_inputs(project, spec).items()
                    },
                }
            ),
        },
    )
