"""The split recipe: dispatch each input row to exactly one output (or drop it).

The rules' conditions are built to be complementary, so the outputs (with
``remaining``) always partition the input: no row is lost or duplicated.

A random split draws each row's number in [0, 1) from a hash of the seed and the
row's values, not from a random generator: the result does not depend on row order,
threads or partitions, so a rebuild gives the same split. The hash is the engine's,
so DuckDB and Spark split differently (each deterministically), and identical rows
always go to the same output.

Examples
--------
>>> import ibis
>>> from clusterlab.core.recipes import parse_recipe
>>> recipe = parse_recipe({"name": "s", "type": "split", "inputs": ["crm"],
...     "outputs": ["sales", "others"], "params": {"mode": "values", "column": "plan",
...     "mapping": {"pro": "sales"}, "remaining": "others"}})
>>> t = ibis.memtable({"plan": ["pro", "free", None]})
>>> out = compile_split(recipe, {"crm": t})
>>> out["sales"].count().execute(), out["others"].count().execute()
(1, 2)
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.recipes import RecipeSpec, SplitSpec
from clusterlab.flow.common import as_text, one_input, require_columns
from clusterlab.flow.formula import compile_condition

_BUCKETS = 1_000_003  # a prime, so the hash's low bits do not bias the draw


def row_draw(table: ibis.Table, seed: int) -> ir.FloatingValue:
    """A deterministic pseudo-random number in [0, 1) per row, from ``seed`` and its values."""
    parts: list[ir.Value] = [ibis.literal(str(seed))]
    for name in table.columns:
        parts.append(as_text(table[name]).fill_null("\x00"))
    key = ibis.literal("\x1f").join(parts)
    bucket = (key.hash() % _BUCKETS + _BUCKETS) % _BUCKETS
    draw: ir.FloatingValue = bucket.cast("float64") / _BUCKETS
    return draw


def split_conditions(table: ibis.Table, spec: SplitSpec, where: str) -> dict[str, ir.BooleanValue]:
    """For each output, the (never null) condition selecting its rows."""
    conditions: dict[str, ir.BooleanValue] = {}
    taken: ir.BooleanValue
    if spec.mode == "values":
        require_columns(table, [str(spec.column)], where)
        key = as_text(table[str(spec.column)])
        mapping = spec.mapping or {}
        for output in spec.targets:
            values = [v for v, o in mapping.items() if o == output]
            conditions[output] = key.isin(values).fill_null(False)
        taken = key.isin(list(mapping)).fill_null(False)
    elif spec.mode == "filter":
        taken = compile_condition(str(spec.formula), table, where=f"{where}, filter")
        conditions[str(spec.filter_output)] = taken
    else:
        draw = row_draw(table, spec.seed)
        low = 0.0
        for output, ratio in (spec.ratios or {}).items():
            conditions[output] = (draw >= low) & (draw < low + ratio)
            low += ratio
        taken = draw < low
    if spec.remaining is not None:
        conditions[spec.remaining] = ~taken
    return conditions


def compile_split(recipe: RecipeSpec, inputs: Mapping[str, ibis.Table]) -> dict[str, ibis.Table]:
    """Compile a split recipe: one filtered table per output."""
    if not isinstance(recipe.params, SplitSpec):
        raise InvalidInputError(f"Recipe {recipe.name} is a {recipe.type} recipe, not split.")
    table = one_input(recipe, inputs)
    where = f"recipe {recipe.name} (split)"
    conditions = split_conditions(table, recipe.params, where)
    return {output: table.filter(conditions[output]) for output in recipe.outputs}
