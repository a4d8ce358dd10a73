"""Build datasets of the Flow: run recipes in dependency order, publish outputs atomically.

A smart build skips a recipe whose outputs were built from the same recipe spec and
the same input versions (the *signature* stored beside each output version). Each
recipe runs on the build's engine, else its own, else its project's
(`clusterlab.services.engine_choice`); the log names the engine of every recipe run.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import ibis

from clusterlab.core.dataset import DatasetKind, DatasetSpec, FileFormat
from clusterlab.core.errors import StorageError
from clusterlab.core.recipes import ML_RECIPES, RecipeSpec
from clusterlab.engines.base import Engine, InputData
from clusterlab.engines.local.engine import LocalEngine
from clusterlab.flow.common import ibis_type
from clusterlab.flow.compile import compile_recipe
from clusterlab.flow.dag import FlowGraph
from clusterlab.services.engine_choice import check_recipe_engine, plan_engines

if TYPE_CHECKING:
    from clusterlab.services.project import Project

SIGNATURE_FILE = "build.json"
Progress = Callable[[float, str], None]
Log = Callable[[str], None]


@dataclass
class BuildReport:
    """What a build did: recipes run and skipped, rows written per dataset."""

    ran: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)


def engine_for(name: str) -> Engine:
    """The engine called ``name``: ``local`` (DuckDB) or ``spark`` (CLUSTERLAB_SPARK_*)."""
    if name == "local":
        return LocalEngine()
    if name == "spark":
        # Imported here: pyspark loads only when a build asks for Spark.
        from clusterlab.engines.spark import SparkEngine, SparkSettings

        return SparkEngine(SparkSettings.from_env())
    raise StorageError(f"Unknown engine {name!r}: choose 'local' or 'spark'.")


def input_data(project: Project, name: str, recipe: str) -> InputData:
    """Where recipe ``recipe`` reads dataset ``name``; refuses a dataset with no data."""
    if not project.has_dataset(name):
        raise StorageError(
            f"Recipe {recipe!r} reads dataset {name!r}, which does not exist in project "
            f"{project.key}: import it or fix the recipe's inputs."
        )
    dataset = project.dataset(name)
    spec = dataset.spec
    if spec.kind is DatasetKind.EXTERNAL:
        return InputData(
            name, spec.kind, Path(spec.path or ""), spec.format or FileFormat.CSV, spec.csv
        )
    folder = dataset.versions.current()
    if folder is None:
        raise StorageError(
            f"Recipe {recipe!r} reads dataset {name!r}, which has no data yet: build it first "
            "(build with its upstream, or build all)."
        )
    return InputData(name, spec.kind, folder)


def check_recipe(project: Project, recipe: RecipeSpec) -> None:
    """Compile ``recipe`` against its inputs' schemas, so mistakes show before any build.

    Formula syntax errors and missing columns are reported with their step; inputs
    that have no data yet are not known, so such a recipe is checked at build time. A
    recipe naming an engine that cannot run it is refused with the engine's reasons.
    """
    check_recipe_engine(project, recipe)
    if recipe.type in ML_RECIPES:
        return
    tables = {}
    for name in recipe.inputs:
        if not project.has_dataset(name) or not project.dataset(name).has_data():
            return
        schema = project.dataset(name).schema
        tables[name] = ibis.table({c.name: ibis_type(c.type) for c in schema.columns}, name=name)
    compile_recipe(recipe, tables)


def signature(recipe: RecipeSpec, inputs: dict[str, InputData]) -> str:
    """Identity of a recipe run: its spec and the exact input versions it reads."""
    # Not the engine: both engines write the same outputs (the conformance suite checks
    # it), and a project's or build's engine is no part of the spec either.
    parts: dict[str, object] = {"recipe": recipe.model_dump(mode="json", exclude={"engine"})}
    for name, data in sorted(inputs.items()):
        if data.kind is DatasetKind.MANAGED:
            parts[name] = data.path.name
        else:
            stat = data.path.stat()
            parts[name] = f"{stat.st_mtime_ns}-{stat.st_size}"
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()


def _up_to_date(project: Project, recipe: RecipeSpec, sig: str) -> bool:
    for out in recipe.outputs:
        if not project.has_dataset(out):
            return False
        folder = project.dataset(out).versions.current()
        if folder is None or not (folder / SIGNATURE_FILE).is_file():
            return False
        if json.loads((folder / SIGNATURE_FILE).read_text()).get("signature") != sig:
            return False
    return True


def run_build(
    project: Project,
    targets: list[str] | None,
    *,
    force: bool = False,
    upstream: bool = True,
    engine: str | None = None,
    progress: Progress | None = None,
    log: Log | None = None,
) -> BuildReport:
    """Build ``targets`` (every dataset when ``None``) and, if asked, what they depend on.

    ``engine`` runs every recipe on one engine; None runs each on its own or its
    project's. A recipe its engine cannot run stops the build before anything runs.
    """
    say = log or (lambda _msg: None)
    graph = FlowGraph.of(project.recipes_specs())
    if targets is None:
        order = graph.order(graph.recipes)
    else:
        for name in targets:
            project.flow_item(name)
        order = graph.recipes_for(targets, upstream=upstream)
    plan = plan_engines(project, [graph.recipes[name] for name in order], engine)
    runners: dict[str, Engine] = {}
    report = BuildReport()
    say(f"Build of {project.key}: {len(order)} recipe(s) to consider: {', '.join(order) or 'none'}")
    for index, name in enumerate(order):
        recipe = graph.recipes[name]
        choice = plan[name]
        if progress:
            progress(index / max(len(order), 1), f"{name} ({index + 1}/{len(order)})")
        if recipe.type in ML_RECIPES:
            from clusterlab.services.ml_build import run_ml_recipe  # needs scikit-learn

            say(f"{name}: {recipe.type} recipe on {choice.describe()}")
            ran = run_ml_recipe(
                project, recipe, force=force, log=say, progress=progress, engine=choice.engine
            )
            (report.ran if ran else report.skipped).append(name)
            continue
        inputs = {i: input_data(project, i, name) for i in recipe.inputs}
        sig = signature(recipe, inputs)
        if not force and _up_to_date(project, recipe, sig):
            say(f"{name}: up to date, skipped (inputs and recipe unchanged)")
            report.skipped.append(name)
            continue
        say(
            f"{name}: running {recipe.type} recipe {recipe.inputs} -> {recipe.outputs} "
            f"on {choice.describe()}"
        )
        # One engine per name and build: a Spark session starts only if a recipe needs it.
        if choice.engine not in runners:
            runners[choice.engine] = engine_for(choice.engine)
        _run_one(project, runners[choice.engine], recipe, inputs, sig, say, report)
        report.ran.append(name)
    if progress:
        progress(1.0, "done")
    return report


def _run_one(
    project: Project,
    runner: Engine,
    recipe: RecipeSpec,
    inputs: dict[str, InputData],
    sig: str,
    say: Log,
    report: BuildReport,
) -> None:
    for out in recipe.outputs:
        if not project.has_dataset(out):
            project.workspace.definitions.write_dataset(project.key, DatasetSpec(name=out))
    with ExitStack() as stack:
        folders = {
            out: stack.enter_context(project.dataset(out).versions.new_version())
            for out in recipe.outputs
        }
        results = runner.run_recipe(recipe, inputs, folders, say)
        for out, folder in folders.items():
            (folder / SIGNATURE_FILE).write_text(
                json.dumps({"signature": sig, "recipe": recipe.name})
            )
            report.rows[out] = results[out].rows
