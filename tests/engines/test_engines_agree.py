"""Every recipe and every prepare processor gives the same output on Spark as on DuckDB.

Each case runs one recipe on the local engine and on Spark (``local[2]``) and compares
the written datasets: column names and order, storage types and meanings in
``schema.json``, and every value (rows sorted, floats within 1e-9). Processors are
grouped into a few prepare recipes by theme so the Spark side stays a handful of jobs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from clusterlab.core.schema import Schema
from clusterlab.engines.base import Engine
from clusterlab.services.build import engine_for
from tests.engines.conftest import RecipeRunner

pytestmark = pytest.mark.spark

LOGS = pd.DataFrame(
    {
        "visitor_id": ["a", "a", "b", "c", "c", "c", "d", "e"],
        "ip": [
            "81.56.10.2",
            "81.56.10.2",
            "8.8.8.8",
            "not an ip",
            "2a01:cb00::1",
            None,
            "10.0.0.1",
            "193.51.224.5",
        ],
        "user_agent": [
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Googlebot/2.1 (+http://www.google.com/bot.html)",
            "curl/8.4.0",
            None,
            "",
            "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
            "Gecko) Chrome/120.0.0.0 Mobile Safari/537.36",
        ],
        "url": [
            "https://shop.example.com/blog/a?utm=x#top",
            "http://shop.example.com:8080/products/x",
            "/",
            "/blog",
            "ftp://files.example.com/pub",
            None,
            "https://example.com",
            "/products/y?id=3",
        ],
        "server_ts": [
            "2024-03-01 10:00:00",
            "2024-03-02T09:30:00+01:00",
            "01/03/2024 08:00",
            "2024-03-03 12:00",
            "garbage",
            None,
            "2024-02-29",
            "2024-03-04 10:00:00.250",
        ],
        "amount": [10.5, None, 3.0, 250.0, -4.25, 0.0, 99.99, 1e6],
        "n": [1, 2, 3, 4, 5, 6, 7, 8],
        "email": ["x@y.com", " fv@if.of\t", None, "a.b@c.org", "", "z@z.io", "q", "p@q.fr"],
        "tags": ["a,b", "b", None, "a,b,c", "", "c,,d", "a", "x,y,z,w"],
        "country": ["France", "Spain", "United States", "France", "France", None, "Germany", ""],
        "flag": [True, False, None, True, True, False, False, True],
    }
)
CRM = pd.DataFrame(
    {
        "visitor_id": ["a", "c", "z", "d"],
        "company": ["Acme", "Initech", "Umbrella", None],
        "seats": [10, 250, 3, 1],
    }
)


def prepare(name: str, *steps: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "type": "prepare",
        "inputs": ["logs"],
        "outputs": ["out"],
        "params": {"steps": list(steps)},
    }


RECIPES: dict[str, dict[str, Any]] = {
    "prepare_columns": prepare(
        "columns",
        {"type": "rename_columns", "mapping": {"n": "views"}},
        {"type": "formula", "output": "double", "expression": "views * 2 + 0.5"},
        {
            "type": "formula",
            "output": "label",
            "expression": 'if(views > 3, upper(visitor_id), concat("v-", visitor_id))',
        },
        {"type": "formula", "output": "ratio", "expression": "round(amount / views, 2)"},
        {"type": "cast", "column": "views", "to": "string"},
        {
            "type": "concat_columns",
            "columns": ["visitor_id", "country"],
            "output": "vc",
            "separator": "|",
        },
        {"type": "split_column", "column": "tags", "delimiter": ",", "max_parts": 3},
        {"type": "upper", "columns": ["country"]},
        {"type": "trim", "columns": ["email"]},
        {"type": "reorder_columns", "columns": ["label"], "position": "start"},
        {"type": "remove_columns", "columns": ["user_agent"]},
        {
            "type": "keep_columns",
            "columns": [
                "label",
                "views",
                "double",
                "ratio",
                "vc",
                "tags_1",
                "tags_2",
                "tags_0",
                "country",
                "email",
                "flag",
            ],
        },
    ),
    "prepare_cleaning": prepare(
        "cleaning",
        {"type": "clear_invalid", "column": "ip", "meaning": "ip_address"},
        {"type": "clear_invalid", "column": "email", "meaning": "email"},
        {"type": "clear_invalid", "column": "url", "meaning": "url"},
        {"type": "fill_empty", "columns": ["country"], "value": "unknown"},
        {"type": "bin_numbers", "column": "amount", "width": 50},
        {"type": "bin_numbers", "column": "n", "edges": [2, 4, 6], "output": "n_bin"},
        {
            "type": "filter_rows",
            "by": "values",
            "column": "visitor_id",
            "values": ["e"],
            "action": "remove",
        },
        {"type": "filter_rows", "by": "range", "column": "n", "min": 1, "max": 7},
        {"type": "filter_rows", "by": "formula", "formula": "n != 4"},
    ),
    "prepare_dates": prepare(
        "dates",
        {"type": "parse_date", "column": "server_ts"},
        {
            "type": "parse_date",
            "column": "server_ts",
            "output": "day_first",
            "formats": ["%d/%m/%Y %H:%M", "%Y-%m-%d"],
        },
        {
            "type": "extract_date_parts",
            "column": "server_ts_parsed",
            "parts": ["year", "month", "day", "day_of_week", "hour"],
        },
    ),
    "prepare_web": prepare(
        "web",
        {
            "type": "geoip",
            "column": "ip",
            "outputs": ["country", "city", "geopoint", "latitude", "longitude"],
        },
        {"type": "classify_user_agent", "column": "user_agent", "prefix": "ua"},
        {
            "type": "split_url",
            "column": "url",
            "parts": ["scheme", "host", "port", "path", "query", "fragment"],
        },
        {
            "type": "flag_url_sections",
            "column": "url_path",
            "sections": {"blog": "/blog", "products": "/products", "home": "/"},
        },
    ),
    "group_all_aggregations": {
        "name": "g",
        "type": "group",
        "inputs": ["logs"],
        "outputs": ["out"],
        "params": {
            "keys": ["visitor_id"],
            "order_by": ["n"],
            "pre_filter": "n != 8",
            "post_filter": "count >= 1",
            "aggregations": [
                {
                    "column": "amount",
                    "aggregations": ["sum", "min", "max", "avg", "std", "median", "count"],
                },
                {
                    "column": "country",
                    "aggregations": ["first", "last", "distinct", "concat_distinct"],
                },
                {"column": "flag", "aggregations": ["sum", "first", "last"]},
                {"column": "ip", "aggregations": ["first", "last"]},
            ],
        },
    },
    "group_two_keys_no_order": {
        "name": "g2",
        "type": "group",
        "inputs": ["logs"],
        "outputs": ["out"],
        "params": {
            "keys": ["country", "flag"],
            "aggregations": [{"column": "n", "aggregations": ["sum", "max"]}],
        },
    },
    "split_values": {
        "name": "s",
        "type": "split",
        "inputs": ["logs"],
        "outputs": ["fr", "us", "rest"],
        "params": {
            "mode": "values",
            "column": "country",
            "mapping": {"France": "fr", "United States": "us"},
            "remaining": "rest",
        },
    },
    "split_filter": {
        "name": "sf",
        "type": "split",
        "inputs": ["logs"],
        "outputs": ["big", "small"],
        "params": {
            "mode": "filter",
            "formula": "amount > 50",
            "filter_output": "big",
            "remaining": "small",
        },
    },
}
for _how in ("inner", "left", "right", "outer"):
    RECIPES[f"join_{_how}"] = {
        "name": f"j_{_how}",
        "type": "join",
        "inputs": ["logs", "crm"],
        "outputs": ["out"],
        "params": {"how": _how, "on": [{"left": "visitor_id", "right": "visitor_id"}]},
    }
for _columns in ("union", "intersection"):
    RECIPES[f"stack_{_columns}"] = {
        "name": f"st_{_columns}",
        "type": "stack",
        "inputs": ["logs", "crm"],
        "outputs": ["out"],
        "params": {"columns": _columns, "origin_column": "origin"},
    }


def canonical(frame: pd.DataFrame) -> list[tuple[Any, ...]]:
    """Rows as tuples in a sorted order that does not depend on the engine."""
    rows = []
    for row in frame.itertuples(index=False):
        values = []
        for v in row:
            if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT:
                values.append(None)
            elif isinstance(v, pd.Timestamp):
                values.append(v.to_pydatetime())
            elif hasattr(v, "item"):
                values.append(v.item())
            else:
                values.append(v)
        rows.append(tuple(values))
    return sorted(rows, key=lambda r: [(x is None, str(x)) for x in r])


def assert_same_rows(left: pd.DataFrame, right: pd.DataFrame, what: str) -> None:
    assert left.columns.tolist() == right.columns.tolist(), what
    assert len(left) == len(right), what
    for a, b in zip(canonical(left), canonical(right), strict=True):
        for col, x, y in zip(left.columns, a, b, strict=True):
            if isinstance(x, float) and isinstance(y, float):
                assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-9), (what, col, a, b)
            else:
                assert x == y, (what, col, a, b)


def run_on(
    engine: Engine, root: Path, recipe: dict[str, Any]
) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The outputs of ``recipe`` on ``engine``, and the lines it logged."""
    runner = RecipeRunner(engine, root)
    frames = {"logs": LOGS, "crm": CRM}
    outputs = runner(recipe, **{name: frames[name] for name in recipe["inputs"]})
    return outputs, runner.log


@pytest.mark.parametrize("case", sorted(RECIPES))
def test_spark_output_equals_local(case: str, spark_engine: Engine, tmp_path: Path) -> None:
    recipe = RECIPES[case]
    local, local_log = run_on(engine_for("local"), tmp_path / "local", recipe)
    spark, spark_log = run_on(spark_engine, tmp_path / "spark", recipe)
    for name in recipe["outputs"]:
        assert len(local[name]) > 0, f"{case}: the local engine wrote no rows to {name}"
        assert_same_rows(local[name], spark[name], f"{case} -> {name}")
        local_schema = read_schema(tmp_path / "local" / "out" / name)
        spark_schema = read_schema(tmp_path / "spark" / "out" / name)
        assert spark_schema == local_schema, f"{case} -> {name}: schema differs"
    # The diagnostics (unparsed dates, unknown addresses) are the same counts.
    assert [m for m in spark_log if " wrote " not in m] == [
        m for m in local_log if " wrote " not in m
    ]


def read_schema(folder: Path) -> Schema:
    return Schema.model_validate_json((folder / "schema.json").read_text(encoding="utf-8"))
