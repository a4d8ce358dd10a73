"""The group recipe: one row per distinct key, with counts and per-column aggregations.

Output columns are the keys, ``count`` (rows per group, if asked), then
``<column>_<aggregation>`` in the order of the spec, as DSS names them.

``first`` and ``last`` take the first/last *non-empty* value. With ``order_by`` the
order is that sort (ascending, e.g. a parsed timestamp); without it the engine's
natural order is used: on DuckDB that is the input order for inputs read by one
thread, but not guaranteed on larger inputs or on Spark, so set ``order_by`` when the
choice matters.

Examples
--------
>>> import ibis
>>> from clusterlab.core.recipes import parse_recipe
>>> recipe = parse_recipe({"name": "g", "type": "group", "inputs": ["a"], "outputs": ["b"],
...     "params": {"keys": ["k"], "aggregations": [{"column": "v", "aggregations": ["sum"]}]}})
>>> t = ibis.memtable({"k": ["x", "x", "y"], "v": [1, 2, 3]})
>>> compile_group(recipe, {"a": t})["b"].order_by("k").execute().values.tolist()
[['x', 2, 3], ['y', 1, 3]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import ibis
import ibis.expr.types as ir

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.recipes import Aggregation, GroupSpec, RecipeSpec
from clusterlab.flow.common import RecipeError, as_text, one_input, require_columns
from clusterlab.flow.formula import compile_condition

_NUMERIC = {Aggregation.SUM, Aggregation.AVG, Aggregation.STD, Aggregation.MEDIAN}


def aggregate(
    column: ir.Column, aggregation: Aggregation, order_by: Sequence[ir.Column], where: str
) -> ir.Scalar:
    """The Ibis reduction computing one aggregation of ``column``."""
    kind = column.type()
    if aggregation in _NUMERIC:
        if kind.is_boolean():
            column = column.cast("int64")
        elif not kind.is_numeric():
            raise RecipeError(
                where,
                f"{aggregation.value} needs numbers but {column.get_name()!r} holds {kind}; "
                "add a 'cast' step in a prepare recipe, or choose count, distinct, first, "
                "last, min, max or concat_distinct.",
            )
    order = list(order_by) or None
    reductions = {
        Aggregation.COUNT: lambda c: c.count(),
        Aggregation.DISTINCT: lambda c: c.nunique(),
        Aggregation.FIRST: lambda c: c.first(order_by=order),
        Aggregation.LAST: lambda c: c.last(order_by=order),
        Aggregation.MIN: lambda c: c.min(),
        Aggregation.MAX: lambda c: c.max(),
        Aggregation.SUM: lambda c: c.sum(),
        Aggregation.AVG: lambda c: c.mean(),
        Aggregation.STD: lambda c: c.std(),
        Aggregation.MEDIAN: lambda c: c.median(),
        # Sorted so the text does not depend on the engine's row order.
        Aggregation.CONCAT_DISTINCT: lambda c: (
            as_text(c).collect(distinct=True).sort().join(",").nullif("")
        ),
    }
    result: ir.Scalar = reductions[aggregation](column)
    return result


def group_table(table: ibis.Table, spec: GroupSpec, where: str) -> ibis.Table:
    """Apply a group spec to ``table``."""
    wanted = [*spec.keys, *(a.column for a in spec.aggregations), *spec.order_by]
    require_columns(table, wanted, where)
    if spec.pre_filter:
        table = table.filter(
            compile_condition(spec.pre_filter, table, where=f"{where}, pre-filter")
        )
    order_by = [table[c] for c in spec.order_by]
    metrics: dict[str, ir.Scalar] = {}
    if spec.count:
        metrics["count"] = table.count()
    for col in spec.aggregations:
        for agg in col.aggregations:
            name = f"{col.column}_{agg.value}"
            metrics[name] = aggregate(table[col.column], agg, order_by, where)
    out = table.group_by(list(spec.keys)).aggregate(**metrics)
    out = out.select(*spec.output_columns)
    if spec.post_filter:
        out = out.filter(compile_condition(spec.post_filter, out, where=f"{where}, post-filter"))
    return out


def compile_group(recipe: RecipeSpec, inputs: Mapping[str, ibis.Table]) -> dict[str, ibis.Table]:
    """Compile a group recipe: ``{output name: grouped table}``."""
    if not isinstance(recipe.params, GroupSpec):
        raise InvalidInputError(f"Recipe {recipe.name} is a {recipe.type} recipe, not group.")
    table = one_input(recipe, inputs)
    where = f"recipe {recipe.name} (group)"
    return {recipe.outputs[0]: group_table(table, recipe.params, where)}
