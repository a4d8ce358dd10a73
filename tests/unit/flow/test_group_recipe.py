"""The group recipe: aggregations, names, order of first/last, filters, errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import ibis
import pytest

from clusterlab.flow.common import ColumnNotFoundError, RecipeError
from clusterlab.flow.formula import FormulaError
from clusterlab.flow.group import compile_group
from tests.unit.flow.flowkit import recipe, table

Run = Callable[[ibis.Table], list[dict[str, Any]]]

T = table(
    k=["a", "a", "a", "b"],
    v=[3, 1, None, 10],
    s=["y", "x", "y", None],
    ts=[datetime(2014, 3, 2), datetime(2014, 3, 1), datetime(2014, 3, 3), datetime(2014, 3, 1)],
)
ALL = ["count", "distinct", "first", "last", "min", "max", "sum", "avg", "std", "median"]


def group(**params: Any) -> ibis.Table:
    return compile_group(recipe("group", ["in"], ["out"], **params), {"in": T})["out"]


def test_every_aggregation(run: Run) -> None:
    out = group(
        keys=["k"],
        order_by=["ts"],
        aggregations=[
            {"column": "v", "aggregations": ALL},
            {"column": "s", "aggregations": ["concat_distinct", "count", "first", "last"]},
        ],
    )
    expected_columns = ["k", "count", *(f"v_{a}" for a in ALL)]
    expected_columns += ["s_concat_distinct", "s_count", "s_first", "s_last"]
    assert list(out.columns) == expected_columns
    a, b = sorted(run(out), key=lambda r: r["k"])
    assert (a["count"], a["v_count"], a["v_distinct"]) == (3, 2, 2)
    # Ordered by ts: v is 1 (1 March), 3 (2 March), empty (3 March); empties are skipped.
    assert (a["v_first"], a["v_last"]) == (1, 3)
    assert (a["v_min"], a["v_max"], a["v_sum"], a["v_avg"]) == (1, 3, 4, 2.0)
    assert a["v_std"] == pytest.approx(2**0.5)
    assert a["v_median"] == pytest.approx(2.0)
    assert (a["s_concat_distinct"], a["s_count"], a["s_first"], a["s_last"]) == ("x,y", 3, "x", "y")
    assert (b["count"], b["v_sum"], b["s_concat_distinct"], b["s_first"]) == (1, 10, None, None)


def test_without_count_and_with_several_keys(run: Run) -> None:
    out = group(
        keys=["k", "s"], count=False, aggregations=[{"column": "v", "aggregations": ["sum"]}]
    )
    assert list(out.columns) == ["k", "s", "v_sum"]
    assert sorted((r["k"], r["s"] or "", r["v_sum"]) for r in run(out)) == [
        ("a", "x", 1),
        ("a", "y", 3),
        ("b", "", 10),
    ]


def test_pre_and_post_filters(run: Run) -> None:
    out = group(keys=["k"], pre_filter="v >= 3", post_filter="count > 1")
    assert run(out) == []
    out = group(keys=["k"], pre_filter="v >= 3", post_filter="count >= 1")
    assert sorted((r["k"], r["count"]) for r in run(out)) == [("a", 1), ("b", 1)]


def test_errors() -> None:
    with pytest.raises(ColumnNotFoundError, match=r"Recipe r \(group\): there is no column 'vv'"):
        group(keys=["k"], aggregations=[{"column": "vv", "aggregations": ["sum"]}])
    with pytest.raises(RecipeError, match="sum needs numbers but 's' holds string"):
        group(keys=["k"], aggregations=[{"column": "s", "aggregations": ["sum"]}])
    with pytest.raises(FormulaError, match="Recipe r \\(group\\), post-filter: Formula error"):
        group(keys=["k"], post_filter="v > 1")


def test_boolean_columns_sum_as_numbers(run: Run) -> None:
    data = table(k=["a", "a"], flag=[True, True])
    spec = recipe(
        "group",
        ["in"],
        ["out"],
        keys=["k"],
        aggregations=[{"column": "flag", "aggregations": ["sum", "avg"]}],
    )
    assert run(compile_group(spec, {"in": data})["out"]) == [
        {"k": "a", "count": 2, "flag_sum": 2, "flag_avg": 1.0}
    ]
