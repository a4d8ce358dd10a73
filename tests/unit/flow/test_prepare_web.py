"""Web-log steps: GeoIP and user agents through injected lookups, URLs, site sections."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import pytest

from clusterlab.flow.prepare import Lookups, apply_steps
from clusterlab.flow.processors.web import default_geoip_lookup, default_user_agent_lookup
from tests.unit.flow.flowkit import column, prepare, table

Run = Callable[[ibis.Table], list[dict[str, Any]]]

CALLS: list[str] = []


def geo(ip: str) -> tuple[Any, ...] | None:
    CALLS.append(ip)
    if ip == "boom":
        raise ValueError("not an address")
    return {"2.2.2.2": ("France", "Paris", 48.86, 2.35), "8.8.8.8": ("United States",)}.get(ip)


def agent(ua: str) -> tuple[str, str, str] | None:
    return ("mobile", "Safari", "iOS") if "iPhone" in ua else None


LOOKUPS = Lookups(geoip=geo, user_agent=agent)


def test_geoip_outputs_and_unknown_addresses(run: Run) -> None:
    CALLS.clear()
    data = table(ip=["2.2.2.2", "8.8.8.8", "10.0.0.1", "", None, "boom", "2.2.2.2"])
    out = apply_steps(data, prepare({"type": "geoip", "column": "ip"}).steps, lookups=LOOKUPS)
    assert out.columns == ("ip", "ip_country", "ip_city", "ip_geopoint")
    rows = run(out)
    assert column(rows, "ip_country") == [
        "France",
        "United States",
        None,
        None,
        None,
        None,
        "France",
    ]
    assert column(rows, "ip_city") == ["Paris", None, None, None, None, None, "Paris"]
    assert column(rows, "ip_geopoint")[:2] == ["POINT(2.35 48.86)", None]
    assert CALLS.count("2.2.2.2") == 1  # each distinct value is looked up once per batch
    assert "" not in CALLS


def test_geoip_chosen_outputs_and_prefix(run: Run) -> None:
    step = {"type": "geoip", "column": "ip", "prefix": "geo", "outputs": ["latitude", "country"]}
    out = apply_steps(table(ip=["2.2.2.2"]), prepare(step).steps, lookups=LOOKUPS)
    assert out.columns == ("ip", "geo_latitude", "geo_country")
    assert run(out) == [{"ip": "2.2.2.2", "geo_latitude": 48.86, "geo_country": "France"}]


def test_classify_user_agent(run: Run) -> None:
    data = table(user_agent=["Mozilla (iPhone)", "curl", None])
    step = {"type": "classify_user_agent", "column": "user_agent"}
    out = apply_steps(data, prepare(step).steps, lookups=LOOKUPS)
    assert out.columns[1:] == ("user_agent_type", "user_agent_brand", "user_agent_os")
    rows = run(out)
    assert rows[0] == {
        "user_agent": "Mozilla (iPhone)",
        "user_agent_type": "mobile",
        "user_agent_brand": "Safari",
        "user_agent_os": "iOS",
    }
    assert column(rows, "user_agent_type")[1:] == [None, None]


def test_two_lookup_steps_in_one_recipe_use_their_own_functions(run: Run) -> None:
    data = table(a=["2.2.2.2"], b=["8.8.8.8"])
    other = Lookups(geoip=lambda ip: ("Elsewhere", None, None, None))
    first = apply_steps(
        data,
        prepare({"type": "geoip", "column": "a", "outputs": ["country"]}).steps,
        lookups=LOOKUPS,
    )
    both = apply_steps(
        first,
        prepare({"type": "geoip", "column": "b", "outputs": ["country"]}).steps,
        lookups=other,
    )
    assert run(both)[0] == {
        "a": "2.2.2.2",
        "b": "8.8.8.8",
        "a_country": "France",
        "b_country": "Elsewhere",
    }


def test_default_lookups_are_resolved_lazily() -> None:
    assert Lookups().resolve_geoip() is default_geoip_lookup
    assert Lookups().resolve_user_agent() is default_user_agent_lookup
    # Building the expression does not import or open anything.
    apply_steps(table(ip=["1.1.1.1"]), prepare({"type": "geoip", "column": "ip"}).steps)


URLS = [
    "https://www.site.com:8443/blog/post-1?utm=x&y=2#top",
    "http://site.com",
    "http://user:pw@site.com/products/",
    "/data-science/intro",
    "",
    None,
]


def test_split_url(run: Run) -> None:
    step = {
        "type": "split_url",
        "column": "u",
        "parts": ["scheme", "host", "port", "path", "query", "fragment"],
    }
    rows = run(apply_steps(table(u=URLS), prepare(step).steps))
    parts = [
        [r[f"u_{p}"] for p in ("scheme", "host", "port", "path", "query", "fragment")] for r in rows
    ]
    assert parts == [
        ["https", "www.site.com", 8443, "/blog/post-1", "utm=x&y=2", "top"],
        ["http", "site.com", None, "/", None, None],
        ["http", "site.com", None, "/products/", None, None],
        [None, None, None, "/data-science/intro", None, None],
        [None, None, None, None, None, None],
        [None, None, None, None, None, None],
    ]


def test_split_url_prefix() -> None:
    step = {"type": "split_url", "column": "u", "parts": ["path"], "prefix": "url"}
    assert apply_steps(table(u=URLS), prepare(step).steps).columns == ("u", "url_path")


@pytest.mark.parametrize(
    ("path", "blog", "home"),
    [
        ("/", 0, 1),
        ("/blog", 1, 0),
        ("/blog/", 1, 0),
        ("/blog/x/y", 1, 0),
        ("/blogger", 0, 0),
        ("/x/blog", 0, 0),
        ("", 0, 0),
        (None, 0, 0),
        (" / ", 0, 1),
    ],
)
def test_flag_url_sections(path: str | None, blog: int, home: int, run: Run) -> None:
    step = {"type": "flag_url_sections", "column": "p", "sections": {"blog": "/blog/", "home": "/"}}
    rows = run(apply_steps(table(p=[path, "/"]), prepare(step).steps))
    assert (rows[0]["blog"], rows[0]["home"]) == (blog, home)
