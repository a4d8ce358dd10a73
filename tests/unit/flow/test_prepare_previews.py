"""Prepare previews (upto_step), disabled steps, traces and recipe-level errors."""

from __future__ import annotations

import pytest

from clusterlab.core.errors import ClusterLabError, InvalidInputError, NotFoundError
from clusterlab.flow.common import ColumnNotFoundError
from clusterlab.flow.compile import compile_recipe
from clusterlab.flow.prepare import apply_steps, compile_prepare, trace_steps
from tests.unit.flow.flowkit import prepare, recipe, table

T = table(a=[1, 2], b=["x", "y"])
STEPS = prepare(
    {"type": "formula", "output": "c", "expression": "a + 1"},
    {"type": "remove_columns", "columns": ["b"], "enabled": False},
    {"type": "rename_columns", "mapping": {"a": "z"}},
    {"type": "formula", "output": "d", "expression": "c * 2"},
).steps


def test_upto_step_applies_the_first_steps_only() -> None:
    assert apply_steps(T, STEPS, upto_step=0).columns == ("a", "b")
    assert apply_steps(T, STEPS, upto_step=1).columns == ("a", "b", "c")
    assert apply_steps(T, STEPS, upto_step=2).columns == ("a", "b", "c")  # step 2 is disabled
    assert apply_steps(T, STEPS, upto_step=3).columns == ("z", "b", "c")
    assert apply_steps(T, STEPS).columns == ("z", "b", "c", "d")


def test_upto_step_out_of_range() -> None:
    with pytest.raises(InvalidInputError, match="upto_step=5 is out of range"):
        apply_steps(T, STEPS, upto_step=5)


def test_a_preview_before_a_broken_step_still_works() -> None:
    broken = [*STEPS, *prepare({"type": "keep_columns", "columns": ["gone"]}).steps]
    assert apply_steps(T, broken, upto_step=4).columns == ("z", "b", "c", "d")
    with pytest.raises(ColumnNotFoundError, match=r"Step 5 \(keep_columns\)"):
        apply_steps(T, broken)


def test_trace_lists_columns_per_step_and_stops_at_the_first_error() -> None:
    steps = [*STEPS[:3], *prepare({"type": "formula", "output": "e", "expression": "a"}).steps]
    outcomes = trace_steps(T, steps)
    assert [o.columns for o in outcomes[:3]] == [
        ("a", "b", "c"),
        ("a", "b", "c"),
        ("z", "b", "c"),
    ]
    assert outcomes[1].enabled is False
    last = outcomes[-1]
    assert (last.index, last.type, last.columns) == (3, "formula", None)
    assert isinstance(last.error, ClusterLabError)
    assert "unknown column 'a'" in str(last.error)
    assert last.error.step_index == 3  # type: ignore[attr-defined]


def test_compile_prepare_names_the_recipe_and_its_output() -> None:
    spec = recipe("prepare", ["raw"], ["clean"], steps=[{"type": "trim", "columns": ["b"]}])
    assert list(compile_recipe(spec, {"raw": T})) == ["clean"]
    bad = recipe("prepare", ["raw"], ["clean"], steps=[{"type": "trim", "columns": ["nope"]}])
    with pytest.raises(ColumnNotFoundError) as info:
        compile_prepare(bad, {"raw": T})
    assert str(info.value).startswith("Recipe r, step 1 (trim): there is no column 'nope'.")
    with pytest.raises(NotFoundError, match="no table given for input 'raw'"):
        compile_prepare(spec, {"other": T})
