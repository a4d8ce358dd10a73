"""Builders shared by the recipe tests (imported as a plain module)."""

from __future__ import annotations

from typing import Any

import ibis
import pyarrow as pa

from clusterlab.core.recipes import PrepareSpec, RecipeSpec, parse_recipe


def table(**columns: Any) -> ibis.Table:
    """A memtable from columns given as lists or Arrow arrays (Arrow infers the types)."""
    return ibis.memtable(pa.table(columns))


def prepare(*steps: dict[str, Any]) -> PrepareSpec:
    """A prepare spec from step dicts."""
    return PrepareSpec.model_validate({"steps": list(steps)})


def recipe(kind: str, inputs: list[str], outputs: list[str], **params: Any) -> RecipeSpec:
    """A recipe envelope of type ``kind`` named ``r``."""
    return parse_recipe(
        {"name": "r", "type": kind, "inputs": inputs, "outputs": outputs, "params": params}
    )


def column(rows: list[dict[str, Any]], name: str) -> list[Any]:
    """One column of executed rows."""
    return [row[name] for row in rows]
