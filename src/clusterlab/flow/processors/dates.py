"""Date steps of the prepare recipe (parse_date, extract_date_parts) and the parsing
of text to timestamps with strptime-like formats, on any engine.

Parsing does not use an engine's ``strptime``: DuckDB's fails the whole query on one
bad cell, and engines disagree on format syntax. Instead a format such as
``%d/%m/%Y %H:%M`` becomes an anchored regex whose captured fields are reassembled as
ISO text (``2014-03-01 10:00:00``) and converted with ``TRY_CAST``, which every engine
has and which gives an empty cell for an impossible date such as 30 February. Time
zone offsets and 12-hour clocks are applied with interval arithmetic afterwards.

Format directives: ``%Y`` (4-digit year), ``%y`` (2-digit: 69–99 → 19xx, else 20xx),
``%m``, ``%d``, ``%H``, ``%I`` with ``%p`` (AM/PM), ``%M``, ``%S``, ``%f`` (fraction of
a second, up to 9 digits), ``%b``/``%B`` (English month name), ``%a``/``%A`` (weekday
name, ignored), ``%z`` (``Z``, ``+01:00`` or ``+0100``: the result is converted to
UTC), ``%%``. ``[...]`` marks an optional part, e.g. ``%Y-%m-%d[ %H:%M[:%S]]``.

A caller can count cells that did not parse with `count_unparsed`.

Each field is used once in the expression on purpose: Ibis inlines a reused
expression at every use, and the SQL (and its compile time) would grow quickly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import ibis
import ibis.expr.types as ir

from clusterlab.core.recipes import ExtractDateParts, ParseDate
from clusterlab.flow.common import RecipeError, as_text, require_columns

# Tried in order when a parse_date step gives no formats. Day-first comes before
# month-first (ClusterLab follows DSS's European default): 03/04/2014 is 3 April.
DETECT_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d[T%H:%M[:%S[.%f]]][%z]",
    "%Y-%m-%d %H:%M[:%S[.%f]][ ][%z]",
    "%Y/%m/%d[ %H:%M[:%S]]",
    "%d/%m/%Y[ %H:%M[:%S]]",
    "%m/%d/%Y[ %H:%M[:%S]]",
    "%d-%m-%Y[ %H:%M[:%S]]",
    "%d.%m.%Y[ %H:%M[:%S]]",
    "%Y%m%d",
    "%d/%b/%Y:%H:%M:%S %z",
    "%d %b %Y[ %H:%M[:%S]]",
    "%b %d[,] %Y",
    "%a, %d %b %Y %H:%M:%S %z",
)

# ISO 8601 dates and times, with ``T`` or a space between them.
ISO_FORMATS = DETECT_FORMATS[:2]

_FIELDS = {
    "Y": ("year", "([0-9]{4})"),
    "y": ("year2", "([0-9]{2})"),
    "m": ("month", "([0-9]{1,2})"),
    "d": ("day", "([0-9]{1,2})"),
    "H": ("hour", "([0-9]{1,2})"),
    "I": ("hour12", "([0-9]{1,2})"),
    "p": ("ampm", "([AaPp][Mm])"),
    "M": ("minute", "([0-9]{2})"),
    "S": ("second", "([0-9]{2})"),
    "f": ("fraction", "([0-9]{1,9})"),
    "b": ("month_name", "([A-Za-z]{3,9})"),
    "B": ("month_name", "([A-Za-z]{3,9})"),
    "z": ("offset", "(Z|[+-][0-9]{2}:?[0-9]{2})"),
}
_IGNORED = {"a": "[A-Za-z]{3,9}", "A": "[A-Za-z]{3,9}", "%": "%"}
_META = set(".^$*+?(){}|\\")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


@dataclass(frozen=True)
class DatePattern:
    """A date format translated to an anchored regex and its capture groups."""

    format: str
    regex: str
    groups: dict[str, int]
    optional: frozenset[str]


def compile_format(fmt: str) -> DatePattern:
    """Translate a strptime-like format (with ``[...]`` optional parts) to a regex.

    Examples
    --------
    >>> compile_format("%Y-%m-%d").regex
    '^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$'
    """
    out: list[str] = ["^"]
    groups: dict[str, int] = {}
    optional: set[str] = set()
    depth, i = 0, 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            code = fmt[i + 1]
            if code in _FIELDS:
                name, regex = _FIELDS[code]
                if name in groups:
                    raise ValueError(f"%{code} appears twice in {fmt!r}")
                groups[name] = len(groups) + 1
                if depth:
                    optional.add(name)
                out.append(regex)
            elif code in _IGNORED:
                out.append(_IGNORED[code])
            else:
                raise ValueError(f"unknown directive %{code} in {fmt!r}")
            i += 2
            continue
        if ch == "[":
            depth += 1
            out.append("(?:")
        elif ch == "]":
            if depth == 0:
                raise ValueError(f"unbalanced ']' in {fmt!r}")
            depth -= 1
            out.append(")?")
        else:
            out.append("\\" + ch if ch in _META else ch)
        i += 1
    if depth:
        raise ValueError(f"unbalanced '[' in {fmt!r}")
    if "year" not in groups and "year2" not in groups:
        raise ValueError(f"{fmt!r} has no year (%Y or %y)")
    return DatePattern(fmt, "".join(out) + "$", groups, frozenset(optional))


def _piece(s: ir.StringValue, pattern: DatePattern, name: str, default: str) -> ir.StringValue:
    """The text of one captured field (``default`` when the format lacks it or skipped it)."""
    if name not in pattern.groups:
        return ibis.literal(default, "string")
    text = s.re_extract(pattern.regex, pattern.groups[name])
    # An optional group that did not take part extracts as "" on every engine.
    return text.nullif("").fill_null(default) if name in pattern.optional else text


def _as_iso(s: ir.StringValue, pattern: DatePattern) -> ir.StringValue:
    """The fields of ``s`` as ISO text ``Y-m-d H:M:S.f`` (12-hour clock hour as it is)."""
    if _ISO_LAYOUT.fullmatch(pattern.format.replace("[", "").replace("]", "")):
        # Already ISO text: no extraction per field, only the offset to take away.
        return s.re_replace(_OFFSET_TAIL, "") if "offset" in pattern.groups else s
    if "year" in pattern.groups:
        year = _piece(s, pattern, "year", "2000")
    else:
        yy = _piece(s, pattern, "year2", "00")
        year = ibis.ifelse(yy < "69", "20", "19").concat(yy)
    if "month_name" in pattern.groups:
        abbrev = _piece(s, pattern, "month_name", "").lower().substr(0, 3)
        month = abbrev.cases(*[(m, str(i + 1)) for i, m in enumerate(_MONTHS)], else_=None)
    else:
        month = _piece(s, pattern, "month", "1")
    hour = _piece(s, pattern, "hour12" if "hour12" in pattern.groups else "hour", "0")
    parts = [month, "-", _piece(s, pattern, "day", "1"), " ", hour, ":"]
    parts += [_piece(s, pattern, "minute", "0"), ":", _piece(s, pattern, "second", "0")]
    return year.concat("-", *parts, ".", _piece(s, pattern, "fraction", "0"))


def parse_with(s: ir.StringValue, pattern: DatePattern) -> ir.TimestampValue:
    """Parse stripped text ``s`` with one pattern: a UTC timestamp, or null."""
    iso = ibis.ifelse(s.re_search(pattern.regex), _as_iso(s, pattern), ibis.null("string"))
    stamp = iso.try_cast("timestamp")
    if "hour12" in pattern.groups:
        h12 = _piece(s, pattern, "hour12", "0").try_cast("int64")
        pm = _piece(s, pattern, "ampm", "am").lower() == "pm"
        shift = ibis.ifelse(pm, 12, 0) - ibis.ifelse(h12 == 12, 12, 0)
        stamp = ibis.ifelse(h12.between(1, 12), stamp + shift.as_interval("h"), None)
    if "offset" in pattern.groups:
        offset = _piece(s, pattern, "offset", "Z").replace(":", "")
        minutes = _int(offset.substr(1, 2)) * 60 + _int(offset.substr(3, 2))
        stamp = stamp - (ibis.ifelse(offset.startswith("-"), -1, 1) * minutes).as_interval("m")
    return stamp


# Formats whose text TRY_CAST reads as it is (once a trailing offset is removed).
_ISO_LAYOUT = re.compile(r"%Y-%m-%d(?:[T ]%H:%M(?::%S(?:\.%f)?)?)? ?(?:%z)?")
_OFFSET_TAIL = "(Z|[+-][0-9]{2}:?[0-9]{2})$"


def _int(text: ir.StringValue) -> ir.IntegerValue:
    return text.try_cast("int64").fill_null(0)


def parse_dates(value: ir.Value, formats: Sequence[str] | None) -> ir.TimestampValue:
    """``value`` parsed by the first of ``formats`` that gives a date (None: detect).

    Timestamps are returned as they are, dates converted. Raises ``ValueError`` for an
    invalid format.

    Examples
    --------
    >>> t = ibis.memtable({"ts": ["2014-03-01 10:00:00", "01/02/2014", "nope"]})
    >>> parse_dates(t.ts, None).execute().tolist()  # doctest: +NORMALIZE_WHITESPACE
    [Timestamp('2014-03-01 10:00:00'), Timestamp('2014-02-01 00:00:00'), NaT]
    """
    if value.type().is_temporal():
        return value.cast("timestamp")
    patterns = [compile_format(f) for f in (formats or DETECT_FORMATS)]
    text = as_text(value).strip()
    parsed = [parse_with(text, p) for p in patterns]
    return parsed[0] if len(parsed) == 1 else ibis.coalesce(*parsed)


def detect_date_formats(
    values: Sequence[str | None], formats: Sequence[str] = DETECT_FORMATS
) -> list[str]:
    """Formats matching at least one of ``values``, the most matched first.

    Use it on a sample to store explicit ``formats`` in a parse_date step (so
    ``03/04/2014`` follows the majority of the column, as DSS's detection does).

    Examples
    --------
    >>> detect_date_formats(["13/01/2014", "01/02/2014"])[0]
    '%d/%m/%Y[ %H:%M[:%S]]'
    """
    counts: list[tuple[int, int, str]] = []
    for rank, fmt in enumerate(formats):
        pattern = compile_format(fmt)
        rx = re.compile(pattern.regex)
        hits = sum(1 for v in values if v is not None and _parses(pattern, rx, v.strip()))
        if hits:
            counts.append((-hits, rank, fmt))
    return [fmt for _, _, fmt in sorted(counts)]


def _parses(pattern: DatePattern, rx: re.Pattern[str], value: str) -> bool:
    # The same rules as parse_with (bar 24:00:00), in Python, for detection on a sample.
    match = rx.match(value)
    if match is None:
        return False
    found = {name: match.group(index) for name, index in pattern.groups.items()}

    def number(name: str, default: int) -> int:
        text = found.get(name)
        return int(text) if text else default

    year = number("year", 2000)
    if "year2" in found:
        year = number("year2", 0) + (2000 if number("year2", 0) < 69 else 1900)
    month = number("month", 1)
    if "month_name" in found:
        abbrev = (found["month_name"] or "").lower()[:3]
        month = _MONTHS.index(abbrev) + 1 if abbrev in _MONTHS else 0
    hour = number("hour", 0)
    if "hour12" in found:
        h12 = number("hour12", 12)
        if not 1 <= h12 <= 12:
            return False
        hour = h12 % 12 + (12 if (found.get("ampm") or "").lower() == "pm" else 0)
    try:
        datetime(year, month, number("day", 1), hour, number("minute", 0), number("second", 0))
    except ValueError:
        return False
    return True


def count_unparsed(table: ibis.Table, source: str, parsed: str) -> ir.IntegerScalar:
    """An expression counting rows where ``source`` has text but ``parsed`` is empty.

    Examples
    --------
    >>> t = ibis.memtable({"ts": ["2014-03-01", "nope", None]})
    >>> out = t.mutate(ts_parsed=parse_dates(t.ts, None))
    >>> count_unparsed(out, "ts", "ts_parsed").execute()
    1
    """
    src = table[source]
    present = src.notnull()
    if src.type().is_string():
        present &= src.strip() != ""
    return (present & table[parsed].isnull()).sum()


def parse_date(table: ibis.Table, step: ParseDate, where: str) -> ibis.Table:
    """Apply a parse_date step."""
    require_columns(table, [step.column], where)
    try:
        return table.mutate(**{step.output_column: parse_dates(table[step.column], step.formats)})
    except ValueError as exc:
        raise RecipeError(where, f"{exc}; see the date format directives in the docs.") from None


def extract_date_parts(table: ibis.Table, step: ExtractDateParts, where: str) -> ibis.Table:
    """Apply an extract_date_parts step (``day_of_week``: 1 = Monday … 7 = Sunday)."""
    require_columns(table, [step.column], where)
    column = table[step.column]
    if not column.type().is_temporal():
        raise RecipeError(
            where,
            f"{step.column!r} holds {column.type()}, not dates: add a 'parse_date' step first.",
        )
    if "hour" in step.parts and column.type().is_date():
        raise RecipeError(where, f"{step.column!r} holds dates without time: drop 'hour'.")
    extractors = {
        "year": lambda c: c.year(),
        "month": lambda c: c.month(),
        "day": lambda c: c.day(),
        "day_of_week": lambda c: c.day_of_week.index() + 1,
        "hour": lambda c: c.hour(),
    }
    names = {f"{step.prefix}{part}": part for part in step.parts}
    return table.mutate(
        **{name: extractors[part](column).cast("int64") for name, part in names.items()}
    )
