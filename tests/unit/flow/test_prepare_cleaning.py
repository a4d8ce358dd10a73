"""Prepare steps that clean: clear invalid cells, fill empty cells, filter rows, bins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import pytest

from clusterlab.flow.common import RecipeError
from clusterlab.flow.prepare import apply_steps
from tests.unit.flow.flowkit import column, prepare, table

Run = Callable[[ibis.Table], list[dict[str, Any]]]


def one_step(data: ibis.Table, step: dict[str, Any]) -> ibis.Table:
    return apply_steps(data, prepare(step).steps)


@pytest.mark.parametrize(
    ("meaning", "values", "kept"),
    [
        (
            "ip_address",
            ["1.2.3.4", " 10.0.0.255 ", "256.1.1.1", "1.2.3", "", "::1", "fe80::1:2", "bad", None],
            ["1.2.3.4", " 10.0.0.255 ", None, None, None, "::1", "fe80::1:2", None, None],
        ),
        (
            "email",
            ["a@b.fr", "a.b+c@x.co.uk", "a@b", "@b.fr", "a b@c.fr"],
            ["a@b.fr", "a.b+c@x.co.uk", None, None, None],
        ),
        (
            "url",
            ["https://a.com/x?y=1", "ftp://h", "a.com/x", "http:/a.com", "http://"],
            ["https://a.com/x?y=1", "ftp://h", None, None, None],
        ),
        (
            "number",
            ["1", "-2.5", "1e3", ".5", "1.", "1,5", "x", ""],
            ["1", "-2.5", "1e3", ".5", "1.", None, None, None],
        ),
        (
            "date",
            ["2014-03-01", "01/02/2014", "2014-02-30", "soon"],
            ["2014-03-01", "01/02/2014", None, None],
        ),
    ],
)
def test_clear_invalid(meaning: str, values: list[Any], kept: list[Any], run: Run) -> None:
    out = one_step(table(v=values), {"type": "clear_invalid", "column": "v", "meaning": meaning})
    assert column(run(out), "v") == kept


def test_clear_invalid_numbers_in_a_number_column_keeps_them(run: Run) -> None:
    out = one_step(
        table(v=[1, None]), {"type": "clear_invalid", "column": "v", "meaning": "number"}
    )
    assert column(run(out), "v") == [1, None]


def test_fill_empty(run: Run) -> None:
    data = table(s=["a", "", None], i=[1, None, 3], f=[None, 2.5, None], b=[True, None, False])
    out = apply_steps(
        data,
        prepare(
            {"type": "fill_empty", "columns": ["s", "i", "f"], "value": 0},
            {"type": "fill_empty", "columns": ["b"], "value": "true"},
        ).steps,
    )
    rows = run(out)
    assert column(rows, "s") == ["a", "0", "0"]
    assert column(rows, "i") == [1, 0, 3]
    assert column(rows, "f") == [0.0, 2.5, 0.0]
    assert column(rows, "b") == [True, True, False]


def test_fill_empty_with_a_value_of_the_wrong_type() -> None:
    with pytest.raises(RecipeError, match=r"Step 1 \(fill_empty\): cannot fill 'i' \(int64\)"):
        one_step(table(i=[1, None]), {"type": "fill_empty", "columns": ["i"], "value": "n/a"})
    with pytest.raises(RecipeError, match="whole number"):
        one_step(table(i=[1, None]), {"type": "fill_empty", "columns": ["i"], "value": 1.5})


DATA = table(n=[1, 5, 10, None], s=["a", "b", "c", None], f=[True, False, True, None])


@pytest.mark.parametrize(
    ("step", "kept"),
    [
        ({"by": "values", "column": "s", "values": ["a", "c"]}, [1, 10]),
        ({"by": "values", "column": "s", "values": ["a"], "action": "remove"}, [5, 10, None]),
        ({"by": "values", "column": "n", "values": ["5", 10]}, [5, 10]),
        ({"by": "values", "column": "f", "values": [True]}, [1, 10]),
        ({"by": "range", "column": "n", "min": 2}, [5, 10]),
        ({"by": "range", "column": "n", "min": 1, "max": 5}, [1, 5]),
        ({"by": "range", "column": "n", "max": 5, "action": "remove"}, [10, None]),
        ({"by": "formula", "formula": 'n > 2 and s != "c"'}, [5]),
        ({"by": "formula", "formula": "n > 2", "action": "remove"}, [1, None]),
    ],
)
def test_filter_rows(step: dict[str, Any], kept: list[Any], run: Run) -> None:
    out = one_step(DATA, {"type": "filter_rows", **step})
    assert column(run(out), "n") == kept


def test_filter_rows_values_must_match_the_column_type() -> None:
    with pytest.raises(RecipeError, match="not all numbers"):
        one_step(DATA, {"type": "filter_rows", "by": "values", "column": "n", "values": ["x"]})


def test_bin_numbers(run: Run) -> None:
    data = table(x=[-1.0, 0.0, 9.99, 10.0, 250.0, None])
    by_width = one_step(data, {"type": "bin_numbers", "column": "x", "width": 10})
    assert column(run(by_width), "x_bin") == [-10.0, 0.0, 0.0, 10.0, 250.0, None]
    by_edges = one_step(
        data, {"type": "bin_numbers", "column": "x", "edges": [0, 10, 100], "output": "b"}
    )
    assert column(run(by_edges), "b") == [None, 0.0, 0.0, 10.0, 100.0, None]
