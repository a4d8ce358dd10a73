"""Cleaning steps of the prepare recipe: clear invalid cells, fill empty cells, filter
rows and bin numbers.

Validity checks are regular expressions limited to the syntax RE2 (DuckDB) and Java
(Spark) share, so a step clears the same cells on every engine.
"""

from __future__ import annotations

from datetime import date, datetime

import ibis
import ibis.expr.types as ir

from clusterlab.core.recipes import BinNumbers, ClearInvalid, FillEmpty, FilterRows, Scalar
from clusterlab.flow.common import RecipeError, as_number, as_text, require_columns
from clusterlab.flow.formula import compile_condition
from clusterlab.flow.processors.dates import parse_dates

_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"
# Loose on purpose (the hex groups are not counted against "::"), strict on characters.
IPV6 = r"^[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
URL = r"^[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#]+[^\s]*$"
NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"


def is_valid(value: ir.Value, meaning: str) -> ir.BooleanValue:
    """Whether each cell is a valid ``meaning`` (false for empty cells).

    Examples
    --------
    >>> t = ibis.memtable({"ip": ["10.0.0.1", "300.1.1.1", "::1"]})
    >>> is_valid(t.ip, "ip_address").execute().tolist()
    [True, False, True]
    """
    kind = value.type()
    if (meaning == "number" and kind.is_numeric()) or (meaning == "date" and kind.is_temporal()):
        return value.notnull()
    text = as_text(value).strip()
    if meaning == "date":
        return parse_dates(text, None).notnull()
    if meaning == "ip_address":
        valid = text.re_search(IPV4) | text.re_search(IPV6)
    else:
        valid = text.re_search({"email": EMAIL, "url": URL, "number": NUMBER}[meaning])
    return valid.fill_null(False)


def clear_invalid(table: ibis.Table, step: ClearInvalid, where: str) -> ibis.Table:
    """Empty the cells of a column that are not valid for the step's meaning."""
    require_columns(table, [step.column], where)
    value = table[step.column]
    valid = is_valid(value, step.meaning)
    return table.mutate(**{step.column: ibis.ifelse(valid, value, ibis.null(value.type()))})


def _fill_value(value: Scalar, column: str, kind: ibis.DataType, where: str) -> ir.Value:
    """The fill ``value`` as a literal of the column's type, or a clear error."""
    try:
        if kind.is_string():
            return ibis.literal(str(value).lower() if isinstance(value, bool) else str(value))
        if kind.is_boolean():
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                return ibis.literal(value.strip().lower() == "true")
            if isinstance(value, bool):
                return ibis.literal(value)
            raise ValueError("use true or false")
        if kind.is_integer():
            number = float(value)
            if not number.is_integer():
                raise ValueError("use a whole number")
            return ibis.literal(int(number), kind)
        if kind.is_numeric():
            return ibis.literal(float(value), kind)
        if kind.is_timestamp():
            return ibis.literal(datetime.fromisoformat(str(value)), kind)
        if kind.is_date():
            return ibis.literal(date.fromisoformat(str(value)), kind)
    except ValueError as exc:
        raise RecipeError(
            where, f"cannot fill {column!r} ({kind}) with {value!r}: {exc}."
        ) from None
    raise RecipeError(where, f"cannot fill {column!r}: its type {kind} is not supported.")


def fill_empty(table: ibis.Table, step: FillEmpty, where: str) -> ibis.Table:
    """Replace empty cells (null, or "" in text columns) by the step's value."""
    require_columns(table, step.columns, where)
    filled = {}
    for name in step.columns:
        value, kind = table[name], table[name].type()
        literal = _fill_value(step.value, name, kind, where)
        empty = value.isnull() | (value == "") if kind.is_string() else value.isnull()
        filled[name] = ibis.ifelse(empty, literal, value)
    return table.mutate(**filled)


def _value_match(value: ir.Value, values: list[Scalar], where: str) -> ir.BooleanValue:
    if value.type().is_numeric():
        try:
            numbers = [float(v) for v in values]
        except ValueError:
            raise RecipeError(
                where, f"the column holds numbers, but the values {values!r} are not all numbers."
            ) from None
        return value.isin(numbers)
    if value.type().is_boolean():
        return as_text(value).lower().isin([str(v).lower() for v in values])
    texts = [str(v).lower() if isinstance(v, bool) else str(v) for v in values]
    return as_text(value).isin(texts)


def row_match(table: ibis.Table, step: FilterRows, where: str) -> ir.BooleanValue:
    """Whether each row matches a filter_rows step's condition (never null)."""
    if step.by == "formula":
        return compile_condition(str(step.formula), table, where=where)
    column = str(step.column)
    require_columns(table, [column], where)
    value = table[column]
    if step.by == "values":
        match = _value_match(value, list(step.values or []), where)
    else:
        number = as_number(value)
        match = ibis.literal(True)
        if step.min is not None:
            match &= number >= step.min
        if step.max is not None:
            match &= number <= step.max
    return match.fill_null(False)


def filter_rows(table: ibis.Table, step: FilterRows, where: str) -> ibis.Table:
    """Keep or remove the rows matching the step's condition."""
    match = row_match(table, step, where)
    return table.filter(match if step.action == "keep" else ~match)


def bin_numbers(table: ibis.Table, step: BinNumbers, where: str) -> ibis.Table:
    """Write each value's bin (its lower edge) to the step's output column."""
    require_columns(table, [step.column], where)
    number = as_number(table[step.column]).cast("float64")
    if step.width is not None:
        bins = (number / step.width).floor() * step.width
    else:
        edges = list(step.edges or [])
        bins = ibis.cases(*[(number >= e, e) for e in reversed(edges)], else_=None)
    return table.mutate(**{step.output_column: bins.cast("float64")})
