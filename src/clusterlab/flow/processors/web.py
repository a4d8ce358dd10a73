"""Web-log steps of the prepare recipe: GeoIP, user-agent classification, URL
splitting and site-section flags.

GeoIP and user agents need Python lookups, so they compile to Ibis *pyarrow* scalar
UDFs: DuckDB calls them once per batch with an Arrow array (each distinct value is
looked up once per batch, about six times faster than a row-wise Python UDF there),
while PySpark (>= 3.5) runs them as Arrow-optimised row-wise UDFs, passing one value
at a time. The UDF body accepts both. The lookups themselves are injected through
`Lookups`, defaulting to `clusterlab.flow.geoip` and `clusterlab.flow.useragent`.

URL splitting and section flags are plain regex and string expressions.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from clusterlab.core.errors import UnsupportedError
from clusterlab.core.recipes import ClassifyUserAgent, FlagUrlSections, GeoIP, SplitUrl
from clusterlab.flow.common import as_text, require_columns

GeoLookup = Callable[[str], Sequence[Any] | None]
"""``lookup(ip) -> (country, city, latitude, longitude)`` or None when unknown."""
UserAgentLookup = Callable[[str], Sequence[Any] | None]
"""``classify(user_agent) -> (type, brand, os)`` or None when unknown."""


@lru_cache(maxsize=1)
def _default_geoip() -> Any:
    try:
        module = importlib.import_module("clusterlab.flow.geoip")
        return module.GeoIP()
    except ImportError as exc:
        raise UnsupportedError(f"GeoIP lookups are not available here: {exc}.") from exc


def default_geoip_lookup(ip: str) -> Sequence[Any] | None:
    """Resolve one address with the bundled GeoIP database (opened once per process)."""
    result: Sequence[Any] | None = _default_geoip().lookup(ip)
    return result


def default_user_agent_lookup(user_agent: str) -> Sequence[Any] | None:
    """Classify one user agent with `clusterlab.flow.useragent.classify`."""
    try:
        module = importlib.import_module("clusterlab.flow.useragent")
    except ImportError as exc:
        raise UnsupportedError(f"User-agent classification is not available: {exc}.") from exc
    result: Sequence[Any] | None = module.classify(user_agent)
    return result


@dataclass(frozen=True)
class Lookups:
    """The Python lookups GeoIP and user-agent steps call; ``None`` means the default.

    Functions must be picklable by reference (module-level) to run on Spark.

    Examples
    --------
    >>> lookups = Lookups(geoip=lambda ip: ("France", "Paris", 48.86, 2.35))
    >>> lookups.resolve_geoip()("2.2.2.2")[0]
    'France'
    """

    geoip: GeoLookup | None = None
    user_agent: UserAgentLookup | None = None

    def resolve_geoip(self) -> GeoLookup:
        """The GeoIP lookup to use."""
        return self.geoip or default_geoip_lookup

    def resolve_user_agent(self) -> UserAgentLookup:
        """The user-agent lookup to use."""
        return self.user_agent or default_user_agent_lookup


_GEO_FIELDS = ("country", "city", "latitude", "longitude", "geopoint")
_GEO_TYPE = dt.Struct(
    {
        "country": "string",
        "city": "string",
        "latitude": "float64",
        "longitude": "float64",
        "geopoint": "string",
    }
)
_UA_FIELDS = ("type", "brand", "os")
_UA_TYPE = dt.Struct(dict.fromkeys(_UA_FIELDS, "string"))


def _geo_record(lookup: GeoLookup, ip: object) -> dict[str, Any]:
    found = None
    if isinstance(ip, str) and ip.strip():
        try:
            found = lookup(ip.strip())
        except ValueError:  # a malformed address is an unknown one
            found = None
    country, city, lat, lon = (list(found) + [None] * 4)[:4] if found else [None] * 4
    point = f"POINT({lon} {lat})" if lat is not None and lon is not None else None
    return dict(zip(_GEO_FIELDS, (country, city, lat, lon, point), strict=True))


def _ua_record(lookup: UserAgentLookup, ua: object) -> dict[str, Any]:
    found = lookup(ua) if isinstance(ua, str) and ua.strip() else None
    values = (list(found) + [None] * 3)[:3] if found else [None] * 3
    return dict(zip(_UA_FIELDS, values, strict=True))


def _arrow_udf(
    record: Callable[[object], dict[str, Any]], name: str, dtype: dt.Struct
) -> Callable[[ir.Value], ir.StructValue]:
    arrow_type = dtype.to_pyarrow()

    def apply(values: Any) -> Any:
        if not isinstance(values, pa.Array | pa.ChunkedArray):  # Spark: one value per call
            return record(values)
        seen: dict[object, dict[str, Any]] = {}
        rows = [seen[v] if v in seen else seen.setdefault(v, record(v)) for v in values.to_pylist()]
        return pa.array(rows, type=arrow_type)

    apply.__name__ = name
    udf: Callable[[ir.Value], ir.StructValue] = ibis.udf.scalar.pyarrow(
        apply, name=name, signature=((dt.string,), dtype)
    )
    return udf


def geoip(table: ibis.Table, step: GeoIP, where: str, lookup: GeoLookup) -> ibis.Table:
    """Add ``<prefix>_country``, ``_city``, ... resolved from a column of IP addresses."""
    require_columns(table, [step.column], where)
    udf = _arrow_udf(lambda ip: _geo_record(lookup, ip), "clusterlab_geoip", _GEO_TYPE)
    prefix = step.prefix or step.column
    tmp = f"__clusterlab_geo_{prefix}"
    table = table.mutate(**{tmp: udf(as_text(table[step.column]))})
    # The struct is a column of its own first so the UDF runs once, not once per field.
    fields = {f"{prefix}_{name}": table[tmp][name] for name in step.outputs}
    return table.mutate(**fields).drop(tmp)


def classify_user_agent(
    table: ibis.Table, step: ClassifyUserAgent, where: str, lookup: UserAgentLookup
) -> ibis.Table:
    """Add ``<prefix>_type``, ``_brand`` and ``_os`` from a column of user agents."""
    require_columns(table, [step.column], where)
    udf = _arrow_udf(lambda ua: _ua_record(lookup, ua), "clusterlab_user_agent", _UA_TYPE)
    prefix = step.prefix or step.column
    tmp = f"__clusterlab_ua_{prefix}"
    table = table.mutate(**{tmp: udf(as_text(table[step.column]))})
    fields = {f"{prefix}_{name}": table[tmp][name] for name in _UA_FIELDS}
    return table.mutate(**fields).drop(tmp)


# RFC 3986, appendix B, with the authority split into user info, host and port.
URL_PATTERN = (
    r"^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?://(?:[^/?#@]*@)?([^/?#:]*)(?::([0-9]*))?)?"
    r"([^?#]*)(?:\?([^#]*))?(?:#(.*))?$"
)
_URL_GROUPS = {"scheme": 1, "host": 2, "port": 3, "path": 4, "query": 5, "fragment": 6}


def url_part(url: ir.StringValue, part: str) -> ir.Value:
    """One part of URLs; empty parts are null, and a URL with a host has path ``/`` at least.

    Examples
    --------
    >>> t = ibis.memtable({"u": ["https://a.com/blog/x?p=1", "http://a.com"]})
    >>> url_part(t.u, "path").execute().tolist()
    ['/blog/x', '/']
    """
    text = url.strip()
    value = text.re_extract(URL_PATTERN, _URL_GROUPS[part]).nullif("")
    if part == "port":
        return value.try_cast("int64")
    if part == "path":
        host = text.re_extract(URL_PATTERN, _URL_GROUPS["host"]).nullif("")
        return ibis.ifelse(host.notnull() & value.isnull(), "/", value)
    return value


def split_url(table: ibis.Table, step: SplitUrl, where: str) -> ibis.Table:
    """Add ``<prefix>_<part>`` columns for the chosen URL parts."""
    require_columns(table, [step.column], where)
    url = as_text(table[step.column])
    prefix = step.prefix or step.column
    return table.mutate(**{f"{prefix}_{part}": url_part(url, part) for part in step.parts})


def in_section(path: ir.StringValue, section: str) -> ir.BooleanValue:
    """Whether paths are in a site section: ``/blog`` holds ``/blog`` and ``/blog/...``;
    ``/`` (home) holds only ``/`` itself. Never null."""
    if section == "/":
        return (path == "/").fill_null(False)
    base = section.rstrip("/")
    return ((path == base) | path.startswith(base + "/")).fill_null(False)


def flag_url_sections(table: ibis.Table, step: FlagUrlSections, where: str) -> ibis.Table:
    """Add one 0/1 integer column per site section."""
    require_columns(table, [step.column], where)
    path = as_text(table[step.column]).strip()
    flags = {
        out: ibis.ifelse(in_section(path, prefix), 1, 0).cast("int64")
        for out, prefix in step.sections.items()
    }
    return table.mutate(**flags)
