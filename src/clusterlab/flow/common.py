"""Errors and column helpers shared by the recipe compilers.

Every compiler checks the columns a spec names against its input table before
building expressions, so a user sees which recipe step names which missing column
(with the available ones) instead of an engine error at run time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from difflib import get_close_matches

import ibis
import ibis.expr.types as ir

from clusterlab.core.errors import InvalidInputError, NotFoundError
from clusterlab.core.recipes import RecipeSpec
from clusterlab.core.schema import StorageType

_SHOWN = 40


class ColumnNotFoundError(NotFoundError):
    """A recipe (step) names a column its input does not have.

    Attributes
    ----------
    column : str
        The missing column.
    available : list of str
        The input's columns.
    where : str
        The recipe or step naming the column, e.g. ``"step 3 (clear_invalid)"``.
    """

    def __init__(self, column: str, available: list[str], where: str) -> None:
        self.column = column
        self.available = available
        self.where = where
        close = get_close_matches(column, available, n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        shown = ", ".join(available[:_SHOWN]) + (", ..." if len(available) > _SHOWN else "")
        super().__init__(
            f"{_capital(where)}: there is no column {column!r}.{hint} "
            f"The columns are: {shown}. Fix the column name or the steps before this one."
        )


class RecipeError(InvalidInputError):
    """A recipe's parameters do not fit its input data (types, name clashes, ...)."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        super().__init__(f"{_capital(where)}: {problem}")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def require_columns(table: ibis.Table, names: Iterable[str], where: str) -> None:
    """Raise `ColumnNotFoundError` for the first of ``names`` missing from ``table``."""
    available = list(table.columns)
    present = set(available)
    for name in names:
        if name not in present:
            raise ColumnNotFoundError(name, available, where)


def one_input(recipe: RecipeSpec, inputs: Mapping[str, ibis.Table]) -> ibis.Table:
    """The single input table of a one-input recipe."""
    return input_tables(recipe, inputs)[0]


def input_tables(recipe: RecipeSpec, inputs: Mapping[str, ibis.Table]) -> list[ibis.Table]:
    """The recipe's input tables, in the recipe's input order."""
    missing = [name for name in recipe.inputs if name not in inputs]
    if missing:
        raise NotFoundError(
            f"Recipe {recipe.name}: no table given for input {missing[0]!r} "
            f"(given: {', '.join(inputs) or 'none'}); build that dataset first."
        )
    return [inputs[name] for name in recipe.inputs]


_IBIS_TYPES = {
    StorageType.STRING: "string",
    StorageType.INTEGER: "int64",
    StorageType.DECIMAL: "float64",
    StorageType.BOOLEAN: "boolean",
    StorageType.DATE: "date",
    StorageType.TIMESTAMP: "timestamp",
}


def ibis_type(storage: StorageType) -> str:
    """The Ibis type name a storage type maps to."""
    return _IBIS_TYPES[storage]


def as_text(value: ir.Value) -> ir.StringValue:
    """``value`` as text (casting non-text columns), for text-only operations."""
    return value if value.type().is_string() else value.cast("string")


def as_number(value: ir.Value) -> ir.NumericValue:
    """``value`` as a number; text that is not a number becomes empty."""
    if value.type().is_numeric():
        return value
    return value.try_cast("float64")
