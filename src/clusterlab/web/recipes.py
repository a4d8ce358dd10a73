"""What the recipe editors need besides the recipe: the processor list and previews."""

from __future__ import annotations

import inspect
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.recipes import Step, parse_recipe
from clusterlab.services.build import engine_for, input_data
from clusterlab.services.project import Project
from clusterlab.web.serialize import plain

PREVIEW_ROWS = 50
# A starting point per recipe type for the "new recipe" form; the user fills it in.
PARAM_SKELETONS: dict[str, dict[str, Any]] = {
    "prepare": {"steps": []},
    "group": {"keys": [], "count": True, "aggregations": []},
    "join": {"how": "left", "on": [{"left": "", "right": ""}]},
    "split": {"mode": "filter", "formula": "", "filter_output": "", "remaining": ""},
    "sync": {},
    "stack": {"columns": "union"},
}


def _step_classes() -> list[type[BaseModel]]:
    union = typing.get_args(Step)[0]
    return [c for c in typing.get_args(union) if isinstance(c, type)]


def _blank(annotation: Any) -> Any:
    text = str(annotation)
    if "dict" in text:
        return {}
    if "list" in text or "tuple" in text:
        return []
    if "str" in text:
        return ""
    if "bool" in text:
        return False
    return ""


def processors() -> list[dict[str, Any]]:
    """Every prepare processor: its type, one-line description and a step to start from.

    Examples
    --------
    >>> any(p["type"] == "rename_columns" for p in processors())
    True
    """
    found = []
    for cls in _step_classes():
        literal = cls.model_fields["type"].annotation
        doc = (
            inspect.cleandoc(cls.__doc__ or "")
            .split("\n\n")[0]
            .replace("\n", " ")
            .replace("``", "")
        )
        for kind in typing.get_args(literal):
            step: dict[str, Any] = {"type": kind}
            for name, info in cls.model_fields.items():
                if name != "type" and info.is_required():
                    step[name] = _blank(info.annotation)
            found.append({"type": kind, "description": doc, "template": step})
    return sorted(found, key=lambda p: p["type"])


def preview_recipe(
    project: Project, data: dict[str, Any], upto_step: int | None = None
) -> dict[str, Any]:
    """Run a (possibly unsaved) recipe on its inputs' first rows: outputs' first rows.

    Returns ``{output: {"columns", "rows"}}``; the recipe is validated first, and an
    input without data is reported with what to do.
    """
    try:
        spec = parse_recipe(data)
    except ValidationError as exc:  # parse_recipe raises InvalidInputError; kept as a guard
        raise InvalidInputError(str(exc)) from None
    inputs = {name: input_data(project, name, spec.name) for name in spec.inputs}
    tables = engine_for("local").preview(spec, inputs, upto_step=upto_step, limit=PREVIEW_ROWS)
    return {
        name: {
            "columns": table.column_names,
            "rows": [[plain(v) for v in row.values()] for row in table.to_pylist()],
        }
        for name, table in tables.items()
    }
