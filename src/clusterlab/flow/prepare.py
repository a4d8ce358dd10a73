"""The prepare recipe: its steps, applied in order, as one Ibis expression.

`apply_steps` is the core; `compile_prepare` wraps it for a `RecipeSpec`. Previews
(the DSS "script" view, showing the table after step *n*) call ``apply_steps`` with
``upto_step=n`` and execute the result on a sample; `trace_steps` gives the columns
after each step and the first failing step, for the step list of the UI.

Errors name the step as users see it, 1-based: ``Step 3 (clear_invalid): there is no
column 'ip'...``. Every `ClusterLabError` raised by a step also carries the 0-based
``step_index`` attribute, so a UI can highlight the step.

Examples
--------
>>> import ibis
>>> from clusterlab.core.recipes import PrepareSpec
>>> spec = PrepareSpec.model_validate({"steps": [
...     {"type": "rename_columns", "mapping": {"client_addr": "ip_address"}},
...     {"type": "clear_invalid", "column": "ip_address", "meaning": "ip_address"},
... ]})
>>> t = ibis.memtable({"client_addr": ["1.2.3.4", "oops"]})
>>> apply_steps(t, spec.steps).to_pyarrow()["ip_address"].to_pylist()
['1.2.3.4', None]
>>> apply_steps(t, spec.steps, upto_step=1).columns
('ip_address',)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ibis

from clusterlab.core.errors import ClusterLabError, InvalidInputError
from clusterlab.core.recipes import ClassifyUserAgent, GeoIP, PrepareSpec, RecipeSpec, Step
from clusterlab.flow.common import one_input
from clusterlab.flow.processors import cleaning, columns, dates, web
from clusterlab.flow.processors.web import Lookups

__all__ = ["Lookups", "StepOutcome", "apply_steps", "compile_prepare", "step_label", "trace_steps"]

_Processor = Callable[[ibis.Table, Any, str], ibis.Table]
_PROCESSORS: dict[str, _Processor] = {
    "remove_columns": columns.remove_columns,
    "keep_columns": columns.keep_columns,
    "rename_columns": columns.rename_columns,
    "reorder_columns": columns.reorder_columns,
    "formula": columns.formula,
    "cast": columns.cast,
    "concat_columns": columns.concat_columns,
    "split_column": columns.split_column,
    "lower": columns.transform_text,
    "upper": columns.transform_text,
    "trim": columns.transform_text,
    "clear_invalid": cleaning.clear_invalid,
    "fill_empty": cleaning.fill_empty,
    "filter_rows": cleaning.filter_rows,
    "bin_numbers": cleaning.bin_numbers,
    "parse_date": dates.parse_date,
    "extract_date_parts": dates.extract_date_parts,
    "split_url": web.split_url,
    "flag_url_sections": web.flag_url_sections,
}


def step_label(index: int, step: Step) -> str:
    """How messages name a step: ``step 3 (clear_invalid)`` for index 2."""
    return f"step {index + 1} ({step.type})"


def apply_step(table: ibis.Table, step: Step, index: int, lookups: Lookups) -> ibis.Table:
    """Apply one (enabled) step; errors name the step and carry ``step_index``."""
    where = step_label(index, step)
    try:
        if isinstance(step, GeoIP):
            return web.geoip(table, step, where, lookups.resolve_geoip())
        if isinstance(step, ClassifyUserAgent):
            return web.classify_user_agent(table, step, where, lookups.resolve_user_agent())
        return _PROCESSORS[step.type](table, step, where)
    except ClusterLabError as exc:
        exc.step_index = index  # type: ignore[attr-defined]
        raise


def apply_steps(
    table: ibis.Table,
    steps: Sequence[Step],
    *,
    upto_step: int | None = None,
    lookups: Lookups | None = None,
) -> ibis.Table:
    """Apply prepare ``steps`` to ``table``, skipping disabled ones.

    Parameters
    ----------
    table : ibis.Table
        The recipe's input.
    steps : sequence of Step
        The steps, in order.
    upto_step : int, optional
        Apply only the first ``upto_step`` steps (``0`` returns the input): the table
        a preview shows after step number ``upto_step`` (1-based). ``None``: all steps.
    lookups : Lookups, optional
        GeoIP and user-agent lookups; defaults resolved when a step needs them.

    Raises
    ------
    ClusterLabError
        The first failing step's error, naming the step (with ``step_index`` set).
    """
    count = len(steps) if upto_step is None else upto_step
    if not 0 <= count <= len(steps):
        raise InvalidInputError(
            f"upto_step={upto_step} is out of range: this recipe has {len(steps)} steps."
        )
    lookups = lookups or Lookups()
    for index, step in enumerate(steps[:count]):
        if step.enabled:
            table = apply_step(table, step, index, lookups)
    return table


@dataclass(frozen=True)
class StepOutcome:
    """One step of `trace_steps`: the columns after it, or the error it raised."""

    index: int
    type: str
    enabled: bool
    columns: tuple[str, ...] | None
    error: ClusterLabError | None = None


def trace_steps(
    table: ibis.Table, steps: Sequence[Step], *, lookups: Lookups | None = None
) -> list[StepOutcome]:
    """Build the steps one by one without executing anything.

    Returns one outcome per step up to and including the first failing one, so a UI
    can list each step's output columns and flag the broken step.
    """
    lookups = lookups or Lookups()
    outcomes: list[StepOutcome] = []
    for index, step in enumerate(steps):
        if step.enabled:
            try:
                table = apply_step(table, step, index, lookups)
            except ClusterLabError as exc:
                outcomes.append(StepOutcome(index, step.type, True, None, exc))
                break
        outcomes.append(StepOutcome(index, step.type, step.enabled, tuple(table.columns)))
    return outcomes


def compile_prepare(
    recipe: RecipeSpec,
    inputs: Mapping[str, ibis.Table],
    *,
    upto_step: int | None = None,
    lookups: Lookups | None = None,
) -> dict[str, ibis.Table]:
    """Compile a prepare recipe: ``{output name: table}``.

    See `apply_steps` for ``upto_step`` (previews) and ``lookups``.
    """
    params = recipe.params
    if not isinstance(params, PrepareSpec):
        raise InvalidInputError(f"Recipe {recipe.name} is a {recipe.type} recipe, not prepare.")
    table = one_input(recipe, inputs)
    try:
        out = apply_steps(table, params.steps, upto_step=upto_step, lookups=lookups)
    except ClusterLabError as exc:
        message = str(exc.args[0]) if exc.args else ""
        exc.args = (f"Recipe {recipe.name}, {message[:1].lower()}{message[1:]}",)
        raise
    return {recipe.outputs[0]: out}
