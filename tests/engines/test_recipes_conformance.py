"""Every visual recipe gives the same results on every engine, checked against pandas."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.engines.conftest import RecipeRunner


@pytest.fixture
def views() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "visitor_id": ["a", "a", "b", "c", "c", "c", "d"],
            "ts": pd.to_datetime(
                [
                    "2024-03-01 10:00",
                    "2024-03-02 09:00",
                    "2024-03-01 08:00",
                    "2024-03-03 12:00",
                    "2024-03-01 07:00",
                    "2024-03-02 11:00",
                    "2024-03-04 10:00",
                ]
            ),
            "country": ["France", "Spain", "United States", "France", "France", None, "Germany"],
            "n": [1, 2, 3, 4, 5, 6, 7],
            "url": ["/", "/blog/a", "/", "/products/x", "/blog/a", "/blog/b", "/"],
        }
    )


def sort(frame: pd.DataFrame, *keys: str) -> pd.DataFrame:
    return frame.sort_values(list(keys)).reset_index(drop=True)


def test_group(run: RecipeRunner, views: pd.DataFrame) -> None:
    recipe = {
        "name": "g",
        "type": "group",
        "inputs": ["views"],
        "outputs": ["out"],
        "params": {
            "keys": ["visitor_id"],
            "order_by": ["ts"],
            "aggregations": [
                {"column": "n", "aggregations": ["sum", "min", "max", "avg"]},
                {"column": "url", "aggregations": ["distinct"]},
                {"column": "country", "aggregations": ["first", "last"]},
            ],
        },
    }
    out = sort(run(recipe, views=views)["out"], "visitor_id")
    ordered = views.sort_values("ts")
    grouped = ordered.groupby("visitor_id")
    expected = pd.DataFrame(
        {
            "visitor_id": ["a", "b", "c", "d"],
            "count": grouped.size().to_list(),
            "n_sum": grouped["n"].sum().to_list(),
            "n_min": grouped["n"].min().to_list(),
            "n_max": grouped["n"].max().to_list(),
            "n_avg": grouped["n"].mean().to_list(),
            "url_distinct": grouped["url"].nunique().to_list(),
            "country_first": grouped["country"].first().to_list(),
            "country_last": grouped["country"].last().to_list(),
        }
    )
    assert out.columns.tolist() == expected.columns.tolist()
    for column in expected.columns:
        assert out[column].tolist() == expected[column].tolist(), column


def test_join(run: RecipeRunner, views: pd.DataFrame) -> None:
    crm = pd.DataFrame({"visitor_id": ["a", "c", "z"], "company": ["Acme", "Initech", "Umbrella"]})
    for how, expected_ids in {
        "inner": ["a", "a", "c", "c", "c"],
        "left": ["a", "a", "b", "c", "c", "c", "d"],
    }.items():
        recipe = {
            "name": f"j_{how}",
            "type": "join",
            "inputs": ["views", "crm"],
            "outputs": ["out"],
            "params": {"how": how, "on": [{"left": "visitor_id", "right": "visitor_id"}]},
        }
        out = sort(
            run.__class__(run.engine, run.root / how)(recipe, views=views, crm=crm)["out"],
            "visitor_id",
            "n",
        )
        assert out["visitor_id"].tolist() == expected_ids
        assert out.loc[out["visitor_id"] == "c", "company"].unique().tolist() == ["Initech"]


def test_split_partitions_rows(run: RecipeRunner, views: pd.DataFrame) -> None:
    recipe = {
        "name": "s",
        "type": "split",
        "inputs": ["views"],
        "outputs": ["fr", "us", "rest"],
        "params": {
            "mode": "values",
            "column": "country",
            "mapping": {"France": "fr", "United States": "us"},
            "remaining": "rest",
        },
    }
    out = run(recipe, views=views)
    assert sorted(out["fr"]["n"]) == [1, 4, 5]
    assert sorted(out["us"]["n"]) == [3]
    assert sorted(out["rest"]["n"]) == [2, 6, 7]


def test_sync_and_stack(run: RecipeRunner, views: pd.DataFrame) -> None:
    synced = run(
        {"name": "c", "type": "sync", "inputs": ["views"], "outputs": ["copy"]}, views=views
    )
    assert synced["copy"]["n"].tolist() == views["n"].tolist()
    other = views.head(2)
    stacked = run.__class__(run.engine, run.root / "stack")(
        {"name": "st", "type": "stack", "inputs": ["views", "more"], "outputs": ["all"]},
        views=views,
        more=other,
    )
    assert len(stacked["all"]) == len(views) + 2


def test_prepare(run: RecipeRunner, views: pd.DataFrame) -> None:
    recipe = {
        "name": "p",
        "type": "prepare",
        "inputs": ["views"],
        "outputs": ["out"],
        "params": {
            "steps": [
                {"type": "rename_columns", "mapping": {"n": "views"}},
                {"type": "formula", "output": "double", "expression": "views * 2"},
                {
                    "type": "flag_url_sections",
                    "column": "url",
                    "sections": {"blog": "/blog", "home": "/"},
                },
                {"type": "extract_date_parts", "column": "ts", "parts": ["day", "hour"]},
                {"type": "fill_empty", "columns": ["country"], "value": "unknown"},
                {"type": "remove_columns", "columns": ["visitor_id"], "enabled": False},
            ]
        },
    }
    out = run(recipe, views=views)["out"]
    assert out["double"].tolist() == [2 * v for v in views["n"]]
    assert out["blog"].tolist() == [0, 1, 0, 0, 1, 1, 0]
    assert out["home"].tolist() == [1, 0, 1, 0, 0, 0, 1]
    assert out["day"].tolist() == views["ts"].dt.day.tolist()
    assert out["hour"].tolist() == views["ts"].dt.hour.tolist()
    assert out["country"].tolist()[5] == "unknown"
    assert "visitor_id" in out.columns
