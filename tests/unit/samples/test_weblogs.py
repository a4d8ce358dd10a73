"""The starter project's generated web logs and CRM: shape, realism, latent segments."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from clusterlab.flow.geoip import GeoIP, is_valid_ip
from clusterlab.flow.useragent import classify
from clusterlab.samples import weblogs_catalog as cat
from clusterlab.samples.crm import CHANNELS, CRM_COLUMNS, generate_crm
from clusterlab.samples.weblogs import (
    COLUMNS,
    DEFAULT_START,
    SEGMENTS,
    SITE,
    generate_weblogs,
    weblogs_visitors,
)

SECTION_PREFIXES = ("/", "/blog/", "/applications/", "/company/", "/products/", "/data-science/")


@pytest.fixture(scope="module")
def logs() -> pd.DataFrame:
    return generate_weblogs()


@pytest.fixture(scope="module")
def truth() -> pd.DataFrame:
    return weblogs_visitors().set_index("visitor_id")


@pytest.fixture(scope="module")
def per_visitor(logs: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """A pandas stand-in for the starter Flow's prepare and group recipes."""
    ts = pd.to_datetime(logs["server_ts"], format="ISO8601")
    path = logs["location"].str.removeprefix(SITE).str.split("?").str[0]
    frame = pd.DataFrame(
        {
            "visitor_id": logs["visitor_id"],
            "day": ts.dt.date,
            "session_id": logs["session_id"],
            "products": path.str.startswith("/products/"),
        }
    )
    grouped = frame.groupby("visitor_id").agg(
        count=("day", "size"),
        day_distinct=("day", "nunique"),
        session_id_distinct=("session_id", "nunique"),
        products_sum=("products", "sum"),
    )
    first = logs.drop_duplicates("visitor_id").set_index("visitor_id")["client_addr"]
    grouped["country_first"] = GeoIP().lookup_many(first.reindex(grouped.index))["country"]
    return grouped.join(truth)


def test_columns_and_default_size(logs: pd.DataFrame) -> None:
    assert tuple(logs.columns) == COLUMNS
    assert len(logs) >= 200_000
    assert logs["visitor_id"].nunique() == 20_000
    assert (logs["type"] == "page").all()
    for column in ("client_ts", "br_width", "br_height", "sc_width", "sc_height", "tz_off"):
        assert pd.api.types.is_integer_dtype(logs[column]), column
    assert (logs["br_width"] <= logs["sc_width"]).all()
    assert (logs["br_height"] < logs["sc_height"]).all()


def test_same_seed_same_rows_other_seed_other_rows() -> None:
    first = generate_weblogs(visitors=400, seed=3)
    pd.testing.assert_frame_equal(first, generate_weblogs(visitors=400, seed=3))
    other = generate_weblogs(visitors=400, seed=4)
    assert not first["visitor_id"].isin(other["visitor_id"]).any()
    pd.testing.assert_frame_equal(
        weblogs_visitors(400, seed=3)[["visitor_id"]].sort_values("visitor_id", ignore_index=True),
        first[["visitor_id"]].drop_duplicates().sort_values("visitor_id", ignore_index=True),
    )


def test_page_view_target_scales_the_visitors() -> None:
    logs = generate_weblogs(page_views=60_000, seed=5)
    assert 0.95 * 60_000 <= len(logs) <= 1.05 * 60_000


def test_two_months_with_weekly_and_daily_rhythm(logs: pd.DataFrame) -> None:
    ts = pd.to_datetime(logs["server_ts"], format="ISO8601")
    assert logs["server_ts"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z").all()
    assert ts.is_monotonic_increasing
    start = pd.Timestamp(DEFAULT_START, tz="UTC")
    assert start - timedelta(days=1) <= ts.min() < start + timedelta(days=1)
    assert start + timedelta(days=59) < ts.max() <= start + timedelta(days=62)
    per_day = ts.dt.floor("D").value_counts()
    weekend = per_day[per_day.index.day_of_week >= 5].mean()
    weekdays = per_day[per_day.index.day_of_week < 5].mean()
    assert weekdays > 1.6 * weekend
    per_hour = ts.dt.hour.value_counts()
    assert per_hour[10] > 3 * per_hour[3]  # mornings in Europe, night everywhere
    skew = logs["client_ts"] - (ts - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)
    assert (skew.abs() < 10_000).mean() > 0.9


def test_sessions_urls_and_referers(logs: pd.DataFrame) -> None:
    views = logs.groupby("session_id").size()
    assert views.mean() > 2
    assert (views >= 5).sum() > 1000
    assert logs["location"].str.startswith(SITE + "/").all()
    paths = logs["location"].str.removeprefix(SITE)
    assert paths.str.startswith(SECTION_PREFIXES).all()
    for prefix in SECTION_PREFIXES[1:]:
        assert paths.str.startswith(prefix).mean() > 0.02, prefix
    # Inside a session, a page's referer is the page viewed before it.
    session = logs[logs["session_id"] == views[views >= 5].index[0]]
    assert session["referer"].iloc[1:].tolist() == session["location"].iloc[:-1].tolist()
    assert not session["referer"].iloc[0].startswith(SITE)


def test_a_few_addresses_are_malformed_or_empty(logs: pd.DataFrame) -> None:
    bad = logs["client_addr"].isin(cat.BAD_ADDRESSES)
    assert 0.001 < bad.mean() < 0.01
    assert (logs["client_addr"] == "").any()
    invalid = ~logs["client_addr"].map(is_valid_ip)
    assert invalid.any()
    assert invalid.sum() < bad.sum()  # private addresses are valid, just unknown


def test_catalogue_blocks_resolve_to_their_country() -> None:
    addresses, countries = [], []
    for country in cat.COUNTRIES:
        for block in country.blocks.split():
            network = ipaddress.IPv4Network(block)
            step = max(1, network.num_addresses // 16)
            for offset in [*range(1, network.num_addresses, step), network.num_addresses - 2]:
                addresses.append(str(network[offset]))
                countries.append(country.name)
    found = GeoIP().lookup_many(addresses)["country"]
    assert found.tolist() == countries


def test_addresses_resolve_to_each_visitors_country(
    logs: pd.DataFrame, truth: pd.DataFrame
) -> None:
    rows = logs[~logs["client_addr"].isin(cat.BAD_ADDRESSES)]
    pairs = rows[["visitor_id", "client_addr"]].drop_duplicates()
    found = GeoIP().lookup_many(pairs["client_addr"])["country"]
    expected = truth.loc[pairs["visitor_id"], "country"]
    assert found.tolist() == expected.tolist()


def test_user_agents_are_real_browsers_phones_and_crawlers(logs: pd.DataFrame) -> None:
    for templates, kind in (
        (cat.DESKTOP_UAS, "browser"),
        (cat.MOBILE_UAS, "mobile"),
        (cat.CRAWLER_UAS, "bot"),
    ):
        for _, template, versions in templates:
            for version in versions.split() or [""]:
                ua = template.format(v=version, w=version.replace("_", "."))
                assert classify(ua).type == kind, ua
    types = logs["user_agent"].drop_duplicates().map(lambda ua: classify(ua).type)
    assert set(types) == {"browser", "mobile", "bot"}


def test_latent_segments_show_per_visitor(per_visitor: pd.DataFrame) -> None:
    g = per_visitor
    assert set(g["segment"]) == set(SEGMENTS)
    assert 0.40 < (g["country_first"] == "France").mean() < 0.55
    assert 0.18 < (g["country_first"] == "United States").mean() < 0.32
    assert (g.loc[g["segment"] == "fr_visitors", "country_first"] == "France").mean() > 0.98
    by_segment = g.groupby("segment").mean(numeric_only=True)
    assert by_segment.loc["engaged", "count"] > 4 * g["count"].mean()
    assert by_segment.loc["recurrent", "day_distinct"] > 10
    days = by_segment["day_distinct"]
    assert days["recurrent"] > 5 * days["infrequent"]
    prospects = g[g["segment"] == "prospects"]
    assert prospects["products_sum"].sum() > 0.5 * prospects["count"].sum()
    assert prospects["country_first"].isin(["France", "United States"]).mean() < 0.02
    one_visit = g["session_id_distinct"] == 1
    assert one_visit.mean() > 0.5
    assert (g.loc[g["segment"] == "infrequent", "session_id_distinct"] == 1).mean() > 0.85


def test_crm_is_a_weighted_subset_of_visitors(logs: pd.DataFrame, truth: pd.DataFrame) -> None:
    crm = generate_crm(logs["visitor_id"], seed=42)
    assert tuple(crm.columns) == CRM_COLUMNS
    assert len(crm) == round(0.08 * 20_000)
    assert crm["visitor_id"].is_unique
    assert crm["customer_id"].is_unique
    assert crm["visitor_id"].isin(logs["visitor_id"]).all()
    assert set(crm["channel"]) == set(CHANNELS)
    assert (crm["last_contact"] >= crm["signup_date"]).all()
    assert (crm.loc[crm["plan"] == "Free", "lifetime_revenue"] == 0).all()
    segments = truth.loc[crm["visitor_id"], "segment"].value_counts(normalize=True)
    # Visitors who viewed more pages are more likely to be known accounts.
    assert segments["engaged"] > 2 * (truth["segment"] == "engaged").mean()
    shuffled = logs["visitor_id"].sample(frac=1.0, random_state=np.random.default_rng(0))
    pd.testing.assert_frame_equal(crm, generate_crm(shuffled.to_numpy(), seed=42))
