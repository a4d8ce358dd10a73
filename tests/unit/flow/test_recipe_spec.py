"""Recipe specs: validation, defaults, JSON round trip and error messages."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.recipes import (
    BinNumbers,
    GroupSpec,
    ParseDate,
    PrepareSpec,
    RecipeSpec,
    SplitSpec,
    parse_recipe,
)

ALL_STEPS: list[dict[str, Any]] = [
    {"type": "remove_columns", "columns": ["a"]},
    {"type": "keep_columns", "columns": ["a", "b"]},
    {"type": "rename_columns", "mapping": {"a": "b"}},
    {"type": "reorder_columns", "columns": ["a"], "position": "after", "anchor": "b"},
    {"type": "clear_invalid", "column": "ip", "meaning": "ip_address"},
    {"type": "fill_empty", "columns": ["a"], "value": 0},
    {"type": "filter_rows", "by": "values", "column": "a", "values": ["x", 1]},
    {"type": "filter_rows", "by": "range", "column": "a", "min": 1, "action": "remove"},
    {"type": "filter_rows", "by": "formula", "formula": "a > 1"},
    {"type": "formula", "output": "c", "expression": "a + 1", "comment": "why"},
    {"type": "cast", "column": "a", "to": "integer", "enabled": False},
    {"type": "parse_date", "column": "ts", "formats": ["%Y-%m-%d"]},
    {"type": "extract_date_parts", "column": "ts", "parts": ["day", "hour"], "prefix": "ts_"},
    {"type": "geoip", "column": "ip", "outputs": ["country"]},
    {"type": "classify_user_agent", "column": "ua"},
    {"type": "split_url", "column": "u", "parts": ["path"]},
    {"type": "flag_url_sections", "column": "p", "sections": {"home": "/", "blog": "/blog"}},
    {"type": "split_column", "column": "a", "delimiter": ",", "max_parts": 3},
    {"type": "concat_columns", "columns": ["a", "b"], "output": "ab", "separator": "-"},
    {"type": "lower", "columns": ["a"]},
    {"type": "upper", "columns": ["a"]},
    {"type": "trim", "columns": ["a"]},
    {"type": "bin_numbers", "column": "a", "width": 10},
    {"type": "bin_numbers", "column": "a", "edges": [0, 10, 100]},
]


def envelope(kind: str, params: Any, inputs: Any = ("a",), outputs: Any = ("b",)) -> dict[str, Any]:
    return {
        "name": "r",
        "type": kind,
        "inputs": list(inputs),
        "outputs": list(outputs),
        "params": params,
    }


def test_every_step_type_validates_and_round_trips_through_json() -> None:
    spec = parse_recipe(envelope("prepare", {"steps": ALL_STEPS}))
    assert isinstance(spec.params, PrepareSpec)
    assert [s.type for s in spec.params.steps] == [s["type"] for s in ALL_STEPS]
    assert RecipeSpec.model_validate_json(spec.model_dump_json()) == spec
    assert spec.params.steps[10].enabled is False
    assert spec.params.steps[9].comment == "why"


def test_params_type_comes_from_the_envelope() -> None:
    assert parse_recipe(envelope("sync", None)).params.type == "sync"
    stack = parse_recipe(envelope("stack", {"origin_column": "o"}, inputs=["a", "c"]))
    assert stack.params.type == "stack"


def test_specs_are_frozen() -> None:
    spec = parse_recipe(envelope("sync", None))
    with pytest.raises(ValidationError):
        spec.name = "other"  # type: ignore[misc]


def test_defaults() -> None:
    assert ParseDate(column="ts").output_column == "ts_parsed"
    assert BinNumbers(column="x", width=5).output_column == "x_bin"
    group = GroupSpec(keys=["k"], aggregations=[{"column": "v", "aggregations": ["sum", "first"]}])
    assert group.output_columns == ["k", "count", "v_sum", "v_first"]


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        (envelope("prepare", {"steps": [{"type": "nope"}]}), ["steps → 0", "nope"]),
        (
            envelope(
                "prepare",
                {
                    "steps": [
                        ALL_STEPS[0],
                        {"type": "clear_invalid", "column": "x", "meaning": "zip"},
                    ]
                },
            ),
            ["steps → 1 → clear_invalid → meaning"],
        ),
        (envelope("prepare", {"steps": [{"type": "remove_columns", "columns": []}]}), ["columns"]),
        (
            envelope("prepare", {"steps": [{"type": "remove_columns", "columns": ["a", "a"]}]}),
            ["'a' is listed twice"],
        ),
        (
            envelope(
                "prepare",
                {"steps": [{"type": "remove_columns", "columns": ["a"], "colums": ["b"]}]},
            ),
            ["colums", "Extra inputs"],
        ),
        (
            envelope(
                "prepare", {"steps": [{"type": "filter_rows", "by": "values", "column": "a"}]}
            ),
            ["needs 'column' and a non-empty 'values'"],
        ),
        (
            envelope(
                "prepare", {"steps": [{"type": "bin_numbers", "column": "a", "edges": [3, 1]}]}
            ),
            ["strictly increasing"],
        ),
        (
            envelope(
                "prepare", {"steps": [{"type": "rename_columns", "mapping": {"a": "c", "b": "c"}}]}
            ),
            ["'c'"],
        ),
        (
            envelope(
                "prepare",
                {
                    "steps": [
                        {"type": "flag_url_sections", "column": "u", "sections": {"blog": "blog"}}
                    ]
                },
            ),
            ["start with '/'"],
        ),
        (envelope("group", {"keys": ["count"]}), ["same name", "'count'"]),
        (envelope("join", {"on": [{"left": "a", "right": "a"}]}), ["exactly 2 inputs, got 1"]),
        (envelope("sync", {"type": "group", "keys": ["k"]}), ["sync recipe cannot have group"]),
        (envelope("sync", None, outputs=["a"]), ["both an input and an output"]),
        (
            {"name": "bad/name", "type": "sync", "inputs": ["a"], "outputs": ["b"]},
            ["Invalid recipe name"],
        ),
    ],
)
def test_invalid_recipes_say_what_and_where(data: dict[str, Any], fragments: list[str]) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_recipe(data)
    message = str(info.value)
    assert message.startswith("Invalid recipe")
    for fragment in fragments:
        assert fragment in message


SPLIT = {"mode": "values", "column": "plan", "mapping": {"pro": "sales"}}


@pytest.mark.parametrize(
    ("params", "outputs", "fragment"),
    [
        ({**SPLIT}, ["sales", "others"], "receive no rows"),
        ({**SPLIT, "remaining": "rest"}, ["sales"], "not outputs"),
        ({**SPLIT, "remaining": "sales"}, ["sales"], "both a rule output and 'remaining'"),
        ({"mode": "random", "ratios": {"a": 0.7, "b": 0.6}}, ["a", "b"], "add up to 1.3"),
        ({"mode": "filter", "formula": "x > 1"}, ["a"], "'filter_output'"),
    ],
)
def test_split_outputs_are_checked(
    params: dict[str, Any], outputs: list[str], fragment: str
) -> None:
    with pytest.raises(InvalidInputError, match=fragment):
        parse_recipe(envelope("split", params, outputs=outputs))


def test_split_targets_in_first_seen_order() -> None:
    spec = SplitSpec(mode="values", column="c", mapping={"1": "b", "2": "a", "3": "b"})
    assert spec.targets == ["b", "a"]
