"""Date steps: parsing with formats (and detection), counting failures, date parts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import ibis
import pytest

from clusterlab.flow.common import RecipeError
from clusterlab.flow.prepare import apply_steps
from clusterlab.flow.processors.dates import (
    DETECT_FORMATS,
    compile_format,
    count_unparsed,
    detect_date_formats,
    parse_dates,
)
from tests.unit.flow.flowkit import column, prepare, table

Run = Callable[[ibis.Table], list[dict[str, Any]]]


def parsed(values: list[Any], formats: list[str] | None, run: Run) -> list[Any]:
    data = table(v=values)
    return column(run(data.select(p=parse_dates(data.v, formats))), "p")


@pytest.mark.parametrize(
    ("fmt", "value", "expected"),
    [
        ("%Y-%m-%d", "2016-02-29", datetime(2016, 2, 29)),
        ("%Y-%m-%d", "2015-02-29", None),
        ("%Y-%m-%d", "2000-02-29", datetime(2000, 2, 29)),
        ("%Y-%m-%d", "1900-02-29", None),
        ("%Y-%m-%d", "2014-04-31", None),
        ("%Y-%m-%d", "2014-13-01", None),
        (
            "%Y-%m-%dT%H:%M:%S.%f%z",
            "2014-03-01T10:00:00.5Z",
            datetime(2014, 3, 1, 10, 0, 0, 500000),
        ),
        ("%Y-%m-%dT%H:%M:%S%z", "2014-03-01T01:30:00+02:00", datetime(2014, 2, 28, 23, 30)),
        ("%Y-%m-%d %H:%M:%S %z", "2014-03-01 10:00:00 -0130", datetime(2014, 3, 1, 11, 30)),
        ("%d/%m/%Y %H:%M", "1/2/2014 7:05", datetime(2014, 2, 1, 7, 5)),
        ("%d/%m/%Y %H:%M", "01/02/2014 25:00", None),
        ("%m/%d/%y", "12/31/99", datetime(1999, 12, 31)),
        ("%m/%d/%y", "12/31/14", datetime(2014, 12, 31)),
        ("%d/%b/%Y:%H:%M:%S %z", "10/Oct/2000:13:55:36 -0700", datetime(2000, 10, 10, 20, 55, 36)),
        ("%B %d, %Y", "March 5, 2014", datetime(2014, 3, 5)),
        ("%b %d %Y", "Mrz 5 2014", None),
        ("%I:%M %p %d.%m.%Y", "12:15 AM 01.03.2014", datetime(2014, 3, 1, 0, 15)),
        ("%I:%M %p %d.%m.%Y", "12:15 pm 01.03.2014", datetime(2014, 3, 1, 12, 15)),
        ("%I:%M %p %d.%m.%Y", "3:00 PM 01.03.2014", datetime(2014, 3, 1, 15, 0)),
        ("%I:%M %p %d.%m.%Y", "13:00 PM 01.03.2014", None),
        ("%Y%m%d", " 20140301 ", datetime(2014, 3, 1)),
        ("%Y-%m-%d[ %H:%M[:%S]]", "2014-03-01 10:11", datetime(2014, 3, 1, 10, 11)),
        ("%Y-%m-%d[ %H:%M[:%S]]", "2014-03-01", datetime(2014, 3, 1)),
        ("%Y-%m-%d[ %H:%M[:%S]]", "2014-03-01 10", None),
        ("%a, %d %b %Y", "Sat, 01 Mar 2014", datetime(2014, 3, 1)),
        ("100%% %Y", "100% 2014", datetime(2014, 1, 1)),
    ],
)
def test_formats(fmt: str, value: str, expected: datetime | None, run: Run) -> None:
    assert parsed([value], [fmt], run) == [expected]


def test_mixed_formats_take_the_first_that_parses_and_leave_others_empty(run: Run) -> None:
    values = ["2014-03-01 10:00:00", "02/03/2014", "soon", "", None, "2014-02-30 00:00:00"]
    data = table(ts=values)
    steps = prepare(
        {"type": "parse_date", "column": "ts", "formats": ["%Y-%m-%d %H:%M:%S", "%d/%m/%Y"]}
    ).steps
    out = apply_steps(data, steps)
    assert column(run(out), "ts_parsed") == [
        datetime(2014, 3, 1, 10),
        datetime(2014, 3, 2),
        None,
        None,
        None,
        None,
    ]
    # "soon" and the impossible 30 February did not parse; empty cells do not count.
    assert run(out.select(n=count_unparsed(out, "ts", "ts_parsed")).limit(1))[0]["n"] == 2


def test_detection_reads_common_formats(run: Run) -> None:
    values = [
        "2014-03-01T10:00:00.851Z",
        "2014-03-01 10:00:00",
        "2014/03/01",
        "13/01/2014",
        "12/31/2014",
        "Tue, 04 Mar 2014 10:00:00 +0100",
        "20140301",
        "garbage",
    ]
    assert parsed(values, None, run) == [
        datetime(2014, 3, 1, 10, 0, 0, 851000),
        datetime(2014, 3, 1, 10),
        datetime(2014, 3, 1),
        datetime(2014, 1, 13),
        datetime(2014, 12, 31),
        datetime(2014, 3, 4, 9),
        datetime(2014, 3, 1),
        None,
    ]


def test_detect_date_formats_follows_the_majority() -> None:
    us = ["12/31/2014", "01/02/2014", "11/30/2014"]
    assert detect_date_formats(us)[0] == "%m/%d/%Y[ %H:%M[:%S]]"
    eu = ["31/12/2014", "01/02/2014", None]
    assert detect_date_formats(eu)[0] == "%d/%m/%Y[ %H:%M[:%S]]"
    assert detect_date_formats(["nope", ""]) == []


@pytest.mark.parametrize(
    ("fmt", "problem"),
    [
        ("%Y-%q", "unknown directive %q"),
        ("%m-%d", "no year"),
        ("%Y[-%m", "unbalanced '['"),
        ("%Y-%m]", "unbalanced ']'"),
        ("%Y %Y", "appears twice"),
    ],
)
def test_bad_formats_are_refused(fmt: str, problem: str) -> None:
    with pytest.raises(ValueError, match=re.escape(problem)):
        compile_format(fmt)
    step = prepare({"type": "parse_date", "column": "v", "formats": [fmt]}).steps
    with pytest.raises(RecipeError) as info:
        apply_steps(table(v=["x"]), step)
    assert str(info.value).startswith("Step 1 (parse_date): ")
    assert problem in str(info.value)


def test_every_detect_format_compiles() -> None:
    for fmt in DETECT_FORMATS:
        assert compile_format(fmt).regex.startswith("^")


def test_extract_date_parts(run: Run) -> None:
    data = table(ts=[datetime(2014, 3, 3, 9), datetime(2014, 3, 9, 23), None])
    step = {
        "type": "extract_date_parts",
        "column": "ts",
        "parts": ["year", "month", "day", "day_of_week", "hour"],
    }
    rows = run(apply_steps(data, prepare(step).steps))
    assert [(r["year"], r["month"], r["day"], r["day_of_week"], r["hour"]) for r in rows] == [
        (2014, 3, 3, 1, 9),  # a Monday
        (2014, 3, 9, 7, 23),  # a Sunday
        (None, None, None, None, None),
    ]
    prefixed = apply_steps(data, prepare({**step, "parts": ["day"], "prefix": "ts_"}).steps)
    assert prefixed.columns == ("ts", "ts_day")


def test_extract_date_parts_needs_dates() -> None:
    step = {"type": "extract_date_parts", "column": "ts", "parts": ["day"]}
    with pytest.raises(RecipeError, match="add a 'parse_date' step first"):
        apply_steps(table(ts=["2014-03-01"]), prepare(step).steps)


def test_parse_date_keeps_timestamps(run: Run) -> None:
    data = table(ts=[datetime(2014, 3, 1, 10)])
    out = apply_steps(data, prepare({"type": "parse_date", "column": "ts", "output": "t"}).steps)
    assert column(run(out), "t") == [datetime(2014, 3, 1, 10)]
