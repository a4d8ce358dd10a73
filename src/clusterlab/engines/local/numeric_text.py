"""Numbers that DuckDB's CSV sniffer left as text, typed as numbers on import.

The sniffer reads a value such as ``+5`` or ``+inf`` as text, so one of them in a
column of numbers made the whole column text: the Lab then saw a categorical feature
with thousands of levels and rejected it. DuckDB's cast reads those values fine, so a
text column is typed as a number when every one of its values casts to one: BIGINT
when every value is a plain integer, else DOUBLE.

Text that only looks numeric stays text: codes with a leading zero (``01234``, postal
codes) and columns whose every value starts with ``+`` (phone numbers). The first
rows are looked at before the whole file is read again, so files whose text columns
hold words cost nothing more.
"""

from __future__ import annotations

import duckdb

from clusterlab.engines.local.duck import ident

HEAD_ROWS = 5_000
"""Rows a text column is looked at first; only columns numeric there are checked whole."""

_INTEGER = r"[+-]?[0-9]+"
_LEADING_ZERO = r"^[+-]?0[0-9]"


def type_numeric_text(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """``relation`` with its text columns of numbers cast to BIGINT or DOUBLE."""
    text = [
        name
        for name, kind in zip(relation.columns, relation.types, strict=True)
        if str(kind) == "VARCHAR"
    ]
    if not text:
        return relation
    candidates = list(_numeric_columns(relation.limit(HEAD_ROWS), text))
    if not candidates:
        return relation
    found = _numeric_columns(relation, candidates)
    if not found:
        return relation
    casts = ", ".join(
        f"TRY_CAST(trim({ident(c)}) AS {kind}) AS {ident(c)}" for c, kind in found.items()
    )
    return relation.query("numeric_text", f"SELECT * REPLACE ({casts}) FROM numeric_text")


def _numeric_columns(relation: duckdb.DuckDBPyRelation, columns: list[str]) -> dict[str, str]:
    """Which of ``columns`` hold numbers only, with the type to give each."""
    counts = []
    for column in columns:
        value = f"trim({ident(column)})"
        counts += [
            f"count({ident(column)})",
            f"count(TRY_CAST({value} AS DOUBLE))",
            # Integers past BIGINT's range cast to nothing: those columns become DOUBLE.
            f"count(TRY_CAST({value} AS BIGINT)) FILTER "
            f"(WHERE regexp_full_match({value}, '{_INTEGER}'))",
            f"count(*) FILTER (WHERE regexp_matches({value}, '{_LEADING_ZERO}'))",
            f"count(*) FILTER (WHERE starts_with({value}, '+'))",
        ]
    # An aggregate without groups gives exactly one row.
    (row,) = relation.aggregate(", ".join(counts)).fetchall()
    found = {}
    for i, column in enumerate(columns):
        values, numbers, integers, leading_zero, plus = row[5 * i : 5 * i + 5]
        if values and numbers == values and not leading_zero and plus < values:
            found[column] = "BIGINT" if integers == values else "DOUBLE"
    return found
