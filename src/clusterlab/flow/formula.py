"""Formulas: a small, safe expression language compiled to Ibis expressions.

Users write formulas in prepare steps, filters and group pre/post filters, e.g.
``if(isBlank(ip_address), "unknown", lower(val("ip_address_country")))``. The text is
parsed by `clusterlab.flow.formula_syntax` (never ``eval``) and compiled here against
a table, so the result runs on any Ibis engine.

Typing is strict rather than DSS-lenient, so mistakes show at design time: ``+`` adds
numbers or joins two texts; mixing text and numbers asks for ``toNumber``/``toString``.
``/`` and ``%`` by zero give an empty cell, on every engine. ``x == null`` tests for an
empty cell.

Examples
--------
>>> import ibis
>>> t = ibis.memtable({"a": [1, 2], "b": ["x", "y"]})
>>> expr = compile_formula('if(a > 1, upper(b), "small")', t)
>>> expr.type().is_string()
True
"""

from __future__ import annotations

from collections.abc import Callable
from difflib import get_close_matches

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
from ibis.common.exceptions import IbisError

from clusterlab.flow.formula_syntax import (
    FUNCTIONS,
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

__all__ = [
    "FUNCTIONS",
    "FormulaError",
    "Node",
    "compile_formula",
    "parse",
    "referenced_columns",
    "to_source",
]

# Errors ibis raises when an expression cannot be built from these operand types.
_IBIS_ERRORS = (IbisError, TypeError, ValueError, ArithmeticError, AttributeError)


def compile_formula(formula: str, table: ibis.Table, *, where: str = "") -> ir.Value:
    """Compile ``formula`` to an Ibis value expression over the columns of ``table``.

    Parameters
    ----------
    formula : str
        The formula text.
    table : ibis.Table
        The table whose columns the formula may reference.
    where : str
        The step or parameter holding the formula, prefixed to error messages.

    Raises
    ------
    FormulaError
        On a syntax error, an unknown column or function, or operands of the wrong
        type; the error carries the 1-based ``position``.
    """
    try:
        return _Compiler(table, formula).compile(parse(formula))
    except FormulaError as exc:
        raise (exc.located(where) if where else exc) from None


def compile_condition(formula: str, table: ibis.Table, *, where: str = "") -> ir.BooleanValue:
    """Compile a formula that must be true/false; an empty result counts as false."""
    value = compile_formula(formula, table, where=where)
    if value.type().is_null():
        return ibis.literal(False)
    if not value.type().is_boolean():
        raise FormulaError(
            f"this formula gives {_kind(value)}, but a condition must be true or false "
            '(compare it, e.g. x > 0 or x == "a")',
            formula,
            0,
            where,
        )
    return value.fill_null(False)


def _kind(value: ir.Value) -> str:
    t = value.type()
    if t.is_null():
        return "null"
    if t.is_numeric():
        return "a number"
    if t.is_string():
        return "text"
    if t.is_boolean():
        return "true/false"
    if t.is_temporal():
        return "a date"
    return f"a {t}"


class _Compiler:
    def __init__(self, table: ibis.Table, text: str) -> None:
        self.table = table
        self.text = text

    def fail(self, reason: str, node: Node) -> FormulaError:
        return FormulaError(reason, self.text, node.pos)

    def compile(self, node: Node) -> ir.Value:
        try:
            if isinstance(node, Literal):
                return _literal(node.value)
            if isinstance(node, ColumnRef):
                return self.column(node)
            if isinstance(node, Unary):
                return self.unary(node)
            if isinstance(node, Binary):
                return self.binary(node)
            return self.call(node)
        except FormulaError:
            raise
        except _IBIS_ERRORS as exc:
            raise self.fail(f"cannot compute this: {exc}", node) from None

    def column(self, node: ColumnRef) -> ir.Value:
        names = list(self.table.columns)
        if node.name in names:
            return self.table[node.name]
        close = get_close_matches(node.name, names, n=3, cutoff=0.6)
        close += [n for n in names if n.startswith(node.name) and n not in close][:2]
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else "."
        if any(not n.replace("_", "a").isalnum() for n in close):
            hint += ' Write names with spaces or dashes as val("name").'
        shown = ", ".join(names[:30]) + (", ..." if len(names) > 30 else "")
        raise self.fail(f"unknown column {node.name!r}{hint} Columns: {shown}", node)

    def unary(self, node: Unary) -> ir.Value:
        operand = self.compile(node.operand)
        if node.op == "-":
            self.need(operand, "number", node.operand, "'-'")
            return -operand
        self.need(operand, "boolean", node.operand, "'not'")
        return ~_as(operand, dt.boolean)

    def need(self, value: ir.Value, kind: str, node: Node, what: str) -> None:
        t = value.type()
        ok = (
            t.is_null()
            or {
                "number": t.is_numeric(),
                "boolean": t.is_boolean(),
                "text": t.is_string(),
                "date": t.is_temporal(),
            }[kind]
        )
        if not ok:
            hint = {"number": "; convert text with toNumber()", "text": "; use toString()"}
            raise self.fail(
                f"{what} needs {'true/false' if kind == 'boolean' else kind} values, "
                f"got {_kind(value)}{hint.get(kind, '')}",
                node,
            )

    def binary(self, node: Binary) -> ir.Value:
        left, right = self.compile(node.left), self.compile(node.right)
        left, right = _unify_nulls(left, right)
        op = node.op
        if op in ("and", "or"):
            self.need(left, "boolean", node.left, f"'{op}'")
            self.need(right, "boolean", node.right, f"'{op}'")
            return (left & right) if op == "and" else (left | right)
        if op == "+" and left.type().is_string() and right.type().is_string():
            return left.concat(right)
        if op in ("+", "-", "*", "/", "%"):
            self.need(left, "number", node.left, f"'{op}'")
            self.need(right, "number", node.right, f"'{op}'")
            return _arithmetic(op, left, right)
        return self.compare(node, left, right)

    def compare(self, node: Binary, left: ir.Value, right: ir.Value) -> ir.Value:
        # `x == null` asks whether x is empty, as users expect (SQL would say "unknown").
        if node.op in ("==", "!=") and _NULL in (node.left, node.right):
            tested = right if node.left == _NULL else left
            return tested.isnull() if node.op == "==" else tested.notnull()
        lt, rt = left.type(), right.type()
        # A date compared with text ("2014-03-10") converts the text to a date.
        if lt.is_temporal() and rt.is_string():
            right = right.try_cast(lt)
        elif rt.is_temporal() and lt.is_string():
            left = left.try_cast(rt)
        elif not _comparable(lt, rt):
            raise self.fail(
                f"cannot compare {_kind(left)} with {_kind(right)}; convert one side with "
                "toNumber() or toString()",
                node,
            )
        ops: dict[str, Callable[[ir.Value, ir.Value], ir.Value]] = {
            "==": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
        }
        return ops[node.op](left, right)

    def call(self, node: Call) -> ir.Value:
        args = [self.compile(a) for a in node.args]
        kinds = _SIGNATURES.get(node.name, "")
        for i, (arg, sub) in enumerate(zip(args, node.args, strict=True)):
            kind = kinds[min(i, len(kinds) - 1)] if kinds else "?"
            if kind != "?":
                self.need(arg, _KIND_NAMES[kind], sub, f"{node.name}()")
        if node.name in ("if", "coalesce", "min", "max"):
            values = args[1:] if node.name == "if" else args
            known = [v for v in values if not v.type().is_null()]
            if any(not _comparable(known[0].type(), v.type()) for v in known[1:]):
                kinds = ", ".join(_kind(v) for v in values)
                raise self.fail(f"{node.name}() mixes {kinds}: give values of one kind", node)
        if node.name == "round" and len(node.args) == 2:
            digits = node.args[1]
            if not isinstance(digits, Literal) or not isinstance(digits.value, int):
                raise self.fail("round()'s second argument must be a whole number", digits)
        return _FUNCTIONS[node.name](*args)


_NULL = Literal(None)


def _literal(value: int | float | str | bool | None) -> ir.Value:
    if value is None:
        return ibis.null()
    if isinstance(value, bool):
        return ibis.literal(value, type="boolean")
    # Explicit wide types: ibis would infer int8 for 100, and 100 * 100 would overflow.
    if isinstance(value, int):
        return ibis.literal(value, type="int64")
    if isinstance(value, float):
        return ibis.literal(value, type="float64")
    return ibis.literal(value, type="string")


def _as(value: ir.Value, to: dt.DataType) -> ir.Value:
    return value.cast(to) if value.type().is_null() else value


def _unify_nulls(left: ir.Value, right: ir.Value) -> tuple[ir.Value, ir.Value]:
    # ibis cannot add a bare NULL to a column: give the NULL the other side's type.
    if left.type().is_null() and not right.type().is_null():
        return left.cast(right.type()), right
    if right.type().is_null() and not left.type().is_null():
        return left, right.cast(left.type())
    return left, right


def _comparable(a: dt.DataType, b: dt.DataType) -> bool:
    if a.is_null() or b.is_null():
        return True
    return bool(
        (a.is_numeric() and b.is_numeric())
        or (a.is_string() and b.is_string())
        or (a.is_boolean() and b.is_boolean())
        or (a.is_temporal() and b.is_temporal())
    )


def _arithmetic(op: str, left: ir.Value, right: ir.Value) -> ir.Value:
    a, b = _as(left, dt.float64), _as(right, dt.float64)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    # NULLIF(b, 0): engines disagree on x/0 (error, NULL or inf); NULL everywhere instead.
    divisor = b.nullif(0)
    return (a / divisor) if op == "/" else (a % divisor)


def _blank(x: ir.Value) -> ir.Value:
    if x.type().is_string():
        return x.isnull() | (x.strip() == "")
    return x.isnull()


def _text(x: ir.Value) -> ir.Value:
    return x.cast("string").fill_null("")


# Argument kinds per function: n number, s text, b boolean, d date, ? any; the last
# letter repeats for extra arguments.
_SIGNATURES = {
    "if": "b??",
    "round": "nn",
    "abs": "n",
    "floor": "n",
    "ceil": "n",
    "min": "n",
    "max": "n",
    "toInteger": "?",
    "length": "s",
    "lower": "s",
    "upper": "s",
    "trim": "s",
    "contains": "ss",
    "startsWith": "ss",
    "endsWith": "ss",
    "replace": "sss",
    "year": "d",
    "month": "d",
    "day": "d",
    "hour": "d",
}
_KIND_NAMES = {"n": "number", "s": "text", "b": "boolean", "d": "date"}

_FUNCTIONS: dict[str, Callable[..., ir.Value]] = {
    "if": lambda c, a, b: ibis.ifelse(_as(c, dt.boolean), *_unify_nulls(a, b)),
    "coalesce": lambda *xs: ibis.coalesce(*xs),
    "isNull": lambda x: x.isnull(),
    "isNotNull": lambda x: x.notnull(),
    "isBlank": _blank,
    "round": lambda x, d=None: _as(x, dt.float64).round(d),
    "abs": lambda x: _as(x, dt.float64).abs(),
    "floor": lambda x: _as(x, dt.float64).floor(),
    "ceil": lambda x: _as(x, dt.float64).ceil(),
    "min": lambda *xs: ibis.least(*xs),
    "max": lambda *xs: ibis.greatest(*xs),
    "toNumber": lambda x: x.try_cast("float64"),
    "toInteger": lambda x: (
        x.try_cast("float64").floor().cast("int64") if x.type().is_string() else x.try_cast("int64")
    ),
    "toString": lambda x: x.cast("string"),
    "length": lambda s: _as(s, dt.string).length(),
    "lower": lambda s: _as(s, dt.string).lower(),
    "upper": lambda s: _as(s, dt.string).upper(),
    "trim": lambda s: _as(s, dt.string).strip(),
    "concat": lambda *xs: ibis.literal("").join([_text(x) for x in xs]),
    "contains": lambda s, sub: _as(s, dt.string).contains(sub),
    "startsWith": lambda s, p: _as(s, dt.string).startswith(p),
    "endsWith": lambda s, p: _as(s, dt.string).endswith(p),
    "replace": lambda s, a, b: _as(s, dt.string).replace(a, b),
    "year": lambda d: _as(d, dt.timestamp).year(),
    "month": lambda d: _as(d, dt.timestamp).month(),
    "day": lambda d: _as(d, dt.timestamp).day(),
    "hour": lambda d: _as(d, dt.timestamp).hour(),
}
