"""Which engine runs a recipe: the build's, else the recipe's own, else the project's;
what an engine cannot run stops a build before anything runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import clusterlab as cl
from clusterlab.core.errors import InvalidInputError
from clusterlab.core.recipes import parse_recipe
from clusterlab.engines.capabilities import LOCAL_CAPABILITIES, capabilities_for, step_types
from clusterlab.services.engine_choice import EngineChoice, recipe_engines, resolve_engine
from clusterlab.services.jobs import JobFailedError
from clusterlab.storage.runtime import Job

COPY = {"name": "copy_views", "type": "sync", "inputs": ["views"], "outputs": ["copy"]}


def log_of(project: cl.Project, job: Job) -> list[str]:
    return [line.message for line in project.workspace.runtime.logs(job.id)]


@pytest.fixture
def flow(project: cl.Project, tmp_path: Path) -> cl.Project:
    """A managed dataset copied by one recipe, and an Excel file read in place by another."""
    project.create_dataset("views", pd.DataFrame({"visitor": ["a", "b"], "n": [1, 2]}))
    project.create_recipe(COPY)
    pd.DataFrame({"visitor": ["a"], "plan": ["gold"]}).to_excel(tmp_path / "plans.xlsx")
    project.import_dataset("plans", tmp_path / "plans.xlsx", external=True)
    project.create_recipe(
        {"name": "copy_plans", "type": "sync", "inputs": ["plans"], "outputs": ["plans_copy"]}
    )
    return project


def test_the_build_beats_the_recipe_which_beats_the_project() -> None:
    recipe = parse_recipe(COPY)
    own = recipe.model_copy(update={"engine": "spark"})
    assert resolve_engine("local", recipe) == EngineChoice("local", "project")
    assert resolve_engine("spark", recipe) == EngineChoice("spark", "project")
    assert resolve_engine("local", own) == EngineChoice("spark", "recipe")
    assert resolve_engine("spark", own, "local") == EngineChoice("local", "build")
    assert resolve_engine("spark", own, "local").describe() == "the local engine (the build's)"
    with pytest.raises(InvalidInputError, match="choose one of local, spark"):
        resolve_engine("local", recipe, "dask")


def test_the_local_engine_declares_everything_supported() -> None:
    tables = LOCAL_CAPABILITIES.as_dict()
    assert set(tables["processors"]) == set(step_types()) >= {"geoip", "trim"}
    for table in ("recipes", "processors", "aggregations", "input_formats", "algorithms"):
        assert tables[table], table
        assert all(c["supported"] for c in tables[table].values()), table
    assert capabilities_for("local") is LOCAL_CAPABILITIES
    assert not capabilities_for("spark").algorithm("dbscan").supported


def test_engines_persist_and_a_recipe_can_follow_the_project_again(flow: cl.Project) -> None:
    assert flow.engine == "local"
    flow.set_engine("spark")
    reopened = cl.Workspace(flow.workspace.home).project(flow.key)
    assert reopened.engine == "spark"
    assert reopened.name == flow.name
    assert flow.set_recipe_engine("copy_views", "local").engine == "local"
    assert reopened.recipe("copy_views").engine == "local"
    assert flow.set_recipe_engine("copy_views", None).engine is None
    with pytest.raises(InvalidInputError, match="Unknown engine 'gpu'"):
        flow.set_engine("gpu")
    assert reopened.workspace.project(flow.key).engine == "spark"


def test_a_recipe_cannot_be_given_an_engine_that_cannot_run_it(flow: cl.Project) -> None:
    with pytest.raises(InvalidInputError) as info:
        flow.set_recipe_engine("copy_plans", "spark")
    assert "input plans (xlsx file): Spark has no Excel reader" in str(info.value)
    assert flow.recipe("copy_plans").engine is None
    excel_on_spark = {**COPY, "name": "again", "inputs": ["plans"], "outputs": ["c2"]}
    with pytest.raises(InvalidInputError, match="cannot run on the spark engine"):
        flow.create_recipe({**excel_on_spark, "engine": "spark"})


def test_the_log_names_each_recipes_engine_and_whose_choice_it_is(flow: cl.Project) -> None:
    flow.set_recipe_engine("copy_views", "local")
    job = flow.build_all()
    lines = log_of(flow, job)
    assert any(
        line.startswith("copy_views: running sync")
        and line.endswith("the local engine (the recipe's)")
        for line in lines
    ), lines
    assert any(line.endswith("on the local engine (the project's)") for line in lines), lines
    assert flow.dataset("plans_copy").to_pandas()["plan"].tolist() == ["gold"]


def test_a_recipe_its_engine_cannot_run_stops_the_build_before_anything_runs(
    flow: cl.Project,
) -> None:
    flow.set_engine("spark")
    flow.set_recipe_engine("copy_views", "local")  # runnable, and first in the order
    refused = [r.recipe.name for r in recipe_engines(flow) if r.problems]
    assert refused == ["copy_plans"]
    with pytest.raises(JobFailedError) as info:
        flow.build_all()
    message = str(info.value)
    assert "recipe copy_plans on the spark engine (the project's)" in message
    assert "Spark has no Excel reader" in message
    assert not flow.dataset("copy").has_data()  # copy_views did not run either
    assert not flow.dataset("plans_copy").has_data()
    # The build's own engine overrides the project's.
    job = flow.build_all(engine="local")
    assert any(line.endswith("the local engine (the build's)") for line in log_of(flow, job))
    assert flow.dataset("copy").has_data()
