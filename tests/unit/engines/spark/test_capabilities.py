"""The Spark capability table covers every recipe, processor, aggregation and format,
and refuses unsupported combinations with reasons."""

from __future__ import annotations

import typing
from pathlib import Path

import pytest

from clusterlab.core.dataset import DatasetKind, FileFormat
from clusterlab.core.errors import UnsupportedError
from clusterlab.core.recipes import Aggregation, PrepareSpec, RecipeType, parse_recipe
from clusterlab.engines.base import InputData
from clusterlab.engines.capabilities import Capability, EngineCapabilities
from clusterlab.engines.spark.capabilities import SPARK_CAPABILITIES


def step_types() -> set[str]:
    """Every prepare step type the specs accept, read from the spec's own union."""
    found: set[str] = set()

    def walk(annotation: object) -> None:
        for arg in typing.get_args(annotation):
            fields = getattr(arg, "model_fields", None)
            if fields and "type" in fields:
                found.update(typing.get_args(fields["type"].annotation))
            else:
                walk(arg)

    walk(PrepareSpec.model_fields["steps"].annotation)
    return found


def test_table_covers_everything_the_specs_allow() -> None:
    assert step_types() >= {"geoip", "trim", "bin_numbers"}
    assert set(SPARK_CAPABILITIES.processors) == step_types()
    assert set(SPARK_CAPABILITIES.recipes) == set(typing.get_args(RecipeType))
    assert set(SPARK_CAPABILITIES.aggregations) == {a.value for a in Aggregation}
    assert set(SPARK_CAPABILITIES.input_formats) == {f.value for f in FileFormat}


def test_unsupported_entries_say_why() -> None:
    for table in (
        SPARK_CAPABILITIES.recipes,
        SPARK_CAPABILITIES.processors,
        SPARK_CAPABILITIES.aggregations,
        SPARK_CAPABILITIES.input_formats,
    ):
        for name, cap in table.items():
            assert cap.supported or len(cap.note) > 20, name


def test_excel_input_is_refused_before_running(tmp_path: Path) -> None:
    recipe = parse_recipe({"name": "copy", "type": "sync", "inputs": ["book"], "outputs": ["b"]})
    book = InputData("book", DatasetKind.EXTERNAL, tmp_path / "b.xlsx", FileFormat.XLSX)
    with pytest.raises(UnsupportedError) as info:
        SPARK_CAPABILITIES.check(recipe, {"book": book})
    message = str(info.value)
    assert "Recipe copy" in message
    assert "input book (xlsx file)" in message
    assert "local engine" in message
    managed = InputData("book", DatasetKind.MANAGED, tmp_path)
    SPARK_CAPABILITIES.check(recipe, {"book": managed})


def test_every_problem_is_listed_with_its_step() -> None:
    narrow = EngineCapabilities(
        engine="tiny",
        recipes={"prepare": Capability(True), "group": Capability(True)},
        processors={"trim": Capability(True), "geoip": Capability(False, "no lookups here")},
        aggregations={"sum": Capability(True)},
    )
    recipe = parse_recipe(
        {
            "name": "p",
            "type": "prepare",
            "inputs": ["a"],
            "outputs": ["b"],
            "params": {
                "steps": [
                    {"type": "trim", "columns": ["x"]},
                    {"type": "geoip", "column": "ip"},
                    {"type": "upper", "columns": ["x"]},
                    {"type": "lower", "columns": ["x"], "enabled": False},
                ]
            },
        }
    )
    assert narrow.problems(recipe) == [
        "step 2 (geoip): no lookups here",
        "step 3 (upper): not verified on the tiny engine",
    ]
    group = parse_recipe(
        {
            "name": "g",
            "type": "group",
            "inputs": ["a"],
            "outputs": ["b"],
            "params": {
                "keys": ["k"],
                "aggregations": [{"column": "v", "aggregations": ["sum", "median"]}],
            },
        }
    )
    assert narrow.problems(group) == ["median of v: not verified on the tiny engine"]
    sync = parse_recipe({"name": "s", "type": "sync", "inputs": ["a"], "outputs": ["b"]})
    with pytest.raises(UnsupportedError, match="sync recipes: not verified on the tiny engine"):
        narrow.check(sync)


def test_train_and_cluster_recipes_are_refused_for_a_model_spark_cannot_train():
    from clusterlab.engines.capabilities import capabilities_for

    for kind in ("train", "cluster"):
        recipe = parse_recipe(
            {
                "name": "r",
                "type": kind,
                "inputs": ["a"],
                "outputs": ["m"],
                "params": {"design": {"algorithms": [{"type": "dbscan"}]}},
            }
        )
        (problem,) = SPARK_CAPABILITIES.problems(recipe)
        assert problem.startswith("model DBSCAN: ")
        assert capabilities_for("local").problems(recipe) == []
        kmeans = recipe.model_copy(
            update={"params": recipe.params.model_copy(update={"design": _kmeans_design()})}
        )
        assert SPARK_CAPABILITIES.problems(kmeans) == []


def _kmeans_design():
    from clusterlab.core.mltask import KMeansSpec, TaskDesign

    return TaskDesign(algorithms=(KMeansSpec(k=(3,)),))
