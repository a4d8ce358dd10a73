"""DuckDB connections and SQL quoting for the local engine."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import duckdb
import pyarrow as pa

from clusterlab.core.schema import StorageType


def connect() -> duckdb.DuckDBPyConnection:
    """A fresh in-memory DuckDB database, never shared across threads.

    Opening one costs ~30 ms and closing it ~8 ms; work that creates nothing in the
    catalog takes a `shared_cursor` instead.
    """
    return duckdb.connect(config={"preserve_insertion_order": True})


_shared: list[duckdb.DuckDBPyConnection] = []
_shared_lock = threading.Lock()
_left_by_fork: list[duckdb.DuckDBPyConnection] = []


def shared_cursor() -> duckdb.DuckDBPyConnection:
    """A new connection (cursor) to this process's shared in-memory database: ~0.01 ms.

    Arrow tables registered on it and temporary objects are its own, freed when it is
    closed. Anything made by CREATE would be seen by every cursor: work that creates
    views or tables opens a database of its own (`connect`).
    """
    with _shared_lock:
        if not _shared:
            _shared.append(connect())
        return _shared[0].cursor()


def _after_fork_in_child() -> None:
    global _shared_lock
    # The child's copy of the database has none of its threads: it is kept, unused and
    # never closed (closing would wait for those threads), and a new one opens on demand.
    _left_by_fork.extend(_shared)
    _shared.clear()
    _shared_lock = threading.Lock()  # another thread may have held it at the fork


os.register_at_fork(after_in_child=_after_fork_in_child)


@contextmanager
def arrow_tables(tables: Mapping[str, pa.Table]) -> Iterator[dict[str, Any]]:
    """Arrow tables as Ibis tables of a DuckDB connection of their own, closed on exit.

    The tables are scanned in place, not copied. Ibis memtables on its default
    connection stay registered (and their data alive) as long as anything refers to
    their expression; a connection of their own frees everything when the block ends.
    It is a cursor of the shared database (`shared_cursor`): a model's report
    registers its scored rows on every view, and opening a database each time cost
    ~40 ms.
    """
    import ibis

    raw = shared_cursor()
    try:
        for name, table in tables.items():
            raw.register(name, table)
        con = ibis.duckdb.from_connection(raw)
        yield {name: con.table(name) for name in tables}
    finally:
        raw.close()


def fetch_all(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[tuple[Any, ...]]:
    """Run a query and return all its rows (the connection is free again afterwards)."""
    return con.sql(sql, params=params).fetchall()


def fetch_one(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> tuple[Any, ...]:
    """Run a query expected to return exactly one row."""
    rows = fetch_all(con, sql, params)
    if len(rows) != 1:
        raise RuntimeError(f"expected one row, got {len(rows)}: {sql[:80]}")
    return rows[0]


def literal(value: str) -> str:
    """Quote a string (a path, a delimiter) as a SQL literal."""
    return "'" + value.replace("'", "''") + "'"


def ident(name: str) -> str:
    """Quote a column name as a SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


_INTEGER = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
_DECIMAL = {"FLOAT", "DOUBLE", "REAL"}


def storage_type(duck_type: str) -> StorageType | None:
    """Our storage type for a DuckDB column type; ``None`` if it must be converted first."""
    base = duck_type.upper().split("(")[0].strip()
    if base in _INTEGER:
        return StorageType.INTEGER
    if base in _DECIMAL:
        return StorageType.DECIMAL
    if base == "VARCHAR":
        return StorageType.STRING
    if base == "BOOLEAN":
        return StorageType.BOOLEAN
    if base == "DATE":
        return StorageType.DATE
    if base.startswith("TIMESTAMP"):
        return StorageType.TIMESTAMP
    return None


def normalising_select(columns: list[tuple[str, str]]) -> str:
    """A SELECT list that converts DuckDB types we do not store into ones we do.

    Decimals and unsigned 64-bit integers become doubles, 128-bit integers 64-bit ones,
    time zones are dropped to UTC timestamps, anything else (lists, structs, blobs,
    intervals) becomes text, so every dataset has one of the six storage types.
    """
    parts = []
    for name, duck_type in columns:
        base = duck_type.upper().split("(")[0].strip()
        kind = storage_type(duck_type)
        if kind is StorageType.TIMESTAMP and base != "TIMESTAMP":
            parts.append(f"CAST({ident(name)} AS TIMESTAMP) AS {ident(name)}")
        elif kind is not None:
            parts.append(ident(name))
        elif base == "HUGEINT":
            # DuckDB sums 64-bit integers into 128 bits; the values fit 64 bits in practice.
            parts.append(f"CAST({ident(name)} AS BIGINT) AS {ident(name)}")
        elif base in {"DECIMAL", "UBIGINT", "UHUGEINT"}:
            parts.append(f"CAST({ident(name)} AS DOUBLE) AS {ident(name)}")
        else:
            parts.append(f"CAST({ident(name)} AS VARCHAR) AS {ident(name)}")
    return ", ".join(parts)
