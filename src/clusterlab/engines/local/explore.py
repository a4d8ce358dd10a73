"""Explore a dataset in DuckDB over its files: pages of rows, counts and statistics.

Everything runs as SQL over Parquet (or the external file), so a 10M-row dataset is
explored without ever being loaded into pandas.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.explore import (
    ColumnStats,
    DatasetStats,
    FilterOp,
    HistogramBin,
    RowQuery,
    TopValue,
)
from clusterlab.core.schema import Schema, StorageType
from clusterlab.engines.local.duck import fetch_all, fetch_one, ident

HISTOGRAM_BINS = 20
TOP_VALUES = 10
_NUMERIC = {StorageType.INTEGER, StorageType.DECIMAL}
_COMPARE = {
    FilterOp.EQ: "=",
    FilterOp.NE: "<>",
    FilterOp.LT: "<",
    FilterOp.LE: "<=",
    FilterOp.GT: ">",
    FilterOp.GE: ">=",
}


def count_rows(con: duckdb.DuckDBPyConnection, from_sql: str) -> int:
    """The number of rows (Parquet answers this from its footers)."""
    return int(fetch_one(con, f"SELECT count(*) FROM {from_sql}")[0])


def _where(query: RowQuery, schema: Schema) -> tuple[str, list[Any]]:
    clauses, params = [], []
    for flt in query.filters:
        col = ident(schema.column(flt.column).name)
        if flt.op is FilterOp.IS_EMPTY:
            clauses.append(f"({col} IS NULL OR CAST({col} AS VARCHAR) = '')")
        elif flt.op is FilterOp.NOT_EMPTY:
            clauses.append(f"({col} IS NOT NULL AND CAST({col} AS VARCHAR) <> '')")
        elif flt.op is FilterOp.CONTAINS:
            clauses.append(f"contains(lower(CAST({col} AS VARCHAR)), lower(?))")
            params.append(str(flt.value))
        else:
            clauses.append(f"{col} {_COMPARE[flt.op]} ?")
            params.append(flt.value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def page(
    con: duckdb.DuckDBPyConnection, from_sql: str, schema: Schema, query: RowQuery
) -> tuple[pa.Table, int]:
    """One page of rows and the number of rows matching the filters."""
    where, params = _where(query, schema)
    order = ", ".join(
        f"{ident(schema.column(k.column).name)} {'ASC' if k.ascending else 'DESC'} NULLS LAST"
        for k in query.sort
    )
    sql = f"SELECT * FROM {from_sql}{where}"
    if order:
        sql += f" ORDER BY {order}"
    try:
        total = int(fetch_one(con, f"SELECT count(*) FROM {from_sql}{where}", params)[0])
        table = con.sql(
            f"{sql} LIMIT {int(query.limit)} OFFSET {int(query.offset)}", params=params
        ).to_arrow_table()
    except duckdb.ConversionException as exc:
        raise InvalidInputError(f"A filter value does not fit its column: {exc}") from exc
    return table, total


def column_stats(con: duckdb.DuckDBPyConnection, from_sql: str, schema: Schema) -> DatasetStats:
    """Missing, distinct, min, max, mean, std, top values and a histogram per column."""
    parts = ["count(*)"]
    for col in schema.columns:
        c = ident(col.name)
        numeric = col.type in _NUMERIC
        parts += [
            f"count({c})",
            f"min({c})",
            f"max({c})",
            f"avg({c})" if numeric else "NULL",
            f"stddev_samp({c})" if numeric else "NULL",
            # The histogram spans finite values: ±inf would make its bins infinite.
            f"min({c}::DOUBLE) FILTER (WHERE isfinite({c}::DOUBLE))" if numeric else "NULL",
            f"max({c}::DOUBLE) FILTER (WHERE isfinite({c}::DOUBLE))" if numeric else "NULL",
        ]
    row = fetch_one(con, f"SELECT {', '.join(parts)} FROM {from_sql}")
    rows = int(row[0])
    stats = []
    for i, col in enumerate(schema.columns):
        present, lo, hi, mean, std, finite_lo, finite_hi = row[1 + 7 * i : 8 + 7 * i]
        # One column at a time: distinct values need a hash set each, and all of them
        # at once took 700 MiB for 1M rows x 15 columns (a column reads alone from Parquet).
        distinct, top_values = _distinct_and_top(con, from_sql, col.name)
        histogram: tuple[HistogramBin, ...] = ()
        if col.type in _NUMERIC and finite_lo is not None and finite_hi is not None:
            histogram = _histogram(con, from_sql, col.name, float(finite_lo), float(finite_hi))
        stats.append(
            ColumnStats(
                name=col.name,
                type=col.type.value,
                meaning=col.meaning.value,
                count=rows,
                missing=rows - int(present),
                distinct=int(distinct),
                min=lo,
                max=hi,
                mean=None if mean is None else float(mean),
                std=None if std is None else float(std),
                top_values=top_values,
                histogram=histogram,
            )
        )
    return DatasetStats(rows=rows, columns=tuple(stats))


def _distinct_and_top(
    con: duckdb.DuckDBPyConnection, from_sql: str, name: str
) -> tuple[int, tuple[TopValue, ...]]:
    """The number of distinct values of column ``name`` and its most frequent ones.

    Both from one grouping, kept while both are read: on 1M distinct doubles a count
    of distinct values and a top-values query each took ~0.12 s, as long as this.
    """
    c = ident(name)
    found = fetch_all(
        con,
        f"WITH g AS MATERIALIZED (SELECT {c} AS v, count(*) AS n FROM {from_sql} "
        f"WHERE {c} IS NOT NULL GROUP BY {c}) "
        f"SELECT v, n, (SELECT count(*) FROM g) FROM g ORDER BY n DESC, v LIMIT {TOP_VALUES}",
    )
    distinct = int(found[0][2]) if found else 0
    return distinct, tuple(TopValue(value=v, count=int(n)) for v, n, _ in found)


def _histogram(
    con: duckdb.DuckDBPyConnection, from_sql: str, name: str, lo: float, hi: float
) -> tuple[HistogramBin, ...]:
    c = ident(name)
    width = (hi - lo) / HISTOGRAM_BINS or 1.0
    counts = dict(
        fetch_all(
            con,
            f"SELECT least(CAST(floor(({c} - {lo!r}) / {width!r}) AS INTEGER), "
            f"{HISTOGRAM_BINS - 1}) AS b, count(*) FROM {from_sql} "
            f"WHERE {c} IS NOT NULL AND isfinite({c}) GROUP BY 1",
        )
    )
    return tuple(
        HistogramBin(low=lo + i * width, high=lo + (i + 1) * width, count=int(counts.get(i, 0)))
        for i in range(HISTOGRAM_BINS)
    )
