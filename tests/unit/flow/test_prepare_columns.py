"""Prepare steps on columns: structure, formula, cast, concat, split, text case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import pytest

from clusterlab.flow.common import ColumnNotFoundError, RecipeError
from clusterlab.flow.formula import FormulaError
from clusterlab.flow.prepare import apply_steps
from tests.unit.flow.flowkit import column, prepare, table

Run = Callable[[ibis.Table], list[dict[str, Any]]]

T = table(a=[1, 2], b=["x", "y"], c=[1.5, None], d=["p,q,r", None])


def steps(*specs: dict[str, Any]) -> ibis.Table:
    return apply_steps(T, prepare(*specs).steps)


def test_remove_keep_rename_reorder() -> None:
    assert steps({"type": "remove_columns", "columns": ["a", "c"]}).columns == ("b", "d")
    assert steps({"type": "keep_columns", "columns": ["c", "a"]}).columns == ("a", "c")
    renamed = steps({"type": "rename_columns", "mapping": {"a": "b", "b": "a"}})
    assert renamed.columns == ("b", "a", "c", "d")
    assert renamed["b"].type().is_integer()  # a swap, not a clash
    move = {"type": "reorder_columns", "columns": ["d", "c"]}
    assert steps(move).columns == ("d", "c", "a", "b")
    assert steps({**move, "position": "end"}).columns == ("a", "b", "d", "c")
    assert steps({**move, "position": "after", "anchor": "a"}).columns == ("a", "d", "c", "b")
    assert steps({**move, "position": "before", "anchor": "a"}).columns == ("d", "c", "a", "b")


def test_missing_column_names_the_step_and_lists_the_columns() -> None:
    with pytest.raises(ColumnNotFoundError) as info:
        steps(
            {"type": "rename_columns", "mapping": {"a": "ip"}},
            {"type": "trim", "columns": ["b"], "enabled": False},
            {"type": "clear_invalid", "column": "ipp", "meaning": "ip_address"},
        )
    error = info.value
    assert str(error).startswith("Step 3 (clear_invalid): there is no column 'ipp'.")
    assert "Did you mean 'ip'?" in str(error)
    assert "The columns are: ip, b, c, d." in str(error)
    assert (error.column, error.available, error.step_index) == ("ipp", ["ip", "b", "c", "d"], 2)  # type: ignore[attr-defined]


def test_structural_mistakes_are_reported() -> None:
    with pytest.raises(RecipeError, match="remove every column"):
        steps({"type": "remove_columns", "columns": ["a", "b", "c", "d"]})
    with pytest.raises(RecipeError, match="two columns would be called 'b'"):
        steps({"type": "rename_columns", "mapping": {"a": "b"}})


def test_formula_adds_or_replaces_in_place(run: Run) -> None:
    out = steps(
        {"type": "formula", "output": "e", "expression": "a * 10"},
        {"type": "formula", "output": "a", "expression": 'b + "!"'},
        {"type": "formula", "output": "nothing", "expression": "null"},
    )
    assert out.columns == ("a", "b", "c", "d", "e", "nothing")
    rows = run(out)
    assert column(rows, "a") == ["x!", "y!"]
    assert column(rows, "e") == [10, 20]
    assert out["nothing"].type().is_string()


def test_formula_errors_name_the_step() -> None:
    with pytest.raises(FormulaError, match=r"^Step 2 \(formula\): Formula error at position 4"):
        steps(
            {"type": "trim", "columns": ["b"]},
            {"type": "formula", "output": "e", "expression": "a +"},
        )


@pytest.mark.parametrize(
    ("values", "to", "expected"),
    [
        (["3", " 42 ", "3.7", "-3.7", "x", None], "integer", [3, 42, 3, -3, None, None]),
        ([1.9, -1.9, None], "integer", [1, -1, None]),
        (["1.5", "1e3", "nope"], "decimal", [1.5, 1000.0, None]),
        ([1, 2], "string", ["1", "2"]),
        (["true", "FALSE", "maybe"], "boolean", [True, False, None]),
        (
            ["2014-03-01", "2014-03-01T10:00:00Z", "01/03/2014"],
            "date",
            ["2014-03-01", "2014-03-01", None],
        ),
    ],
)
def test_cast_turns_bad_values_empty(
    values: list[Any], to: str, expected: list[Any], run: Run
) -> None:
    out = apply_steps(table(v=values), prepare({"type": "cast", "column": "v", "to": to}).steps)
    got = column(run(out), "v")
    assert [str(g) if to == "date" and g is not None else g for g in got] == expected


def test_concat_split_and_text_case(run: Run) -> None:
    out = steps(
        {"type": "concat_columns", "columns": ["b", "c", "a"], "output": "bca", "separator": "|"},
        {"type": "split_column", "column": "d", "delimiter": ",", "max_parts": 2},
        {"type": "split_column", "column": "b", "delimiter": ",", "max_parts": 1, "prefix": "bb"},
        {"type": "upper", "columns": ["b"]},
    )
    rows = run(out)
    assert column(rows, "bca") == ["x|1.5|1", "y||2"]
    assert (column(rows, "d_0"), column(rows, "d_1")) == (["p", None], ["q", None])
    assert column(rows, "bb_0") == ["x", "y"]
    assert column(rows, "b") == ["X", "Y"]
    trimmed = apply_steps(
        table(s=["  A b ", None]),
        prepare({"type": "trim", "columns": ["s"]}, {"type": "lower", "columns": ["s"]}).steps,
    )
    assert column(run(trimmed), "s") == ["a b", None]


def test_text_steps_refuse_numbers() -> None:
    with pytest.raises(RecipeError, match="'a' holds int64, not text"):
        steps({"type": "lower", "columns": ["a"]})
