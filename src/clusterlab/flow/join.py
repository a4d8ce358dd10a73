"""The join recipe: combine the rows of two inputs on equal keys.

The right table's columns are renamed to private names before joining, so Ibis never
renames clashing columns on its own; the output names are then chosen here, as the
spec describes: left columns as they are, a key with the same name on both sides once
(the left value, or the first non-empty of both for right and outer joins), and other
right columns prefixed when their name is taken.

Examples
--------
>>> import ibis
>>> from clusterlab.core.recipes import parse_recipe
>>> recipe = parse_recipe({"name": "j", "type": "join", "inputs": ["crm", "seg"],
...     "outputs": ["out"], "params": {"how": "inner",
...     "on": [{"left": "visitor_id", "right": "visitor_id"}]}})
>>> crm = ibis.memtable({"visitor_id": ["a", "b"], "company": ["X", "Y"]})
>>> seg = ibis.memtable({"visitor_id": ["a"], "cluster_labels": ["FR visitors"]})
>>> compile_join(recipe, {"crm": crm, "seg": seg})["out"].execute().values.tolist()
[['a', 'X', 'FR visitors']]
"""

from __future__ import annotations

from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.recipes import JoinSpec, RecipeSpec
from clusterlab.flow.common import RecipeError, input_tables, require_columns

_RIGHT = "__clusterlab_right_"


def _joinable(a: ir.Value, b: ir.Value) -> bool:
    ta, tb = a.type(), b.type()
    return bool(
        ta == tb
        or (ta.is_numeric() and tb.is_numeric())
        or (ta.is_temporal() and tb.is_temporal())
        or (ta.is_string() and tb.is_string())
    )


def join_tables(
    left: ibis.Table, right: ibis.Table, spec: JoinSpec, right_name: str, where: str
) -> ibis.Table:
    """Join ``left`` and ``right`` as ``spec`` says (``right_name`` names the prefix)."""
    require_columns(left, [k.left for k in spec.on] + list(spec.left_columns or []), where)
    require_columns(right, [k.right for k in spec.on] + list(spec.right_columns or []), where)
    for key in spec.on:
        if not _joinable(left[key.left], right[key.right]):
            raise RecipeError(
                where,
                f"cannot join {key.left!r} ({left[key.left].type()}) with {key.right!r} "
                f"({right[key.right].type()}): cast one of them so both hold the same type.",
            )
    private = {c: f"{_RIGHT}{i}" for i, c in enumerate(right.columns)}
    renamed = right.select(**{private[c]: right[c] for c in right.columns})
    predicates = [left[k.left] == renamed[private[k.right]] for k in spec.on]
    joined = left.join(renamed, predicates, how=spec.how)

    left_cols = list(spec.left_columns or left.columns)
    same_name = {k.left: k.right for k in spec.on if k.left == k.right and k.left in left_cols}
    merge = spec.how in ("right", "outer")
    selection: dict[str, ir.Value] = {}
    for col in left_cols:
        value = joined[col]
        if col in same_name and merge:
            value = ibis.coalesce(value, joined[private[same_name[col]]])
        selection[col] = value
    prefix = right_name + "_" if spec.right_prefix is None else spec.right_prefix
    for col in spec.right_columns or right.columns:
        if col in same_name.values():
            continue
        name = col if col not in selection else f"{prefix}{col}"
        if name in selection:
            raise RecipeError(
                where,
                f"the right column {col!r} would be called {name!r}, which is taken; "
                "set another 'right_prefix' or leave one of the columns out.",
            )
        selection[name] = joined[private[col]]
    return joined.select(**selection)


def compile_join(recipe: RecipeSpec, inputs: Mapping[str, ibis.Table]) -> dict[str, ibis.Table]:
    """Compile a join recipe (first input: left, second: right)."""
    if not isinstance(recipe.params, JoinSpec):
        raise InvalidInputError(f"Recipe {recipe.name} is a {recipe.type} recipe, not join.")
    left, right = input_tables(recipe, inputs)
    where = f"recipe {recipe.name} (join)"
    out = join_tables(left, right, recipe.params, recipe.inputs[1], where)
    return {recipe.outputs[0]: out}
