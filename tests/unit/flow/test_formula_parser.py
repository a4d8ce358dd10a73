"""Formula syntax: precedence, aliases, error positions, and property tests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterlab.flow.formula_syntax import (
    FUNCTIONS,
    MAX_DEPTH,
    Binary,
    Call,
    ColumnRef,
    FormulaError,
    Literal,
    Node,
    Unary,
    parse,
    referenced_columns,
    to_source,
)


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("a + 2 * 3", "(a + (2 * 3))"),
        ("(a + 2) * 3", "((a + 2) * 3)"),
        ("a - b - c", "((a - b) - c)"),
        ("-a * b", "((- a) * b)"),
        ("a > 1 and b < 2 or c", "(((a > 1) and (b < 2)) or c)"),
        ("not a == 1 and b", "((not (a == 1)) and b)"),
        ("!a || b && c", "((not a) or (b and c))"),
        ("a = 1", "(a == 1)"),
        ("a <> 1", "(a != 1)"),
        ("a % 2 >= 1", "((a % 2) >= 1)"),
        ("IF(x, 'y', \"z\")", 'if(x, "y", "z")'),
        ('val("data-science") + val("a b")', '(val("data-science") + val("a b"))'),
        ("TRUE or False or NULL", "((true or false) or null)"),
        ("1.5e3 + .5 + 7", "((1500.0 + 0.5) + 7)"),
        ("startswith(url, '/blog')", 'startsWith(url, "/blog")'),
        ("'it\\'s' + \"a\\\\b\\n\"", '("it\'s" + "a\\\\b\\n")'),
        ("coalesce(a, b, 0)", "coalesce(a, b, 0)"),
        ("été + _x1", "(été + _x1)"),
    ],
)
def test_precedence_and_aliases(text: str, printed: str) -> None:
    assert to_source(parse(text)) == printed


@pytest.mark.parametrize(
    ("text", "position", "reason"),
    [
        ("", 1, "empty"),
        ("a +", 4, "ends where a value is expected"),
        ("a + * b", 5, "unexpected '*'"),
        ("(a + 1", 7, "expected ')' to close the '(' at position 1"),
        ("f(a, b", 7, "to close the '(' at position 2"),
        ("a b", 3, "after a complete expression"),
        ("a < b < c", 7, "cannot be chained"),
        ('"abc', 1, "never closed"),
        ("'a\\q'", 3, "unknown escape"),
        ("a $ b", 3, "unexpected character '$'"),
        ("rond(a)", 1, "did you mean round"),
        ("round(a, 1, 2)", 1, "round() takes 1 to 2 arguments, got 3"),
        ("if(a, b)", 1, "if() takes 3 arguments"),
        ("val(a)", 1, "val() takes one string"),
        ("and b", 1, "needs a value on its left"),
        ("99999999999999999999", 1, "too large"),
        ("1e999", 1, "too large"),
        ("a +\n  )", 7, "unexpected ')'"),
    ],
)
def test_syntax_errors_point_at_the_problem(text: str, position: int, reason: str) -> None:
    with pytest.raises(FormulaError) as info:
        parse(text)
    error = info.value
    assert error.position == position
    assert reason in error.reason
    assert f"position {position}" in str(error)
    lines = str(error).splitlines()
    caret = lines[-1].index("^") - 2
    line = lines[-2][2:]
    line_start = text.rfind("\n", 0, position - 1) + 1
    assert line == text[line_start:].split("\n")[0]
    assert caret == position - 1 - line_start


def test_located_error_names_the_step() -> None:
    with pytest.raises(FormulaError) as info:
        parse("a +")
    located = info.value.located("step 2 (formula)")
    assert str(located).startswith("Step 2 (formula): Formula error at position 4")
    assert located.position == 4


def test_nesting_is_limited_with_a_formula_error() -> None:
    with pytest.raises(FormulaError, match="nested more than"):
        parse("(" * (MAX_DEPTH + 5) + "1" + ")" * (MAX_DEPTH + 5))
    with pytest.raises(FormulaError, match="nested more than"):
        parse("-" * 500 + "1")
    assert to_source(parse("(" * 20 + "1" + ")" * 20)) == "1"


def test_referenced_columns() -> None:
    assert referenced_columns(parse('if(a > 1, val("b c"), a + d)')) == ["a", "b c", "d"]
    assert referenced_columns(parse("1 + 2")) == []


# ------------------------------------------------------------------ properties

_NAMES = st.sampled_from(["a", "b", "visitor_id", "data-science", "a b", "été", "and", "val"])
_LEAVES: st.SearchStrategy[Node] = st.one_of(
    st.builds(Literal, st.integers(min_value=0, max_value=2**63 - 1)),
    st.builds(Literal, st.floats(min_value=0, allow_nan=False, allow_infinity=False)),
    st.builds(Literal, st.text(max_size=8)),
    st.builds(Literal, st.sampled_from([True, False, None])),
    st.builds(ColumnRef, _NAMES),
)
_BINARY_OPS = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "and", "or"]


def _extend(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.builds(Unary, st.sampled_from(["-", "not"]), children),
        st.builds(Binary, st.sampled_from(_BINARY_OPS), children, children),
        st.builds(
            Call,
            st.sampled_from(["coalesce", "concat", "min", "max"]),
            st.lists(children, min_size=1, max_size=3).map(tuple),
        ),
        st.builds(Call, st.just("if"), st.tuples(children, children, children)),
    )


ASTS = st.recursive(_LEAVES, _extend, max_leaves=12)


@given(ASTS)
@settings(max_examples=100, deadline=None)
def test_printing_then_parsing_gives_the_same_tree(node: Node) -> None:
    assert parse(to_source(node)) == node


_FORMULA_CHARS = st.sampled_from(
    [*list("abx_19.+-*/%<>=!&|()'\",\\ \n"), "if(", "val(", "and", "é"]
)


@given(st.one_of(st.text(max_size=40), st.lists(_FORMULA_CHARS, max_size=30).map("".join)))
@settings(max_examples=200, deadline=None)
def test_random_text_parses_or_raises_only_formula_errors(text: str) -> None:
    try:
        node = parse(text)
    except FormulaError as exc:
        position = exc.position
        assert 1 <= position <= len(text) + 1
    else:
        assert parse(to_source(node)) == node


def test_every_function_has_an_arity() -> None:
    for name, (low, high) in FUNCTIONS.items():
        assert high is None or low <= high, name
