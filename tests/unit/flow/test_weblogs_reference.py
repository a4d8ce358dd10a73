"""The reference pipeline of the web-logs starter: prepare, then group by visitor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from clusterlab.flow.compile import compile_recipe
from clusterlab.flow.prepare import Lookups
from tests.unit.flow.flowkit import recipe, table

GROUPED_COLUMNS = [
    "visitor_id",
    "count",
    "day_distinct",
    "day_of_week_distinct",
    "hour_distinct",
    "session_id_distinct",
    "url_distinct",
    "ip_address_country_first",
    "user_agent_type_first",
    "blog_sum",
    "applications_sum",
    "home_sum",
    "company_sum",
    "products_sum",
    "data-science_sum",
]
SECTIONS = ["blog", "applications", "home", "company", "products", "data-science"]

_COUNTRIES = {
    "2.2.2.2": ("France", "Paris", 48.86, 2.35),
    "3.3.3.3": ("United States", None, 37.75, -97.8),
}


def fake_geoip(ip: str) -> tuple[Any, ...] | None:
    return _COUNTRIES.get(ip)


def fake_user_agent(ua: str) -> tuple[str, str, str]:
    return ("mobile", "Safari", "iOS") if "iPhone" in ua else ("browser", "Chrome", "Windows")


SITE = "http://site.com"
FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile Safari"


def weblogs() -> Any:
    rows = [
        # server_ts, client_addr, visitor_id, session_id, location (on SITE), user_agent
        ("2014-03-03T09:15:00.120Z", "2.2.2.2", "v1", "s1", SITE + "/", FIREFOX),
        ("2014-03-03T09:16:10.000Z", "2.2.2.2", "v1", "s1", SITE + "/blog/a?x=1", FIREFOX),
        ("2014-03-08T21:02:00.000Z", "bad-ip", "v1", "s2", SITE + "/blog/b", FIREFOX),
        ("2014-03-04T10:00:00.000Z", "3.3.3.3", "v2", "s3", SITE + "/products/x", IPHONE),
        ("2014-03-04T10:05:00.000Z", "3.3.3.3", "v2", "s3", SITE + "/data-science/y", IPHONE),
        ("2014-03-05T11:00:00.000Z", "", "v3", "s4", SITE + "/company", FIREFOX),
    ]
    names = ["server_ts", "client_addr", "visitor_id", "session_id", "location", "user_agent"]
    columns: dict[str, list[Any]] = {n: [r[i] for r in rows] for i, n in enumerate(names)}
    for extra in ("br_width", "br_height", "sc_width", "sc_height"):
        columns[extra] = [1024] * len(rows)
    columns["type"] = ["page"] * len(rows)
    return table(**columns)


PREPARE = recipe(
    "prepare",
    ["weblogs"],
    ["weblogs_prepared"],
    steps=[
        {"type": "remove_columns", "columns": ["br_height", "br_width", "sc_width", "sc_height"]},
        {"type": "rename_columns", "mapping": {"client_addr": "ip_address"}},
        {"type": "clear_invalid", "column": "ip_address", "meaning": "ip_address"},
        {"type": "geoip", "column": "ip_address"},
        {"type": "classify_user_agent", "column": "user_agent"},
        {"type": "parse_date", "column": "server_ts", "formats": ["%Y-%m-%dT%H:%M:%S.%f%z"]},
        {
            "type": "extract_date_parts",
            "column": "server_ts_parsed",
            "parts": ["day", "day_of_week", "hour"],
        },
        {"type": "split_url", "column": "location", "parts": ["host", "path", "query"]},
        {"type": "rename_columns", "mapping": {"location_path": "url"}},
        {
            "type": "flag_url_sections",
            "column": "url",
            "sections": {
                "blog": "/blog",
                "applications": "/applications",
                "home": "/",
                "company": "/company",
                "products": "/products",
                "data-science": "/data-science",
            },
        },
    ],
)

GROUP = recipe(
    "group",
    ["weblogs_prepared"],
    ["weblogs_prepared_by_visitor_id"],
    keys=["visitor_id"],
    count=True,
    order_by=["server_ts_parsed"],
    aggregations=[
        *(
            {"column": c, "aggregations": ["distinct"]}
            for c in ["day", "day_of_week", "hour", "session_id", "url"]
        ),
        {"column": "ip_address_country", "aggregations": ["first"]},
        {"column": "user_agent_type", "aggregations": ["first"]},
        *({"column": c, "aggregations": ["sum"]} for c in SECTIONS),
    ],
)


@pytest.fixture(scope="module")
def outputs() -> dict[str, Any]:
    lookups = Lookups(geoip=fake_geoip, user_agent=fake_user_agent)
    prepared = compile_recipe(PREPARE, {"weblogs": weblogs()}, lookups=lookups)
    return {**prepared, **compile_recipe(GROUP, prepared)}


def test_grouped_dataset_has_the_fifteen_reference_columns(outputs: dict[str, Any]) -> None:
    assert list(outputs["weblogs_prepared_by_visitor_id"].columns) == GROUPED_COLUMNS


def test_prepared_dataset_columns(outputs: dict[str, Any]) -> None:
    columns = list(outputs["weblogs_prepared"].columns)
    assert "client_addr" not in columns
    assert "br_width" not in columns
    for name in [
        "ip_address_country",
        "ip_address_city",
        "ip_address_geopoint",
        "user_agent_type",
        "user_agent_brand",
        "user_agent_os",
        "day",
        "day_of_week",
        "hour",
        "url",
        *SECTIONS,
    ]:
        assert name in columns


def test_grouped_values(outputs: dict[str, Any], run: Callable[..., list[dict[str, Any]]]) -> None:
    rows = {r["visitor_id"]: r for r in run(outputs["weblogs_prepared_by_visitor_id"])}
    v1, v2, v3 = rows["v1"], rows["v2"], rows["v3"]
    assert (v1["count"], v1["day_distinct"], v1["session_id_distinct"]) == (3, 2, 2)
    assert v1["day_of_week_distinct"] == 2  # Monday 3rd and Saturday 8th
    assert v1["url_distinct"] == 3
    assert v1["ip_address_country_first"] == "France"  # the cleared bad IP is skipped
    assert (v1["home_sum"], v1["blog_sum"], v1["products_sum"]) == (1, 2, 0)
    assert v2["ip_address_country_first"] == "United States"
    assert v2["user_agent_type_first"] == "mobile"
    assert (v2["products_sum"], v2["data-science_sum"], v2["hour_distinct"]) == (1, 1, 1)
    assert v3["ip_address_country_first"] is None  # empty IP cleared, never resolved
    assert v3["company_sum"] == 1


def test_prepared_rows(outputs: dict[str, Any], run: Callable[..., list[dict[str, Any]]]) -> None:
    rows = run(outputs["weblogs_prepared"].filter(lambda t: t.visitor_id == "v1"))
    assert [r["ip_address"] for r in rows] == ["2.2.2.2", "2.2.2.2", None]
    assert [r["day_of_week"] for r in rows] == [1, 1, 6]
    assert [r["hour"] for r in rows] == [9, 9, 21]
    assert [r["url"] for r in rows] == ["/", "/blog/a", "/blog/b"]
    assert rows[0]["ip_address_geopoint"] == "POINT(2.35 48.86)"
