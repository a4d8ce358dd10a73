"""The join recipe: join types, key columns, clashing names, selections, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import pytest

from clusterlab.flow.common import ColumnNotFoundError, RecipeError
from clusterlab.flow.join import compile_join
from tests.unit.flow.flowkit import recipe, table

Run = Callable[[ibis.Table], list[dict[str, Any]]]

CRM = table(visitor_id=["a", "b", "c"], company=["X", "Y", "Z"], country=["FR", "US", "DE"])
SEG = table(
    visitor_id=["a", "b", "d"], cluster_labels=["FR", "Engaged", "US"], country=["F", "U", "D"]
)


def join(**params: Any) -> ibis.Table:
    spec = recipe("join", ["crm", "seg"], ["out"], **params)
    return compile_join(spec, {"crm": CRM, "seg": SEG})["out"]


ON = [{"left": "visitor_id", "right": "visitor_id"}]


@pytest.mark.parametrize(
    ("how", "ids"),
    [
        ("inner", ["a", "b"]),
        ("left", ["a", "b", "c"]),
        ("right", ["a", "b", "d"]),
        ("outer", ["a", "b", "c", "d"]),
    ],
)
def test_join_types_keep_one_key_column(how: str, ids: list[str], run: Run) -> None:
    out = join(how=how, on=ON)
    assert list(out.columns) == [
        "visitor_id",
        "company",
        "country",
        "cluster_labels",
        "seg_country",
    ]
    rows = sorted(run(out), key=lambda r: r["visitor_id"])
    assert [r["visitor_id"] for r in rows] == ids
    by_id = {r["visitor_id"]: r for r in rows}
    assert (by_id["a"]["company"], by_id["a"]["cluster_labels"], by_id["a"]["seg_country"]) == (
        "X",
        "FR",
        "F",
    )


def test_selected_columns_and_prefix(run: Run) -> None:
    out = join(
        how="inner",
        on=ON,
        left_columns=["visitor_id", "country"],
        right_columns=["country", "cluster_labels"],
        right_prefix="s_",
    )
    assert list(out.columns) == ["visitor_id", "country", "s_country", "cluster_labels"]
    assert len(run(out)) == 2


def test_keys_with_different_names_are_both_kept(run: Run) -> None:
    right = SEG.rename(vid="visitor_id")
    spec = recipe(
        "join",
        ["crm", "seg"],
        ["out"],
        how="left",
        on=[{"left": "visitor_id", "right": "vid"}, {"left": "country", "right": "country"}],
    )
    out = compile_join(spec, {"crm": CRM, "seg": right})["out"]
    assert list(out.columns) == ["visitor_id", "company", "country", "vid", "cluster_labels"]
    assert all(r["vid"] is None for r in run(out))  # no row has both keys equal


def test_errors() -> None:
    with pytest.raises(ColumnNotFoundError, match=r"Recipe r \(join\): there is no column 'id'"):
        join(on=[{"left": "id", "right": "visitor_id"}])
    spec = recipe("join", ["crm", "seg"], ["out"], on=[{"left": "visitor_id", "right": "n"}])
    with pytest.raises(RecipeError, match="cannot join 'visitor_id' \\(string\\) with 'n'"):
        compile_join(spec, {"crm": CRM, "seg": table(n=[1])})
    with pytest.raises(RecipeError, match="would be called 'country', which is taken"):
        join(on=ON, right_prefix="")
