"""What the engine pickers of the pages and the API show: tables, choices, Lab engines."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clusterlab.core.errors import InvalidInputError, UnsupportedError
from clusterlab.engines.capabilities import ENGINE_NAMES, capabilities_for
from clusterlab.services.engine_choice import (
    added_design_problems,
    capability_tables,
    recipe_engines,
)
from clusterlab.services.project import Project

if TYPE_CHECKING:
    from clusterlab.core.mltask import TaskDesign
    from clusterlab.services.lab import ClusteringTask

ENGINE_LABELS = {"local": "Local (DuckDB, scikit-learn)", "spark": "Spark"}


def project_engines_json(project: Project) -> dict[str, Any]:
    """The project's engine, every engine's capability table, and each recipe's engine."""
    return {
        "engine": project.engine,
        "engines": capability_tables(),
        "recipes": [
            {
                "name": r.recipe.name,
                "type": r.recipe.type,
                "engine": r.recipe.engine,
                "runs_on": r.choice.engine,
                "source": r.choice.source,
                "problems": r.problems,
            }
            for r in recipe_engines(project)
        ],
    }


def engine_options(recipe_type: str | None = None) -> list[dict[str, Any]]:
    """The engines a picker lists; those that cannot run ``recipe_type`` carry why."""
    options = []
    for name in ENGINE_NAMES:
        cap = capabilities_for(name).recipe(recipe_type) if recipe_type else None
        options.append(
            {
                "name": name,
                "label": ENGINE_LABELS.get(name, name),
                "off": "" if cap is None or cap.supported else cap.note,
            }
        )
    return options


# -- Lab tasks -----------------------------------------------------------------------


def set_task_engine(task: ClusteringTask, engine: str | None) -> ClusteringTask:
    """Train ``task`` on ``engine`` (None: its project's); 422 with the items its design
    uses that the engine cannot train."""
    try:
        return task.set_engine(engine)
    except UnsupportedError as exc:
        # A choice the request makes that cannot be honoured: invalid input, as for
        # a design that adds such an item.
        raise InvalidInputError(str(exc)) from None


def check_design_engine(task: ClusteringTask, design: TaskDesign) -> None:
    """Refuse (422) a design that asks its task's engine for something it cannot train."""
    engine = task.engine
    if found := added_design_problems(engine, task.design, design):
        raise InvalidInputError(
            f"The {engine} engine cannot train this design: {'; '.join(found)}. "
            "Change it back, or train this task on the local engine (Engine, above "
            "the design)."
        )
