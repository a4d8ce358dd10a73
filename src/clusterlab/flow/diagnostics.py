"""Counts a build logs after a prepare recipe: cells a step could not make sense of.

They are evaluated on the recipe's written output, so they cost one scan of a few
columns and never change the result; steps whose columns a later step removed are
not counted.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from clusterlab.core.recipes import GeoIP, ParseDate, PrepareSpec, RecipeSpec
from clusterlab.flow.processors.dates import count_unparsed


def prepare_checks(recipe: RecipeSpec, output: ibis.Table) -> list[tuple[str, ir.IntegerScalar]]:
    """``(message template with {n}, count expression)`` for each checkable step.

    Examples
    --------
    >>> spec = RecipeSpec.model_validate({"name": "p", "type": "prepare", "inputs": ["a"],
    ...     "outputs": ["b"], "params": {"steps": [{"type": "parse_date", "column": "ts"}]}})
    >>> out = ibis.memtable({"ts": ["2024-01-02", "junk"], "ts_parsed": ["2024-01-02", None]})
    >>> [(m, e.execute()) for m, e in prepare_checks(spec, out)]
    [('{n} cells of ts could not be parsed as dates and were left empty in ts_parsed', 1)]
    """
    if not isinstance(recipe.params, PrepareSpec):
        return []
    columns = set(output.columns)
    checks: list[tuple[str, ir.IntegerScalar]] = []
    for step in recipe.params.steps:
        if not step.enabled:
            continue
        if isinstance(step, ParseDate) and {step.column, step.output_column} <= columns:
            message = (
                f"{{n}} cells of {step.column} could not be parsed as dates and were left "
                f"empty in {step.output_column}"
            )
            checks.append((message, count_unparsed(output, step.column, step.output_column)))
        elif isinstance(step, GeoIP) and "country" in step.outputs:
            country = f"{step.prefix or step.column}_country"
            if {step.column, country} <= columns:
                message = (
                    f"{{n}} addresses of {step.column} are unknown to the GeoIP database "
                    f"(empty {country})"
                )
                checks.append((message, count_unparsed(output, step.column, country)))
    return checks
