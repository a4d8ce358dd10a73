"""Deterministic generator of the starter project's raw ``weblogs`` dataset.

One row per page view of a company web site over two months, as a JavaScript tracker
logs it. Visitors belong to latent segments that clustering should find once page
views are grouped per visitor (shares of visitors at the default size):

=================  =====  =========================================================
segment            share  behaviour
=================  =====  =========================================================
``infrequent``     57.9%  one visit (10% two) of about 1.8 pages; half from France,
                          a quarter from the United States
``fr_visitors``    13%    from France, one or two visits of 2.5 pages
``us_visitors``    8%     from the United States, more applications and data-science
``prospects``      8%     other European countries and Canada, about 4 visits of 6
                          pages, two thirds of them product pages
``engaged``        6%     about 8 visits of 8 pages within three weeks
``recurrent``      7%     about 22 short visits spread over the two months
``crawlers``       0.1%   search engine bots
=================  =====  =========================================================

With the 15 columns of the per-visitor group recipe, standard rescaling and dummy
encoding, K-means has its best silhouette at k = 3 (infrequent visitors about 86%,
engaged, recurrent) and at k = 5 finds: French visitors (100% France), other
visitors (half from the United States), prospects (products pages), engaged (about six
times the average page count) and recurrent visitors (many distinct days).

Everything is drawn with numpy from one seeded generator and strings are built by
indexing small catalogues with pyarrow, so 10 million page views take seconds and the
same arguments always give the same rows.
"""

from __future__ import annotations

import calendar
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from clusterlab.samples import weblogs_catalog as cat

__all__ = [
    "COLUMNS",
    "DEFAULT_START",
    "SECTIONS",
    "SEGMENTS",
    "generate_weblogs",
    "visitors_for",
    "weblogs_visitors",
]

DEFAULT_START = date(2024, 3, 1)
SITE = "https://www.acme-analytics.example"
SECTIONS = ("home", "blog", "applications", "company", "products", "data-science")
COLUMNS = (
    "server_ts", "client_ts", "client_addr", "visitor_id", "session_id", "location",
    "referer", "user_agent", "type", "visitor_params", "session_params", "event_params",
    "br_width", "br_height", "sc_width", "sc_height", "br_lang", "tz_off",
)  # fmt: skip
_MIX = {"France": 50, "United States": 25, "United Kingdom": 5, "Germany": 5, "Spain": 3}
_MIX |= {"Italy": 3, "Netherlands": 2, "Belgium": 3, "Switzerland": 2, "Canada": 3}
_MIX |= {"India": 3, "Brazil": 2, "Japan": 1, "Australia": 1}
_EUROPE_CANADA = {"United Kingdom": 2, "Germany": 2, "Netherlands": 1, "Switzerland": 1}
_EUROPE_CANADA |= {"Belgium": 1, "Spain": 1, "Italy": 1, "Canada": 1}


@dataclass(frozen=True)
class _Segment:
    name: str
    share: float
    countries: Mapping[str, float]
    sessions: tuple[int, float]  # minimum, mean of the Poisson-distributed extra visits
    views: float  # mean page views per visit (one plus a Poisson count)
    window: int  # days over which one visitor's visits spread
    mobile: float
    sections: tuple[float, ...]  # weights in the order of SECTIONS
    read_s: float  # mean seconds spent on a page


_SEGMENTS = (
    _Segment("infrequent", 0.579, _MIX, (1, 0.1), 1.8, 10, 0.15, (30, 45, 7, 6, 6, 6), 50),
    _Segment("fr_visitors", 0.13, {"France": 1}, (1, 0.8), 2.5, 40, 0.15,
             (28, 34, 8, 16, 7, 7), 60),
    _Segment("us_visitors", 0.08, {"United States": 1}, (1, 1.2), 2.5, 30, 0.15,
             (15, 25, 25, 5, 8, 22), 60),
    _Segment("prospects", 0.08, _EUROPE_CANADA, (2, 2.0), 6.0, 21, 0.10,
             (8, 4, 8, 12, 65, 3), 70),
    _Segment("engaged", 0.06, _MIX, (6, 2.0), 8.0, 21, 0.05, (10, 30, 15, 10, 12, 23), 80),
    _Segment("recurrent", 0.07, _MIX, (14, 8.0), 1.6, 61, 0.30, (35, 50, 4, 4, 3, 4), 40),
    _Segment("crawlers", 0.001, {"crawler": 1}, (2, 2.0), 8.0, 61, 0.0, (1,) * 6, 2),
)  # fmt: skip
SEGMENTS = tuple(segment.name for segment in _SEGMENTS)
# Expected page views per visitor: turns a page-view target into a number of visitors.
_VIEWS_PER_VISITOR = sum(s.share * (s.sessions[0] + s.sessions[1]) * s.views for s in _SEGMENTS)
_DAY_OF_WEEK = np.array([1.0, 1.05, 1.05, 1.0, 0.9, 0.45, 0.4])  # Monday first
_HOURS = np.array([10, 6, 4, 3, 3, 5, 12, 30, 60, 90, 100, 100, 80, 85, 95, 95, 90, 75, 55,
                   45, 45, 40, 30, 18], dtype=float)  # fmt: skip
_BAD_SESSION_SHARE = 0.004  # sessions logged with an empty, private or broken address
_NEW_ADDRESS_SHARE = 0.15  # later visits from another address of the same country


def _cdf(weights: np.ndarray) -> np.ndarray:
    """Cumulative distribution with rows summing to one (last column forced to 1)."""
    cum = np.cumsum(weights, axis=-1, dtype=float)
    cum /= cum[..., -1:]
    return cum


def _pick(rng: np.random.Generator, cdf: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Draw one category per item from the distribution of its group (rows of ``cdf``)."""
    u = rng.random(len(groups))
    if len(cdf) == 1:
        return np.searchsorted(cdf[0], u, side="right")
    picked = np.empty(len(groups), dtype=np.int64)
    for group, row in enumerate(cdf):
        where = groups == group
        picked[where] = np.searchsorted(row, u[where], side="right")
    return picked


def _flat(
    lists: list[list[str]] | list[list[int]],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values of lists laid end to end, with each list's offset and length."""
    counts = np.array([len(values) for values in lists])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return np.array([v for values in lists for v in values]), offsets, counts


def _in_list(rng: np.random.Generator, offsets: np.ndarray, counts: np.ndarray,
             which: np.ndarray) -> np.ndarray:  # fmt: skip
    """Uniform position inside list ``which`` of a :func:`_flat` layout."""
    position: np.ndarray = offsets[which] + (rng.random(len(which)) * counts[which]).astype(int)
    return position


def _expand_uas(templates: tuple[tuple[int, str, str], ...]) -> tuple[list[str], np.ndarray]:
    strings: list[str] = []
    weights: list[float] = []
    for weight, template, versions in templates:
        names = versions.split() or [""]
        for rank, version in enumerate(names):
            strings.append(template.format(v=version, w=version.replace("_", ".")))
            weights.append(weight / (rank + 1) / sum(1 / (r + 1) for r in range(len(names))))
    return strings, np.array(weights)


def _screens(spec: str) -> np.ndarray:
    return np.array([[int(x) for x in item.split("x")] for item in spec.split()])


def _hex_ids(rng: np.random.Generator, count: int) -> pa.Array:
    """``count`` random 16-digit hexadecimal identifiers, without a Python loop."""
    raw = np.frombuffer(rng.bytes(8 * count), dtype=np.uint8).reshape(count, 8)
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    text = np.empty((count, 16), dtype=np.uint8)
    text[:, 0::2], text[:, 1::2] = digits[raw >> 4], digits[raw & 15]
    offsets = np.arange(0, 16 * (count + 1), 16, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), count, [None, pa.py_buffer(offsets), pa.py_buffer(text.tobytes())]
    )


def visitors_for(page_views: int) -> int:
    """Number of visitors whose expected page views are ``page_views``."""
    return max(1, round(page_views / _VIEWS_PER_VISITOR))


@dataclass
class _Visitors:
    ids: pa.Array
    segment: np.ndarray
    country: np.ndarray
    device: np.ndarray  # 0 desktop, 1 mobile, 2 crawler
    ua: np.ndarray
    screen: np.ndarray  # (n, 4): browser width and height, screen width and height
    lang: np.ndarray
    tz: np.ndarray
    params: np.ndarray
    skew_ms: np.ndarray


_COUNTRY_NAMES = [c.name if i != cat.CRAWLER_COUNTRY else "crawler"
                  for i, c in enumerate(cat.COUNTRIES)]  # fmt: skip
_NETWORKS = [[ipaddress.IPv4Network(b) for b in c.blocks.split()] for c in cat.COUNTRIES]
_BLOCK_START, _BLOCK_OFFSET, _BLOCK_COUNT = _flat([[int(n[0]) for n in c] for c in _NETWORKS])
_BLOCK_SIZE = np.array([n.num_addresses for c in _NETWORKS for n in c])
_LANGS, _LANG_OFFSET, _LANG_COUNT = _flat([c.langs.split() for c in cat.COUNTRIES])
_TZS, _TZ_OFFSET, _TZ_COUNT = _flat([list(c.tz) for c in cat.COUNTRIES])
_UA_GROUPS = [_expand_uas(g) for g in (cat.DESKTOP_UAS, cat.MOBILE_UAS, cat.CRAWLER_UAS)]
_UAS = [ua for strings, _ in _UA_GROUPS for ua in strings]
_UA_OFFSET = np.cumsum([0] + [len(s) for s, _ in _UA_GROUPS])[:-1]
_UA_CDF = np.zeros((3, max(len(s) for s, _ in _UA_GROUPS)))
for _g, (_s, _w) in enumerate(_UA_GROUPS):
    _UA_CDF[_g, : len(_s)] = _cdf(_w)
    _UA_CDF[_g, len(_s) :] = 1.0
_SCREENS = [_screens(cat.DESKTOP_SCREENS), _screens(cat.MOBILE_SCREENS)]
_COUNTRY_CDF = _cdf(np.array([[s.countries.get(c, 0) for c in _COUNTRY_NAMES] for s in _SEGMENTS]))
_SECTION_CDF = _cdf(np.array([s.sections for s in _SEGMENTS]))


def _simulate_visitors(rng: np.random.Generator, count: int) -> _Visitors:
    shares = np.array([s.share for s in _SEGMENTS])
    sizes = np.floor(shares / shares.sum() * count).astype(np.int64)
    sizes[0] += count - sizes.sum()
    segment = rng.permutation(np.repeat(np.arange(len(_SEGMENTS)), sizes))
    country = _pick(rng, _COUNTRY_CDF, segment)
    mobile_share = np.array([s.mobile for s in _SEGMENTS])[segment]
    device = (rng.random(count) < mobile_share).astype(np.int64)
    device[country == cat.CRAWLER_COUNTRY] = 2
    ua = _UA_OFFSET[device] + _pick(rng, _UA_CDF, device)
    screen = np.zeros((count, 4), dtype=np.int64)
    for kind, sizes_table in enumerate(_SCREENS):
        rows = np.flatnonzero(device == kind) if kind else np.flatnonzero(device != 1)
        sc = sizes_table[rng.integers(0, len(sizes_table), len(rows))]
        # Desktop windows are mostly maximised; phones lose their bars to the browser.
        shrink = np.where(rng.random(len(rows)) < 0.75, 1.0, rng.uniform(0.55, 0.95, len(rows)))
        width = sc[:, 0] if kind else (sc[:, 0] * shrink).astype(np.int64)
        height = sc[:, 1] - rng.integers(70, 180, len(rows))
        height = height if kind else (height * shrink).astype(np.int64)
        screen[rows] = np.column_stack([width, height, sc[:, 0], sc[:, 1]])
    skew = rng.normal(0, 1500, count)
    off = rng.random(count) < 0.03  # a few clocks set minutes or hours wrong
    skew[off] += rng.choice([-1, 1], off.sum()) * rng.uniform(60e3, 7200e3, off.sum())
    return _Visitors(
        ids=_hex_ids(rng, count),
        segment=segment,
        country=country,
        device=device,
        ua=ua,
        screen=screen,
        lang=_in_list(rng, _LANG_OFFSET, _LANG_COUNT, country),
        tz=_TZS[_in_list(rng, _TZ_OFFSET, _TZ_COUNT, country)],
        params=_pick(rng, _weights(cat.VISITOR_PARAMS), 0 * segment),
        skew_ms=skew.astype(np.int64),
    )


def _addresses(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    block = _in_list(rng, _BLOCK_OFFSET, _BLOCK_COUNT, country)
    address = _BLOCK_START[block] + (rng.random(len(block)) * _BLOCK_SIZE[block]).astype(np.int64)
    last = address & 0xFF
    spread: np.ndarray = np.where((last == 0) | (last == 255), address ^ 1, address)
    return spread  # no network (.0) or broadcast-looking (.255) addresses


def _dst(start: date, days: int) -> np.ndarray:
    """Whether daylight saving time is on, per rule ("eu", "us", "au") and day."""

    def sunday(year: int, month: int, nth: int) -> date:
        sundays = [w[6] for w in calendar.monthcalendar(year, month) if w[6]]
        return date(year, month, sundays[nth])

    table = np.zeros((4, days + 2), dtype=bool)
    for i in range(days + 2):
        d = start + timedelta(days=i - 1)
        y = d.year
        table[0, i] = sunday(y, 3, -1) <= d < sunday(y, 10, -1)
        table[1, i] = sunday(y, 3, 1) <= d < sunday(y, 11, 0)
        table[2, i] = not sunday(y, 4, 0) <= d < sunday(y, 10, 0)
    return table


_DST_RULE = np.array([{"eu": 0, "us": 1, "au": 2}.get(c.dst or "", 3) for c in cat.COUNTRIES])


def _take(values: list[str] | pa.Array, index: np.ndarray) -> pa.Array:
    array = values if isinstance(values, pa.Array) else pa.array(values, pa.string())
    return array.take(pa.array(index))


def _weights(entries: tuple[tuple[Any, ...], ...]) -> np.ndarray:
    """One-row distribution from catalogue entries whose first item is a weight."""
    return _cdf(np.array([[float(entry[0]) for entry in entries]]))


def _sessions(
    rng: np.random.Generator, v: _Visitors, start: date, days: int
) -> dict[str, np.ndarray]:
    seg = v.segment
    minimum = np.array([s.sessions[0] for s in _SEGMENTS])[seg]
    extra = np.array([s.sessions[1] for s in _SEGMENTS])[seg]
    visitor = np.repeat(np.arange(len(seg)), minimum + rng.poisson(extra))
    # Days follow the weekly rhythm and a slight growth of traffic over the period.
    weekday = np.array([(start + timedelta(days=d)).weekday() for d in range(days)])
    day_cdf = np.concatenate([[0.0], _cdf(_DAY_OF_WEEK[weekday] * np.linspace(1, 1.1, days))])
    window = np.minimum(np.array([s.window for s in _SEGMENTS])[seg], days)
    first = (rng.random(len(seg)) * (days - window + 1)).astype(np.int64)
    low, high = day_cdf[first[visitor]], day_cdf[(first + window)[visitor]]
    u = low + rng.random(len(visitor)) * (high - low)
    day = np.clip(np.searchsorted(day_cdf, u, side="right") - 1, 0, days - 1)
    crawler = v.device[visitor] == 2
    hour = np.searchsorted(_cdf(_HOURS), rng.random(len(visitor)), side="right")
    hour = np.where(crawler, rng.integers(0, 24, len(visitor)), hour)
    local_s = day * 86400 + hour * 3600 + rng.integers(0, 3600, len(visitor))
    country = v.country[visitor]
    tz = v.tz[visitor] - 60 * _dst(start, days)[_DST_RULE[country], day + 1]
    start_ms = (local_s + tz * 60) * 1000 + rng.integers(0, 1000, len(visitor))
    order = np.lexsort((start_ms, visitor))
    visitor, start_ms, tz, country = visitor[order], start_ms[order], tz[order], country[order]
    first_session = np.searchsorted(visitor, visitor)
    later = np.arange(len(visitor)) > first_session
    address = _addresses(rng, v.country)[visitor]
    moved = later & (rng.random(len(visitor)) < _NEW_ADDRESS_SHARE)
    address[moved] = _addresses(rng, country[moved])
    bad = np.where(
        rng.random(len(visitor)) < _BAD_SESSION_SHARE,
        rng.integers(0, len(cat.BAD_ADDRESSES), len(visitor)),
        -1,
    )
    ref_cdf = _weights(cat.REFERERS)
    referer = np.where(crawler[order], 0, _pick(rng, ref_cdf, np.zeros(len(visitor), np.int64)))
    google_fr = len(cat.REFERERS) - 1
    referer[(referer == 1) & (country == _COUNTRY_NAMES.index("France"))] = google_fr
    views = 1 + rng.poisson(np.array([s.views - 1 for s in _SEGMENTS])[seg[visitor]])
    return {"visitor": visitor, "start_ms": start_ms, "tz": tz, "address": address,
            "bad": bad, "referer": referer, "views": views}  # fmt: skip


_PAGES, _PAGE_OFFSET, _PAGE_COUNT = _flat([list(p) for p in cat.PAGES])
_QUERIES = sorted({q for *_, q in cat.REFERERS})
_QUERY_OF_REFERER = np.array([_QUERIES.index(q) for *_, q in cat.REFERERS])
_URLS = [f"{SITE}{page}{query}" for page in _PAGES for query in _QUERIES]
_REFERER_URLS = _URLS + [r for _, r, *_ in cat.REFERERS]


def _popularity(count: int, seed: int) -> np.ndarray:
    """Zipf-like page popularity in a fixed random order, so the top pages look arbitrary."""
    weights = 1.0 / np.arange(1, count + 1) ** 1.1
    return _cdf(weights[np.random.default_rng(seed).permutation(count)])


_PAGE_CDFS = [_popularity(int(n), i) for i, n in enumerate(_PAGE_COUNT)]


def _page_views(
    rng: np.random.Generator, v: _Visitors, s: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    views = s["views"]
    session = np.repeat(np.arange(len(views)), views)
    first_row = np.cumsum(views) - views
    rank = np.arange(len(session)) - first_row[session]
    seg = v.segment[s["visitor"][session]]
    read_ms = np.array([s.read_s * 1000 for s in _SEGMENTS])[seg]
    gap = np.where(rank > 0, rng.exponential(read_ms).astype(np.int64) + 800, 0)
    elapsed = np.cumsum(gap)
    time_ms = s["start_ms"][session] + elapsed - elapsed[first_row[session]]
    section = _pick(rng, _SECTION_CDF, seg)
    page = np.empty(len(session), dtype=np.int64)
    u = rng.random(len(session))
    for k, page_cdf in enumerate(_PAGE_CDFS):
        rows = section == k
        page[rows] = _PAGE_OFFSET[k] + np.searchsorted(page_cdf, u[rows], side="right")
    landing = rank == 0
    query = np.where(landing, _QUERY_OF_REFERER[s["referer"][session]], 0)
    url = page * len(_QUERIES) + query
    previous = np.concatenate([[0], url[:-1]])
    referer = np.where(landing, len(_URLS) + s["referer"][session], previous)
    event_cdf = _weights(cat.EVENT_PARAMS)
    event = _pick(rng, event_cdf, np.zeros(len(session), np.int64))
    latency = rng.integers(20, 400, len(session))
    order = np.argsort(time_ms, kind="stable")
    return {"session": session[order], "time_ms": time_ms[order], "url": url[order],
            "referer": referer[order], "event": event[order], "latency": latency}  # fmt: skip


@cache
def _times_of_day() -> pa.Array:
    return pa.array([f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60)
                     for s in range(60)])  # fmt: skip


def _timestamps(start: date, time_ms: np.ndarray) -> pa.Array:
    """ISO 8601 UTC text with milliseconds, joined from day, second and millisecond parts
    (formatting each timestamp would take a minute for 10 million rows)."""
    day = time_ms // 86_400_000
    low = int(day.min(initial=0))
    dates = [
        f"{start + timedelta(days=d):%Y-%m-%d}T" for d in range(low, int(day.max(initial=0)) + 1)
    ]
    millis = [f".{i:03d}Z" for i in range(1000)]
    return pc.binary_join_element_wise(
        _take(dates, day - low), _times_of_day().take(pa.array(time_ms // 1000 % 86400)),
        _take(millis, time_ms % 1000), "",
    )  # fmt: skip


def _frame(v: _Visitors, s: dict[str, np.ndarray], p: dict[str, np.ndarray],
           session_ids: pa.Array, start: date) -> pd.DataFrame:  # fmt: skip
    session = p["session"]
    visitor = s["visitor"][session]
    octets = [pc.cast(pa.array((s["address"] >> shift) & 0xFF), pa.string())
              for shift in (24, 16, 8, 0)]  # fmt: skip
    address = pc.binary_join_element_wise(*octets, ".")
    bad = s["bad"] >= 0
    if bad.any():
        address = pc.replace_with_mask(
            address, pa.array(bad), _take(list(cat.BAD_ADDRESSES), s["bad"][bad])
        )
    epoch_ms = (start - date(1970, 1, 1)).days * 86_400_000
    referer_params = [params for _, _, params, _ in cat.REFERERS]
    columns = {
        "server_ts": _timestamps(start, p["time_ms"]),
        "client_ts": pa.array(epoch_ms + p["time_ms"] - p["latency"] + v.skew_ms[visitor]),
        "client_addr": address.take(pa.array(session)),
        "visitor_id": v.ids.take(pa.array(visitor)),
        "session_id": session_ids.take(pa.array(session)),
        "location": _take(_URLS, p["url"]),
        "referer": _take(_REFERER_URLS, p["referer"]),
        "user_agent": _take(_UAS, v.ua[visitor]),
        "type": _take(["page"], np.zeros(len(session), dtype=np.int64)),
        "visitor_params": _take([t for _, t in cat.VISITOR_PARAMS], v.params[visitor]),
        "session_params": _take(referer_params, s["referer"][session]),
        "event_params": _take([t for _, t in cat.EVENT_PARAMS], p["event"]),
        "br_width": pa.array(v.screen[visitor, 0]),
        "br_height": pa.array(v.screen[visitor, 1]),
        "sc_width": pa.array(v.screen[visitor, 2]),
        "sc_height": pa.array(v.screen[visitor, 3]),
        "br_lang": _take(list(_LANGS), v.lang[visitor]),
        "tz_off": pa.array(s["tz"][session]),
    }
    frame: pd.DataFrame = pa.table(columns).to_pandas()
    return frame


def _resolve_size(visitors: int, page_views: int | None) -> int:
    if page_views is not None:
        return visitors_for(page_views)
    if visitors < 1:
        raise ValueError(f"visitors must be at least 1, got {visitors}")
    return visitors


def generate_weblogs(
    visitors: int = 20_000,
    seed: int = 42,
    start: date = DEFAULT_START,
    *,
    days: int = 61,
    page_views: int | None = None,
) -> pd.DataFrame:
    """Generate the raw ``weblogs`` dataset: one row per page view, in time order.

    Parameters
    ----------
    visitors : int
        Number of visitors (20,000 give about 210,000 page views).
    seed : int
        Seed of the random generator: the same arguments always give the same rows.
    start : date
        First day of the period (UTC).
    days : int
        Length of the period (61 days: two months).
    page_views : int, optional
        Target number of page views; when given it sets the number of visitors and
        the result has this many rows give or take a few percent.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`COLUMNS`: text columns, ``client_ts`` (Unix milliseconds)
        and integer browser and screen sizes and time zone offsets.

    Examples
    --------
    >>> logs = generate_weblogs(visitors=200, seed=1)
    >>> tuple(logs.columns) == COLUMNS and len(logs) > 1000
    True
    """
    count = _resolve_size(visitors, page_views)
    rng = np.random.default_rng(seed)
    v = _simulate_visitors(rng, count)
    s = _sessions(rng, v, start, days)
    p = _page_views(rng, v, s)
    return _frame(v, s, p, _hex_ids(rng, len(s["visitor"])), start)


def weblogs_visitors(
    visitors: int = 20_000, seed: int = 42, *, page_views: int | None = None
) -> pd.DataFrame:
    """The latent truth behind :func:`generate_weblogs` with the same arguments.

    Returns
    -------
    pandas.DataFrame
        ``visitor_id``, ``segment`` (one of :data:`SEGMENTS`) and ``country`` (the
        GeoIP country its addresses resolve to), one row per visitor: the answer a
        clustering of the grouped logs should come close to.
    """
    v = _simulate_visitors(np.random.default_rng(seed), _resolve_size(visitors, page_views))
    names = [c.name for c in cat.COUNTRIES]
    return pd.DataFrame({
        "visitor_id": v.ids.to_pylist(),
        "segment": np.array(SEGMENTS, dtype=object)[v.segment],
        "country": np.array(names, dtype=object)[v.country],
    })  # fmt: skip
