"""The split, stack and sync recipes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import pytest

from clusterlab.flow.common import RecipeError
from clusterlab.flow.compile import compile_recipe
from clusterlab.flow.formula import FormulaError
from tests.unit.flow.flowkit import recipe, table

Run = Callable[[ibis.Table], list[dict[str, Any]]]

SEGMENTED = table(
    visitor_id=["a", "b", "c", "d", "e"],
    cluster_labels=["FR visitors", "Prospects", "Engaged", None, "Prospects"],
    count=[3, 8, 40, 1, 2],
)


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return sorted(r["visitor_id"] for r in rows)


def test_split_by_values(run: Run) -> None:
    spec = recipe(
        "split",
        ["seg"],
        ["marketing", "sales", "rest"],
        mode="values",
        column="cluster_labels",
        mapping={"FR visitors": "marketing", "Prospects": "sales", "Engaged": "sales"},
        remaining="rest",
    )
    out = compile_recipe(spec, {"seg": SEGMENTED})
    assert list(out) == ["marketing", "sales", "rest"]
    assert ids(run(out["marketing"])) == ["a"]
    assert ids(run(out["sales"])) == ["b", "c", "e"]
    assert ids(run(out["rest"])) == ["d"]


def test_split_by_numbers_compares_their_text(run: Run) -> None:
    spec = recipe(
        "split", ["seg"], ["three"], mode="values", column="count", mapping={"3": "three"}
    )
    assert ids(run(compile_recipe(spec, {"seg": SEGMENTED})["three"])) == ["a"]


def test_split_by_filter_drops_the_rest_without_remaining(run: Run) -> None:
    spec = recipe(
        "split", ["seg"], ["big"], mode="filter", formula="count >= 3", filter_output="big"
    )
    assert ids(run(compile_recipe(spec, {"seg": SEGMENTED})["big"])) == ["a", "b", "c"]


def test_random_split_is_deterministic(run: Run) -> None:
    spec = recipe(
        "split", ["seg"], ["x", "y"], mode="random", ratios={"x": 0.5}, remaining="y", seed=7
    )
    first = {k: ids(run(v)) for k, v in compile_recipe(spec, {"seg": SEGMENTED}).items()}
    again = {k: ids(run(v)) for k, v in compile_recipe(spec, {"seg": SEGMENTED}).items()}
    assert first == again
    assert sorted(first["x"] + first["y"]) == ["a", "b", "c", "d", "e"]


def test_split_errors() -> None:
    spec = recipe("split", ["seg"], ["x"], mode="filter", formula="count + 1", filter_output="x")
    with pytest.raises(FormulaError, match=r"Recipe r \(split\), filter"):
        compile_recipe(spec, {"seg": SEGMENTED})


def test_stack_by_name_with_origin(run: Run) -> None:
    a = table(x=[1, 2], y=["p", "q"])
    b = table(y=["r"], x=[2.5], z=[True])
    spec = recipe("stack", ["a", "b"], ["ab"], origin_column="origin")
    out = compile_recipe(spec, {"a": a, "b": b})["ab"]
    assert list(out.columns) == ["x", "y", "z", "origin"]
    assert out["x"].type().is_floating()
    rows = sorted(run(out), key=lambda r: r["x"])
    assert rows == [
        {"x": 1.0, "y": "p", "z": None, "origin": "a"},
        {"x": 2.0, "y": "q", "z": None, "origin": "a"},
        {"x": 2.5, "y": "r", "z": True, "origin": "b"},
    ]
    inter = recipe("stack", ["a", "b"], ["ab"], columns="intersection")
    assert list(compile_recipe(inter, {"a": a, "b": b})["ab"].columns) == ["x", "y"]


def test_stack_mixed_types_fall_back_to_text(run: Run) -> None:
    spec = recipe("stack", ["a", "b"], ["ab"])
    out = compile_recipe(spec, {"a": table(v=[1]), "b": table(v=["one"])})["ab"]
    assert sorted(r["v"] for r in run(out)) == ["1", "one"]


def test_stack_errors() -> None:
    spec = recipe("stack", ["a", "b"], ["ab"], columns="intersection")
    with pytest.raises(RecipeError, match="no column in common"):
        compile_recipe(spec, {"a": table(x=[1]), "b": table(y=[1])})
    spec = recipe("stack", ["a"], ["ab"], origin_column="x")
    with pytest.raises(RecipeError, match="origin column 'x' is already an input column"):
        compile_recipe(spec, {"a": table(x=[1])})


def test_sync_copies(run: Run) -> None:
    spec = recipe("sync", ["seg"], ["copy"])
    out = compile_recipe(spec, {"seg": SEGMENTED})["copy"]
    assert run(out) == run(SEGMENTED)
