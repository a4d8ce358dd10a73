"""The sync recipe (copy a dataset) and the stack recipe (rows of several inputs).

Stacking matches columns by name, never by position. A column some inputs lack is
empty in their rows; a column whose type differs between inputs gets their common
type (a wider number), or text when they have none.

Examples
--------
>>> import ibis
>>> from clusterlab.core.recipes import parse_recipe
>>> recipe = parse_recipe({"name": "s", "type": "stack", "inputs": ["a", "b"],
...     "outputs": ["ab"], "params": {"origin_column": "origin"}})
>>> a = ibis.memtable({"x": [1], "y": ["p"]})
>>> b = ibis.memtable({"x": [2.5]})
>>> compile_stack(recipe, {"a": a, "b": b})["ab"].order_by("x").to_pyarrow().to_pylist()
[{'x': 1.0, 'y': 'p', 'origin': 'a'}, {'x': 2.5, 'y': None, 'origin': 'b'}]
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.datatypes as dt

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.recipes import RecipeSpec, StackSpec, SyncSpec
from clusterlab.flow.common import RecipeError, input_tables, one_input


def compile_sync(recipe: RecipeSpec, inputs: Mapping[str, ibis.Table]) -> dict[str, ibis.Table]:
    """Compile a sync recipe: the input, unchanged, under the output's name."""
    if not isinstance(recipe.params, SyncSpec):
        raise InvalidInputError(f"Recipe {recipe.name} is a {recipe.type} recipe, not sync.")
    return {recipe.outputs[0]: one_input(recipe, inputs)}


def _common_type(types: list[dt.DataType]) -> dt.DataType:
    if all(t == types[0] for t in types):
        return types[0]
    try:
        common: dt.DataType = dt.highest_precedence(types)
    except (TypeError, ValueError, AttributeError):
        return dt.string
    return common


def stack_tables(tables: Mapping[str, ibis.Table], spec: StackSpec, where: str) -> ibis.Table:
    """Stack ``tables`` (name → table) by column name."""
    names: list[str] = []
    for table in tables.values():
        names += [c for c in table.columns if c not in names]
    if spec.columns == "intersection":
        names = [c for c in names if all(c in t.columns for t in tables.values())]
        if not names:
            raise RecipeError(where, "the inputs have no column in common; stack their union.")
    types = {
        c: _common_type([t[c].type() for t in tables.values() if c in t.columns]) for c in names
    }
    if spec.origin_column is not None and spec.origin_column in names:
        raise RecipeError(
            where, f"the origin column {spec.origin_column!r} is already an input column."
        )
    parts = []
    for input_name, table in tables.items():
        columns = {
            c: table[c].cast(types[c]) if c in table.columns else ibis.null(types[c]) for c in names
        }
        if spec.origin_column is not None:
            columns[spec.origin_column] = ibis.literal(input_name)
        parts.append(table.select(**columns))
    return parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)


def compile_stack(recipe: RecipeSpec, inputs: Mapping[str, ibis.Table]) -> dict[str, ibis.Table]:
    """Compile a stack recipe: the rows of all inputs in one output."""
    if not isinstance(recipe.params, StackSpec):
        raise InvalidInputError(f"Recipe {recipe.name} is a {recipe.type} recipe, not stack.")
    tables = dict(zip(recipe.inputs, input_tables(recipe, inputs), strict=True))
    where = f"recipe {recipe.name} (stack)"
    return {recipe.outputs[0]: stack_tables(tables, recipe.params, where)}
