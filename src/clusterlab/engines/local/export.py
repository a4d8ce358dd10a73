"""Export a dataset to CSV or Parquet, written atomically."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

import duckdb

from clusterlab.core.schema import Schema, StorageType
from clusterlab.engines.local.duck import ident, literal

# Spreadsheets run cells starting with these as formulas; '-' only when not a number.
_INJECTION = r"^([=+@\t\r]|-[^0-9.])"


def neutralised_select(schema: Schema) -> str:
    """A SELECT list that prefixes formula-like text cells with ``'`` (OWASP advice)."""
    parts = []
    for col in schema.columns:
        c = ident(col.name)
        if col.type is StorageType.STRING:
            parts.append(
                f"CASE WHEN regexp_matches({c}, {literal(_INJECTION)}) "
                f"THEN '''' || {c} ELSE {c} END AS {c}"
            )
        else:
            parts.append(c)
    return ", ".join(parts)


def export(
    con: duckdb.DuckDBPyConnection, from_sql: str, schema: Schema, dest: Path, fmt: str
) -> Path:
    """Write the dataset to ``dest`` as ``csv`` or ``parquet``, whole or not at all."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.tmp")
    if fmt == "csv":
        select, options = neutralised_select(schema), "FORMAT csv, HEADER true"
    else:
        select, options = "*", "FORMAT parquet, COMPRESSION snappy"
    sql = f"COPY (SELECT {select} FROM {from_sql}) TO {literal(str(tmp))} ({options})"
    try:
        con.execute(sql)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return dest
