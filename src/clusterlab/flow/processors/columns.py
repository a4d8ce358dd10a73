"""Column steps of the prepare recipe: remove, keep, rename, reorder, formula, cast,
concatenate, split and change the case of text.

Each function takes the current table, its step spec and ``where`` (the step's label
for error messages) and returns the new table. A step writing to a column that
already exists replaces it in place, as DSS does.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from clusterlab.core.recipes import (
    Cast,
    ConcatColumns,
    FormulaStep,
    KeepColumns,
    RemoveColumns,
    RenameColumns,
    ReorderColumns,
    SplitColumn,
    TransformText,
)
from clusterlab.core.schema import StorageType
from clusterlab.flow.common import RecipeError, as_text, ibis_type, require_columns
from clusterlab.flow.formula import compile_formula
from clusterlab.flow.processors.dates import ISO_FORMATS, parse_dates

_WHOLE_NUMBER = r"^\s*[+-]?[0-9]+\s*$"


def remove_columns(table: ibis.Table, step: RemoveColumns, where: str) -> ibis.Table:
    """Drop the step's columns (at least one column must remain)."""
    require_columns(table, step.columns, where)
    if len(step.columns) == len(table.columns):
        raise RecipeError(where, "this would remove every column; keep at least one.")
    return table.drop(*step.columns)


def keep_columns(table: ibis.Table, step: KeepColumns, where: str) -> ibis.Table:
    """Keep only the step's columns, in the table's order."""
    require_columns(table, step.columns, where)
    kept = set(step.columns)
    return table.select(*[c for c in table.columns if c in kept])


def rename_columns(table: ibis.Table, step: RenameColumns, where: str) -> ibis.Table:
    """Rename columns; renaming ``a``→``b`` and ``b``→``a`` together swaps them."""
    require_columns(table, step.mapping, where)
    final = [step.mapping.get(c, c) for c in table.columns]
    for name in final:
        if final.count(name) > 1:
            raise RecipeError(
                where,
                f"after renaming, two columns would be called {name!r}; "
                "choose another new name or rename the existing column too.",
            )
    return table.select(*[table[c].name(n) for c, n in zip(table.columns, final, strict=True)])


def reorder_columns(table: ibis.Table, step: ReorderColumns, where: str) -> ibis.Table:
    """Move the step's columns to the start, the end, or next to the anchor."""
    require_columns(table, [*step.columns, *([step.anchor] if step.anchor else [])], where)
    moved = list(step.columns)
    rest = [c for c in table.columns if c not in set(moved)]
    if step.position == "start":
        order = moved + rest
    elif step.position == "end":
        order = rest + moved
    else:
        at = rest.index(str(step.anchor)) + (1 if step.position == "after" else 0)
        order = rest[:at] + moved + rest[at:]
    return table.select(*order)


def formula(table: ibis.Table, step: FormulaStep, where: str) -> ibis.Table:
    """Compute the step's output column from its formula."""
    value = compile_formula(step.expression, table, where=where)
    if value.type().is_null():
        value = value.cast("string")  # an all-empty column still needs a storable type
    return table.mutate(**{step.output: value})


def _truncate(number: ir.NumericValue) -> ir.IntegerValue:
    # Toward zero, on every engine (DuckDB rounds when casting 3.7 to an integer).
    return ibis.ifelse(number >= 0, number.floor(), number.ceil()).cast("int64")


def cast_value(value: ir.Value, to: StorageType) -> ir.Value:
    """``value`` converted to a storage type; values that do not convert become null."""
    current = value.type()
    if to == StorageType.STRING:
        return as_text(value)
    if to == StorageType.INTEGER:
        if current.is_integer():
            return value.cast("int64")
        if current.is_string():
            whole = value.strip().try_cast("int64")
            return ibis.ifelse(
                value.re_search(_WHOLE_NUMBER), whole, _truncate(value.try_cast("float64"))
            )
        if current.is_numeric():
            return _truncate(value)
        return value.try_cast("int64")
    if to in (StorageType.DATE, StorageType.TIMESTAMP) and current.is_string():
        parsed = parse_dates(value, ISO_FORMATS)
        return parsed.date() if to == StorageType.DATE else parsed
    if to == StorageType.BOOLEAN and current.is_string():
        return value.strip().lower().try_cast("boolean")
    return value.try_cast(ibis_type(to))


def cast(table: ibis.Table, step: Cast, where: str) -> ibis.Table:
    """Convert a column's storage type (text dates must be ISO: use parse_date otherwise)."""
    require_columns(table, [step.column], where)
    return table.mutate(**{step.column: cast_value(table[step.column], step.to)})


def concat_columns(table: ibis.Table, step: ConcatColumns, where: str) -> ibis.Table:
    """Join the text of the step's columns with its separator (empty cells count as "")."""
    require_columns(table, step.columns, where)
    texts = [as_text(table[c]).fill_null("") for c in step.columns]
    return table.mutate(**{step.output: ibis.literal(step.separator).join(texts)})


def split_column(table: ibis.Table, step: SplitColumn, where: str) -> ibis.Table:
    """Split a column into ``<prefix>_0`` … on a delimiter; missing parts are empty."""
    require_columns(table, [step.column], where)
    parts = as_text(table[step.column]).split(step.delimiter)
    prefix = step.prefix or step.column
    return table.mutate(**{f"{prefix}_{i}": parts[i] for i in range(step.max_parts)})


def transform_text(table: ibis.Table, step: TransformText, where: str) -> ibis.Table:
    """Lower-case, upper-case or trim text columns."""
    require_columns(table, step.columns, where)
    for name in step.columns:
        if not table[name].type().is_string():
            raise RecipeError(
                where,
                f"{name!r} holds {table[name].type()}, not text; {step.type} applies to "
                "text columns (add a 'cast' step to string first if you mean it).",
            )
    ops = {"lower": lambda s: s.lower(), "upper": lambda s: s.upper(), "trim": lambda s: s.strip()}
    return table.mutate(**{c: ops[step.type](table[c]) for c in step.columns})
