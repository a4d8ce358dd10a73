"""GeoIP and user-agent lookups against the bundled database and rules."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterlab.core.errors import InvalidInputError, NotFoundError
from clusterlab.flow.geoip import GeoIP, GeoResult, default_database_path, is_valid_ip
from clusterlab.flow.useragent import UAResult, classify, classify_many

UNKNOWN = GeoResult(None, None, None, None)
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"
)
ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture(scope="module")
def geo() -> GeoIP:
    return GeoIP()


@pytest.mark.parametrize(
    ("ip", "country", "city"),
    [
        ("2.2.2.2", "France", "Paris"),
        ("90.0.0.1", "France", "Amiens"),
        ("8.8.8.8", "United States", "Mountain View"),
        ("81.2.69.160", "United Kingdom", "London"),
        ("1.1.1.1", "Australia", "Sydney"),
        ("2a01:cb00::1", "France", "Gravelines"),
        ("::ffff:2.2.2.2", "France", "Paris"),
    ],
)
def test_known_addresses_resolve(geo: GeoIP, ip: str, country: str, city: str) -> None:
    found = geo.lookup(ip)
    assert (found.country, found.city) == (country, city)
    assert isinstance(found.latitude, float)
    assert isinstance(found.longitude, float)


@pytest.mark.parametrize(
    "ip",
    [None, "", " 2.2.2.2", "unknown", "-", "999.1.1.1", "1.2.3", "01.2.3.4", "10.1.2.3",
     "192.168.0.12", "127.0.0.1", "2001:db8::zz", "0.0.0.0"],
)  # fmt: skip
def test_unknown_private_and_invalid_addresses_give_all_none(geo: GeoIP, ip: str | None) -> None:
    assert geo.lookup(ip) == UNKNOWN
    assert geo.lookup_many([ip]).iloc[0].isna().all()


def test_lookup_many_matches_lookup_and_keeps_the_index(geo: GeoIP) -> None:
    values = pd.Series(
        ["2.2.2.2", None, "8.8.8.8", "x", "2.2.2.2", "2a01:cb00::1"], index=list("abcdef")
    )
    frame = geo.lookup_many(values)
    assert list(frame.columns) == list(GeoResult._fields)
    assert list(frame.index) == list("abcdef")
    for key, ip in values.items():
        expected = geo.lookup(ip)
        row = frame.loc[key]
        got = tuple(None if pd.isna(x) else x for x in row)
        assert got == tuple(expected)


def test_lookup_many_of_repeated_values(geo: GeoIP) -> None:
    distinct = [f"90.{i // 250}.{i % 250}.7" for i in range(1000)]
    values = [distinct[(i * 7919) % 1000] for i in range(100_000)]
    frame = geo.lookup_many(values)
    assert len(frame) == 100_000
    assert set(frame["country"]) == {"France"}
    expected = {ip: geo.lookup(ip).city for ip in distinct}
    assert frame["city"].tolist() == [expected[ip] for ip in values]


def test_lookup_many_of_nothing(geo: GeoIP) -> None:
    frame = geo.lookup_many([])
    assert frame.empty
    assert list(frame.columns) == list(GeoResult._fields)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.ip_addresses(), min_size=1, max_size=40))
def test_vectorised_and_single_lookups_agree(addresses: list[object]) -> None:
    geo = GeoIP()
    texts = [str(a) for a in addresses]
    frame = geo.lookup_many(texts)
    for text, row in zip(texts, frame.itertuples(index=False), strict=True):
        assert is_valid_ip(text)
        got = tuple(None if pd.isna(x) else x for x in row)
        assert got == tuple(geo.lookup(text))


def test_reader_agrees_with_the_maxminddb_package(geo: GeoIP) -> None:
    maxminddb = pytest.importorskip("maxminddb")
    reference = maxminddb.open_database(str(default_database_path()))
    addresses = [str(ipaddress.IPv4Address((i * 2654435761) % 2**32)) for i in range(1500)]
    frame = geo.lookup_many(addresses)
    for ip, country, city in zip(addresses, frame["country"], frame["city"], strict=True):
        record = reference.get(ip) or {}
        assert (country if isinstance(country, str) else None) == record.get("country", {}).get(
            "names", {}
        ).get("en")
        assert (city if isinstance(city, str) else None) == record.get("city", {}).get(
            "names", {}
        ).get("en")


def test_database_opens_lazily_and_once_per_process(tmp_path: Path) -> None:
    assert GeoIP().database is GeoIP(default_database_path()).database
    missing = GeoIP(tmp_path / "missing.mmdb")  # nothing is opened yet
    with pytest.raises(NotFoundError, match=r"missing\.mmdb"):
        missing.lookup("2.2.2.2")
    bad = tmp_path / "bad.mmdb"
    bad.write_bytes(b"not a database" * 10)
    with pytest.raises(InvalidInputError, match="not a MaxMind DB"):
        GeoIP(bad).lookup("2.2.2.2")


def test_database_info(geo: GeoIP) -> None:
    info = geo.info()
    assert info["database_type"] == "DBIP-City-Lite"
    assert info["build_epoch"] > 1_600_000_000


@pytest.mark.parametrize(
    ("ua", "expected"),
    [
        (CHROME_WINDOWS, UAResult("browser", "Chrome", "Windows")),
        (IPHONE_SAFARI, UAResult("mobile", "Safari", "iOS")),
        (ANDROID_CHROME, UAResult("mobile", "Chrome", "Android")),
        (GOOGLEBOT, UAResult("bot", "Googlebot", None)),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/17.4.1 Safari/605.1.15",
            UAResult("browser", "Safari", "Mac OS X"),
        ),
        (
            CHROME_WINDOWS + " Edg/124.0.2478.51",
            UAResult("browser", "Edge", "Windows"),
        ),
        (
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
            UAResult("browser", "Firefox", "Linux"),
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; CUBOT X30) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Mobile Safari/537.36",
            UAResult("mobile", "Chrome", "Android"),
        ),
        ("curl/8.4.0", UAResult("bot", "curl", None)),
        ("python-requests/2.31.0", UAResult("bot", "Python Requests", None)),
        ("", UAResult(None, None, None)),
        (None, UAResult(None, None, None)),
        ("definitely not a browser", UAResult(None, None, None)),
    ],
)
def test_user_agents_are_classified(ua: str | None, expected: UAResult) -> None:
    assert classify(ua) == expected


def test_classify_many_keeps_order_index_and_missing_values() -> None:
    values = pd.Series([GOOGLEBOT, None, IPHONE_SAFARI, GOOGLEBOT], index=[10, 11, 12, 13])
    frame = classify_many(values)
    assert list(frame.columns) == ["type", "brand", "os"]
    assert list(frame.index) == [10, 11, 12, 13]
    assert frame["type"].tolist() == ["bot", None, "mobile", "bot"]
    assert frame["os"].tolist() == [None, None, "iOS", None]


def test_classify_many_of_repeated_values() -> None:
    distinct = [CHROME_WINDOWS.replace("124.0.0.0", f"124.0.{i}.0") for i in range(1000)]
    frame = classify_many([distinct[i % 1000] for i in range(100_000)])
    assert len(frame) == 100_000
    assert set(frame["brand"]) == {"Chrome"}
    assert set(frame["type"]) == {"browser"}
