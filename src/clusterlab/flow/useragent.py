"""User agent → type (browser, mobile or bot), browser brand and operating system.

Parsing relies on ``ua-parser`` with the ``ua-parser-builtins`` rules (the uap-core rule
set, released monthly) and the ``ua-parser-rs`` native matcher, which parses about
50,000 distinct strings per second where the pure-Python matcher manages about 1,000.
Results are cached per distinct string because a log repeats a few thousand user
agents over millions of rows.

Names are simplified the way an analyst groups them: "Mobile Safari" and "Chrome
Mobile iOS" become "Safari" and "Chrome" (the type already says *mobile*), and Linux
distributions become "Linux".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal, NamedTuple

import pandas as pd
import ua_parser

__all__ = ["UAResult", "UAType", "classify", "classify_many"]

UAType = Literal["browser", "mobile", "bot"]


class UAResult(NamedTuple):
    """What a user agent string says about its client; all ``None`` when unknown."""

    type: UAType | None
    brand: str | None
    os: str | None


_UNKNOWN = UAResult(None, None, None)

# Automated clients that the rules file does not tag as "Spider" devices (HTTP libraries,
# command-line tools, headless browsers, monitoring) are bots too for web analytics.
# Plain substring tests: one case-insensitive regex alternation ran at 5,000 strings/s.
# fmt: off
_BOT_TOKENS = (
    "bot/", "crawl", "spider", "slurp", "scrapy", "curl/", "wget/", "python-", "python/",
    "java/", "okhttp", "go-http-client", "libwww", "httpclient", "headless", "phantomjs",
    "lighthouse", "pingdom", "uptime", "monitor", "facebookexternalhit", "feedfetcher",
)
# fmt: on
_BOT_WORD = re.compile(r"\bbot\b")  # "bot" alone, not inside a phone name like "CUBOT"


def _looks_automated(ua: str) -> bool:
    lower = ua.lower()
    return any(token in lower for token in _BOT_TOKENS) or _BOT_WORD.search(lower) is not None


_MOBILE_OS = frozenset(
    {"iOS", "iPadOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Firefox OS"}
    | {"Symbian OS", "Tizen", "HarmonyOS", "Sailfish", "webOS", "Bada"}
)
_MOBILE_DEVICE = re.compile(r"^(iPhone|iPad|iPod|Generic (Smartphone|Tablet|Feature Phone))")
_LINUX_FAMILIES = frozenset(
    {"Ubuntu", "Debian", "Fedora", "Red Hat", "Linux Mint", "Mint", "Arch Linux", "CentOS"}
    | {"SUSE", "openSUSE", "Gentoo", "Slackware", "Mandriva", "Kubuntu", "Xubuntu"}
)
_BRAND_SUFFIX = re.compile(r"\s+(Mobile|iOS|WebView|UI/WKWebView)\b")
_BRAND_PREFIX = re.compile(r"^Mobile\s+")


def _brand(family: str | None) -> str | None:
    if not family or family == "Other":
        return None
    return _BRAND_PREFIX.sub("", _BRAND_SUFFIX.sub("", family)).strip() or family


def _os(family: str | None) -> str | None:
    if not family or family == "Other":
        return None
    return "Linux" if family in _LINUX_FAMILIES else family


@lru_cache(maxsize=1 << 16)
def classify(ua: str | None) -> UAResult:
    """Classify one user agent string.

    Parameters
    ----------
    ua : str or None
        The ``User-Agent`` header as logged.

    Returns
    -------
    UAResult
        ``type`` is "browser", "mobile" (phones and tablets) or "bot"; ``brand`` the
        browser (or bot) name; ``os`` the operating system. Empty or unrecognisable
        strings give all ``None``.

    Examples
    --------
    >>> classify("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) "
    ...          "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 "
    ...          "Safari/604.1")
    UAResult(type='mobile', brand='Safari', os='iOS')
    >>> classify("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)")
    UAResult(type='bot', brand='Googlebot', os=None)
    """
    if not isinstance(ua, str) or not ua.strip():
        return _UNKNOWN
    parsed = ua_parser.parse(ua)
    family = parsed.user_agent.family if parsed.user_agent else None
    os_family = parsed.os.family if parsed.os else None
    device = parsed.device.family if parsed.device else None
    if device == "Spider" or _looks_automated(ua):
        return UAResult("bot", _brand(family), _os(os_family))
    brand, os_name = _brand(family), _os(os_family)
    if brand is None and os_name is None:
        return _UNKNOWN
    mobile = (
        os_name in _MOBILE_OS
        or bool(device and _MOBILE_DEVICE.match(device))
        or "Mobi" in ua
        or "Tablet" in ua
    )
    return UAResult("mobile" if mobile else "browser", brand, os_name)


def classify_many(values: Sequence[str | None] | pd.Series) -> pd.DataFrame:
    """Classify a column of user agents, each distinct string once.

    Parameters
    ----------
    values : sequence of str or None, or pandas.Series
        User agent strings.

    Returns
    -------
    pandas.DataFrame
        Columns ``type``, ``brand``, ``os``, one row per value (same index as
        ``values`` when it is a Series).

    Examples
    --------
    >>> ua = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
    >>> classify_many([ua, None, ua])["type"].tolist()
    ['bot', None, 'bot']
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    codes, uniques = pd.factorize(series)
    # One extra slot at the end: factorize codes missing values as -1.
    results = [classify(value) for value in uniques] + [_UNKNOWN]
    table = pd.DataFrame(results, columns=list(UAResult._fields), dtype=object)
    out = table.iloc[codes].reset_index(drop=True)
    out.index = series.index
    return out
