"""Formulas compiled to Ibis and executed on DuckDB."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import ibis
import pytest
from hypothesis import given, settings

from clusterlab.flow.formula import FormulaError, compile_condition, compile_formula, to_source
from tests.unit.flow.flowkit import table
from tests.unit.flow.test_formula_parser import ASTS

Run = Callable[[ibis.Table], list[dict[str, Any]]]

T = table(
    a=[1, 2, None],
    x=[1.5, -2.25, 0.0],
    s=["Blog", "  ", None],
    url=["/blog/a", "/products", "/"],
    flag=[True, False, None],
    ts=[datetime(2014, 3, 1, 10), datetime(2014, 3, 10, 23), None],
    **{"data-science": [1, 0, 1], "a b": ["p", "q", "r"]},
)


def values(formula: str, run: Run) -> list[Any]:
    return [row["out"] for row in run(T.select(out=compile_formula(formula, T)))]


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("a + 1", [2, 3, None]),
        ("a * 100 * 100 * 100", [1_000_000, 2_000_000, None]),
        ("a / 2", [0.5, 1.0, None]),
        ("a / 0", [None, None, None]),
        ("a % 0", [None, None, None]),
        ("7 % 3 + a - a", [1, 1, None]),
        ("-x", [-1.5, 2.25, -0.0]),
        ('val("data-science") + val("a b") == "p"', None),  # type error, tested below
        ("round(x, 1)", [1.5, -2.3, 0.0]),  # half away from zero
        ("abs(x) + floor(x) + ceil(x)", [4.5, -2.75, 0.0]),
        ("a > 1", [False, True, None]),
        ("a == null", [False, False, True]),
        ("null != a", [True, True, False]),
        ('s == "Blog" or a == 2', [True, True, None]),
        ("not flag", [False, True, None]),
        ('if(a > 1, "big", "small")', ["small", "big", "small"]),
        ("if(flag, a, null)", [1, None, None]),
        ('s + "!"', ["Blog!", "  !", None]),
        ('concat(s, "-", a)', ["Blog-1", "  -2", "-"]),
        ("coalesce(a, 0)", [1, 2, 0]),
        ("isNull(a)", [False, False, True]),
        ("isBlank(s)", [False, True, True]),
        ("length(s)", [4, 2, None]),
        ("lower(s) + upper(s)", ["blogBLOG", "    ", None]),
        ('trim(s) == ""', [False, True, None]),
        ('contains(url, "o")', [True, True, False]),
        ('startsWith(url, "/blog") || endsWith(url, "ts")', [True, True, False]),
        ('replace(url, "/", "|")', ["|blog|a", "|products", "|"]),
        ('toNumber("3.5") + toInteger("7.9")', [10.5, 10.5, 10.5]),
        ("toString(a)", ["1", "2", None]),
        ("min(a, 1.5) + max(x, 0)", [2.5, 1.5, 1.5]),  # empty cells are skipped
        ("year(ts) * 100 + month(ts)", [201403, 201403, None]),
        ("day(ts) + hour(ts)", [11, 33, None]),
        ('ts > "2014-03-05"', [False, True, None]),
        ("val(\"a b\") == 'q'", [False, True, False]),
        ("1 + 2", [3, 3, 3]),
    ],
)
def test_formulas_compute_expected_values(formula: str, expected: Any, run: Run) -> None:
    if expected is None:
        with pytest.raises(FormulaError):
            compile_formula(formula, T)
        return
    got = values(formula, run)
    assert got == pytest.approx(expected) if None not in expected else got == expected


@pytest.mark.parametrize(
    ("formula", "position", "fragment"),
    [
        ('a + "x"', 5, "'+' needs number values, got text; convert text with toNumber()"),
        ("s * 2", 1, "needs number values"),
        ('a == "1"', 3, "cannot compare a number with text"),
        ("flag and a", 10, "'and' needs true/false values, got a number"),
        ("length(a)", 8, "length() needs text values"),
        ("if(a, 1, 2)", 4, "if() needs true/false"),
        ("round(x, a)", 10, "whole number"),
        ('if(flag, 1, "x")', 1, "if() mixes a number, text: give values of one kind"),
        ("coalesce(s, 0)", 1, "coalesce() mixes text, a number"),
        ("year(s)", 6, "year() needs date values"),
    ],
)
def test_type_errors_point_at_the_operand(formula: str, position: int, fragment: str) -> None:
    with pytest.raises(FormulaError) as info:
        compile_formula(formula, T, where="step 4 (formula)")
    assert info.value.position == position
    assert fragment in str(info.value)
    assert str(info.value).startswith("Step 4 (formula): Formula error")


def test_unknown_column_lists_close_matches() -> None:
    with pytest.raises(FormulaError) as info:
        compile_formula("1 + visitr", table(visitor=[1], visits=[2], other=[3]))
    message = str(info.value)
    assert info.value.position == 5
    assert "unknown column 'visitr'" in message
    assert "'visitor'" in message
    assert "'visits'" in message
    assert "Columns: visitor, visits, other" in message


def test_names_with_dashes_get_a_val_hint() -> None:
    with pytest.raises(FormulaError, match=r'did you mean .*data-science.*val\("name"\)'):
        compile_formula("data-science", T)


def test_conditions_must_be_boolean_and_empty_counts_as_false(run: Run) -> None:
    cond = compile_condition("a > 1", T)
    assert [r["c"] for r in run(T.select(c=cond))] == [False, True, False]
    with pytest.raises(FormulaError, match="must be true or false"):
        compile_condition("a + 1", T)
    assert [r["c"] for r in run(T.select(c=compile_condition("null", T)))] == [False] * 3


@given(ASTS)
@settings(max_examples=100, deadline=None)
def test_compiling_random_formulas_raises_only_formula_errors(node: Any) -> None:
    columns = table(a=[1], b=["x"], visitor_id=["v"], **{"data-science": [1], "a b": [True]})
    columns = columns.mutate(été=ibis.literal(2.5), val=ibis.literal("v"))
    try:
        compile_formula(to_source(node), columns)
    except FormulaError as exc:
        position = exc.position
        assert position >= 1
