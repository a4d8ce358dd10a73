"""Which engine runs each recipe: the build's, else the recipe's own, else the project's.

A build started with an engine runs every recipe on it; otherwise each recipe runs on
the engine it names, or on its project's. Whatever the resolved engine cannot run
(its capability table says why: an Excel input on Spark, a processor not verified
there) stops the build before any recipe runs, and a recipe cannot be given an engine
that cannot run it.

Examples
--------
>>> from clusterlab.core.recipes import parse_recipe
>>> copy = parse_recipe({"name": "copy", "type": "sync", "inputs": ["a"], "outputs": ["b"]})
>>> resolve_engine("spark", copy).engine
'spark'
>>> resolve_engine("spark", copy.model_copy(update={"engine": "local"})).source
'recipe'
>>> resolve_engine("local", copy.model_copy(update={"engine": "local"}), "spark").source
'build'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from clusterlab.core.dataset import DatasetKind, FileFormat
from clusterlab.core.errors import InvalidInputError, UnsupportedError
from clusterlab.core.mltask import TaskDesign
from clusterlab.core.recipes import RecipeSpec
from clusterlab.engines.base import InputData
from clusterlab.engines.capabilities import ENGINE_NAMES, capabilities_for, engine_name

if TYPE_CHECKING:
    from clusterlab.services.project import Project

Source = Literal["build", "recipe", "project"]
_SOURCE_TEXT = {"build": "the build's", "recipe": "the recipe's", "project": "the project's"}


@dataclass(frozen=True)
class EngineChoice:
    """The engine a recipe runs on, and whose choice it is: the build's, the recipe's
    own or its project's."""

    engine: str
    source: Source

    def describe(self) -> str:
        """For the build log: ``the spark engine (the project's)``."""
        return f"the {self.engine} engine ({_SOURCE_TEXT[self.source]})"


def resolve_engine(
    project_engine: str, recipe: RecipeSpec, build_engine: str | None = None
) -> EngineChoice:
    """The engine ``recipe`` runs on: ``build_engine``, else its own, else the project's."""
    if build_engine:
        return EngineChoice(engine_name(build_engine), "build")
    if recipe.engine:
        return EngineChoice(recipe.engine, "recipe")
    return EngineChoice(project_engine, "project")


def declared_inputs(project: Project, recipe: RecipeSpec) -> dict[str, InputData]:
    """The external inputs of ``recipe``: what capability checks need before a build.

    Managed inputs are Parquet on every engine, and may not be built yet; external
    ones are read in place, so their format decides whether an engine can read them.
    """
    found = {}
    for name in recipe.inputs:
        if not project.has_dataset(name):
            continue  # a saved model (apply recipes) or a dataset the build reports
        spec = project.dataset(name).spec
        if spec.kind is DatasetKind.EXTERNAL:
            fmt = spec.format or FileFormat.CSV
            found[name] = InputData(name, spec.kind, Path(spec.path or ""), fmt, spec.csv)
    return found


def engine_problems(project: Project, recipe: RecipeSpec, engine: str) -> list[str]:
    """Why ``recipe`` of ``project`` cannot run on ``engine``; empty if it can."""
    return capabilities_for(engine).problems(recipe, declared_inputs(project, recipe))


def check_recipe_engine(project: Project, recipe: RecipeSpec) -> None:
    """Refuse a recipe that names an engine which cannot run it, saying why."""
    if recipe.engine is None:
        return
    if found := engine_problems(project, recipe, recipe.engine):
        raise InvalidInputError(
            f"Recipe {recipe.name} cannot run on the {recipe.engine} engine: "
            f"{'; '.join(found)}. Choose another engine for it (or the project's), "
            "or change the recipe."
        )


@dataclass(frozen=True)
class RecipeEngine:
    """Where one recipe of a project runs in a build without an engine, and why not."""

    recipe: RecipeSpec
    choice: EngineChoice
    problems: list[str]


def recipe_engines(project: Project) -> list[RecipeEngine]:
    """Each recipe's engine in a build that names none, with what stops it there."""
    found = []
    for recipe in project.recipes_specs():
        choice = resolve_engine(project.engine, recipe)
        found.append(RecipeEngine(recipe, choice, engine_problems(project, recipe, choice.engine)))
    return found


def plan_engines(
    project: Project, recipes: list[RecipeSpec], build_engine: str | None = None
) -> dict[str, EngineChoice]:
    """Each recipe's engine for a build; `UnsupportedError` naming every recipe that
    cannot run on its engine, raised before anything runs."""
    plan = {r.name: resolve_engine(project.engine, r, build_engine) for r in recipes}
    refused = []
    for recipe in recipes:
        choice = plan[recipe.name]
        if found := engine_problems(project, recipe, choice.engine):
            refused.append(f"recipe {recipe.name} on {choice.describe()}: {'; '.join(found)}")
    if refused:
        raise UnsupportedError(
            "Nothing was built: "
            + " | ".join(refused)
            + ". Choose another engine for these recipes (recipe or project settings, or "
            "the build's engine), or change them."
        )
    return plan


def set_recipe_engine(project: Project, name: str, engine: str | None) -> RecipeSpec:
    """Store ``engine`` (None: the project's) on recipe ``name``, checked first."""
    recipe = project.recipe(name)
    changed = recipe.model_copy(update={"engine": engine_name(engine) if engine else None})
    check_recipe_engine(project, changed)
    project.workspace.definitions.write_recipe(project.key, changed)
    return changed


def capability_tables() -> dict[str, dict[str, Any]]:
    """Every engine's declared capability table as JSON-ready data, by engine name."""
    return {name: capabilities_for(name).as_dict() for name in ENGINE_NAMES}


def added_design_problems(engine: str, before: TaskDesign, after: TaskDesign) -> list[str]:
    """What ``after`` asks of ``engine`` that it cannot train and ``before`` did not ask.

    Only new problems count, so a design that already had some (its engine changed
    since) can still be saved while they are removed one at a time.
    """
    capabilities = capabilities_for(engine)
    known = set(capabilities.design_problems(before))
    return [p for p in capabilities.design_problems(after) if p not in known]
