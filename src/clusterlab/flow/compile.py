"""One entry point compiling any visual recipe to output Ibis tables.

Engines call `compile_recipe` with the recipe's input tables and write (or preview)
each returned table; nothing here executes a query.

Examples
--------
>>> import ibis
>>> from clusterlab.core.recipes import parse_recipe
>>> recipe = parse_recipe({"name": "copy", "type": "sync", "inputs": ["a"], "outputs": ["b"]})
>>> list(compile_recipe(recipe, {"a": ibis.memtable({"x": [1]})}))
['b']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import ibis

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.recipes import RecipeSpec
from clusterlab.flow.group import compile_group
from clusterlab.flow.join import compile_join
from clusterlab.flow.prepare import Lookups, compile_prepare
from clusterlab.flow.split import compile_split
from clusterlab.flow.sync import compile_stack, compile_sync

_Compiler = Callable[[RecipeSpec, Mapping[str, ibis.Table]], dict[str, ibis.Table]]
_COMPILERS: dict[str, _Compiler] = {
    "group": compile_group,
    "join": compile_join,
    "split": compile_split,
    "sync": compile_sync,
    "stack": compile_stack,
}


def compile_recipe(
    recipe: RecipeSpec,
    inputs: Mapping[str, ibis.Table],
    *,
    lookups: Lookups | None = None,
    upto_step: int | None = None,
) -> dict[str, ibis.Table]:
    """Compile ``recipe`` against its input tables: ``{output dataset: table}``.

    ``lookups`` and ``upto_step`` apply to prepare recipes only (see
    `clusterlab.flow.prepare.apply_steps`).
    """
    if recipe.type == "prepare":
        return compile_prepare(recipe, inputs, upto_step=upto_step, lookups=lookups)
    if recipe.type not in _COMPILERS:
        raise InvalidInputError(
            f"Recipe {recipe.name!r} is a {recipe.type} recipe: it runs a model, not a query, "
            "so it has no Ibis expression."
        )
    return _COMPILERS[recipe.type](recipe, inputs)
