"""Meaning detection: what a column's values are, from a sample of them."""

from __future__ import annotations

import ipaddress
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clusterlab.core.meanings import MEANING_THRESHOLD, detect_meaning, is_valid_for_meaning
from clusterlab.core.schema import Meaning, StorageType

S = StorageType.STRING

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Opera/9.80 (Windows NT 6.1; U; en) Presto/2.10.289 Version/12.00",
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.31.0",
    "okhttp/4.12.0",
    "Googlebot-Image/1.0",
    "Dalvik/2.1.0 (Linux; U; Android 13; SM-S918B Build/TP1A.220624.014)",
]


@pytest.mark.parametrize(
    ("values", "meaning"),
    [
        (["10.0.0.1", "192.168.1.20", "2001:db8::1", "::1", "fe80::1%eth0"], Meaning.IP_ADDRESS),
        (["ann@example.com", "bob.smith+tag@mail.co.uk", "zoé@exemple.fr"], Meaning.EMAIL),
        (
            ["https://www.example.com/", "http://a.io/blog/post?x=1#top", "ftp://files.org"],
            Meaning.URL,
        ),
        (USER_AGENTS, Meaning.USER_AGENT),
        (["France", "FR", "DEU", "united states", "Côte d’Ivoire", "The Gambia"], Meaning.COUNTRY),
        (["US", "GB", "FR", "DE", "JP", "UK"], Meaning.COUNTRY),
        (
            ["2024-01-31", "31/01/2024", "2024-01-31T10:00:00Z", "Jan 31 2024", "31.01.2024"],
            Meaning.DATE,
        ),
        (["2024-01-31 10:00:00", "2024-02-01 23:59:59.123+02:00"], Meaning.DATE),
        (["Wed, 31 Jan 2024 10:00:00 +0000", "31/Jan/2024:10:00:00 +0000"], Meaning.DATE),
        (["1", "-2", "+30", "0042"], Meaning.INTEGER),
        (["1.5", "2", "-3.25e4", ".5"], Meaning.DECIMAL),
        (["1,5", "2,25", "3"], Meaning.DECIMAL),
        (["true", "false", "TRUE", "no", "yes"], Meaning.BOOLEAN),
        (["true", "false", "1", "0"], Meaning.BOOLEAN),
        (["hello world", "foo", "bar baz"], Meaning.TEXT),
    ],
)
def test_detects_each_meaning_on_string_columns(values: list[str], meaning: Meaning) -> None:
    assert detect_meaning(values, S) is meaning


def test_zero_and_one_as_text_are_integers_not_booleans() -> None:
    assert detect_meaning(["0", "1", "1", "0"], S) is Meaning.INTEGER


def test_empty_sample_is_text() -> None:
    assert detect_meaning([], S) is Meaning.TEXT
    assert detect_meaning([None, "", "   "], S) is Meaning.TEXT


def test_nulls_and_blanks_do_not_count_against_a_meaning() -> None:
    values = ["10.0.0.1", None, "", " ", "10.0.0.2"] * 10
    assert detect_meaning(values, S) is Meaning.IP_ADDRESS


def test_threshold_is_ninety_percent_of_non_empty_values() -> None:
    assert MEANING_THRESHOLD == 0.9
    at_threshold = ["10.0.0.1"] * 9 + ["garbage"]
    below = ["10.0.0.1"] * 8 + ["garbage"] * 2
    assert detect_meaning(at_threshold, S) is Meaning.IP_ADDRESS
    assert detect_meaning(below, S) is Meaning.TEXT
    # The weblogs sample has a few malformed IPs: the column is still an IP column.
    assert detect_meaning(["1.2.3.4"] * 95 + ["-", "unknown", "", "999.1.1.1"], S) is (
        Meaning.IP_ADDRESS
    )


@pytest.mark.parametrize(
    ("storage", "meaning"),
    [
        (StorageType.INTEGER, Meaning.INTEGER),
        (StorageType.DECIMAL, Meaning.DECIMAL),
        (StorageType.BOOLEAN, Meaning.BOOLEAN),
        (StorageType.DATE, Meaning.DATE),
        (StorageType.TIMESTAMP, Meaning.DATE),
    ],
)
def test_typed_storage_decides_the_meaning(storage: StorageType, meaning: Meaning) -> None:
    assert detect_meaning(["1", "0"], storage) is meaning
    assert detect_meaning([], storage) is meaning


def test_integer_columns_are_never_dates_or_countries() -> None:
    assert detect_meaning(["20240131", "20240201"], StorageType.INTEGER) is Meaning.INTEGER
    # As text, an 8-digit number is still a number before it is a compact date.
    assert detect_meaning(["20240131", "20240201"], S) is Meaning.INTEGER


def test_lower_case_short_words_are_not_country_codes() -> None:
    assert detect_meaning(["no", "in", "and", "can", "is"], S) is Meaning.TEXT
    assert detect_meaning(["NO", "IN", "AND", "CAN", "IS"], S) is Meaning.COUNTRY


def test_text_that_merely_contains_a_meaning_is_text() -> None:
    assert detect_meaning(["see http://a.io", "mail me: a@b.co"], S) is Meaning.TEXT
    assert detect_meaning(["TCP/IP", "and/or", "a/1"], S) is Meaning.TEXT
    assert detect_meaning(["1.2.24", "3.10.1"], S) is Meaning.TEXT  # versions, not dates


@pytest.mark.parametrize(
    ("value", "meaning", "valid"),
    [
        ("8.8.8.8", Meaning.IP_ADDRESS, True),
        (" 8.8.8.8 ", Meaning.IP_ADDRESS, True),
        ("256.1.1.1", Meaning.IP_ADDRESS, False),
        ("01.2.3.4", Meaning.IP_ADDRESS, False),
        ("", Meaning.IP_ADDRESS, False),
        ("2001:db8::ff00:42:8329", Meaning.IP_ADDRESS, True),
        ("x@localhost", Meaning.EMAIL, False),
        ("a..b@example.com", Meaning.EMAIL, False),
        ("http://", Meaning.URL, False),
        ("www.example.com", Meaning.URL, False),
        ("2024-02-29", Meaning.DATE, True),
        ("2023-02-29", Meaning.DATE, False),
        ("13/13/2024", Meaning.DATE, False),
        ("12/31/2024", Meaning.DATE, True),
        ("2024-01-31 24:61", Meaning.DATE, False),
        ("Wednesday, January 31st, 2024", Meaning.DATE, True),
        ("Wed Jan 31 10:00:00 2024", Meaning.DATE, True),
        ("y", Meaning.BOOLEAN, True),
        ("1", Meaning.BOOLEAN, True),
        ("2", Meaning.BOOLEAN, False),
        ("1.0", Meaning.INTEGER, False),
        ("1e3", Meaning.DECIMAL, True),
        ("1,234,567", Meaning.DECIMAL, False),
        ("FRA", Meaning.COUNTRY, True),
        ("Fra", Meaning.COUNTRY, False),
        ("Deutschland", Meaning.COUNTRY, True),
        ("St Kitts & Nevis", Meaning.COUNTRY, True),
        ("Atlantis", Meaning.COUNTRY, False),
        ("anything at all", Meaning.TEXT, True),
        ("", Meaning.TEXT, True),
    ],
)
def test_is_valid_for_meaning(value: str, meaning: Meaning, valid: bool) -> None:
    assert is_valid_for_meaning(value, meaning) is valid


@pytest.mark.parametrize("ua", USER_AGENTS)
def test_every_sample_user_agent_is_valid(ua: str) -> None:
    assert is_valid_for_meaning(ua, Meaning.USER_AGENT)


@given(st.lists(st.ip_addresses(v=4), min_size=1, max_size=50))
def test_any_ipv4_list_is_an_ip_column(ips: list[ipaddress.IPv4Address]) -> None:
    assert detect_meaning([str(ip) for ip in ips], S) is Meaning.IP_ADDRESS


@given(st.lists(st.ip_addresses(v=6), min_size=1, max_size=50))
def test_any_ipv6_list_is_an_ip_column(ips: list[ipaddress.IPv6Address]) -> None:
    assert detect_meaning([str(ip) for ip in ips], S) is Meaning.IP_ADDRESS


@given(st.lists(st.integers(), min_size=1, max_size=50))
def test_any_list_of_integers_is_an_integer_column(numbers: list[int]) -> None:
    assert detect_meaning([str(n) for n in numbers], S) is Meaning.INTEGER


# Built fractional rather than filtered: most random floats are integers (large
# exponents), and filtering them out made Hypothesis's health check fail at random.
FRACTIONAL = st.one_of(
    st.builds(
        lambda whole, part: whole + part, st.integers(-(10**9), 10**9), st.floats(0.001, 0.999)
    ),
    st.floats(min_value=1e-300, max_value=0.999),
    st.floats(min_value=-0.999, max_value=-1e-300),
)


@given(st.lists(FRACTIONAL, min_size=1, max_size=50))
def test_any_list_of_fractional_floats_is_a_decimal_column(numbers: list[float]) -> None:
    assert detect_meaning([repr(n) for n in numbers], S) is Meaning.DECIMAL


@given(st.lists(st.datetimes(), min_size=1, max_size=30), st.sampled_from(["T", " "]))
def test_any_iso_timestamp_list_is_a_date_column(stamps: list[datetime], sep: str) -> None:
    values = [s.isoformat(sep=sep) for s in stamps]
    assert detect_meaning(values, S) is Meaning.DATE


@given(st.lists(st.dates(), min_size=1, max_size=30))
def test_any_iso_date_list_is_a_date_column(days: list[date]) -> None:
    assert detect_meaning([d.isoformat() for d in days], S) is Meaning.DATE


@given(st.emails())
def test_generated_emails_are_valid(email: str) -> None:
    # hypothesis draws RFC 5321 addresses; ours is the everyday subset, so only check
    # the ones without quoting or IP-literal domains.
    if '"' not in email and "[" not in email and ".." not in email:
        local, domain = email.rsplit("@", 1)
        if not local.startswith(".") and not local.endswith(".") and "." in domain:
            tld = domain.rsplit(".", 1)[1]
            if tld.isalpha():
                assert is_valid_for_meaning(email, Meaning.EMAIL)


@given(st.text(max_size=40))
def test_is_valid_never_raises(value: str) -> None:
    for meaning in Meaning:
        assert isinstance(is_valid_for_meaning(value, meaning), bool)


@given(st.lists(st.one_of(st.none(), st.text(max_size=20)), max_size=30))
def test_detect_never_raises_on_arbitrary_text(values: list[str | None]) -> None:
    assert detect_meaning(values, S) in set(Meaning)


def test_detection_agrees_with_validity() -> None:
    # The processor that clears invalid cells must keep exactly what detection counted.
    values = ["1.2.3.4", "5.6.7.8", "bad", "::1"] * 5
    valid = [v for v in values if is_valid_for_meaning(v, Meaning.IP_ADDRESS)]
    assert len(valid) == 15
    assert detect_meaning(valid, S) is Meaning.IP_ADDRESS
