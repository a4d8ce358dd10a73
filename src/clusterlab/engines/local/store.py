"""Write relations as managed dataset versions (Parquet) and infer their schema."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from clusterlab.core.meanings import detect_meaning
from clusterlab.core.schema import Column, Schema, StorageType
from clusterlab.engines.local.duck import (
    fetch_all,
    fetch_one,
    literal,
    normalising_select,
    storage_type,
)

SCHEMA_FILE = "schema.json"
# Values per column that meaning detection looks at, like DSS's sample of first rows.
MEANING_SAMPLE_ROWS = 1000


def write_version(
    con: duckdb.DuckDBPyConnection, relation: duckdb.DuckDBPyRelation, folder: Path
) -> tuple[Schema, int]:
    """Write ``relation`` into a version ``folder`` as Parquet plus its schema.

    Returns the schema and the number of rows written.
    """
    columns = list(zip(relation.columns, [str(t) for t in relation.types], strict=True))
    relation.create_view("clusterlab_write_input", replace=True)
    target = folder / "part-0.parquet"
    # Snappy, DuckDB's default: zstd files are ~25% smaller but take twice as long to write.
    (rows,) = fetch_one(
        con,
        f"COPY (SELECT {normalising_select(columns)} FROM clusterlab_write_input) "
        f"TO {literal(str(target))} (FORMAT parquet, COMPRESSION snappy)",
    )
    schema = infer_schema(con, f"read_parquet({literal(str(target))})")
    (folder / SCHEMA_FILE).write_text(schema.model_dump_json(indent=2), encoding="utf-8")
    return schema, int(rows)


def infer_schema(con: duckdb.DuckDBPyConnection, from_sql: str) -> Schema:
    """Storage types from the relation, meanings from its first rows."""
    described = fetch_all(con, f"DESCRIBE SELECT * FROM {from_sql}")
    sample = fetch_all(con, f"SELECT * FROM {from_sql} LIMIT {MEANING_SAMPLE_ROWS}")
    columns = []
    for i, (name, duck_type, *_rest) in enumerate(described):
        kind = storage_type(str(duck_type)) or StorageType.STRING
        values = [None if r[i] is None else str(r[i]) for r in sample]
        columns.append(Column(name=name, type=kind, meaning=detect_meaning(values, kind)))
    return Schema(columns=tuple(columns))


def read_schema(folder: Path) -> Schema:
    """The schema stored with a version."""
    return Schema.model_validate_json((folder / SCHEMA_FILE).read_text(encoding="utf-8"))


def version_sql(folder: Path) -> str:
    """The FROM-clause expression reading a version's Parquet files."""
    return f"read_parquet({literal(str(folder / '*.parquet'))})"


def version_rows(folder: Path) -> int:
    """The number of rows of a version, from its Parquet files' footers (no data read)."""
    return sum(pq.read_metadata(path).num_rows for path in folder.glob("*.parquet"))


def read_version(folder: Path, schema: pa.Schema) -> pa.Table:
    """Every row of a version, in file order, with the columns and types of ``schema``.

    ``schema`` is what DuckDB's ``SELECT`` of these columns gives (asked with a query
    that returns no row), so the table equals the one of that query. pyarrow decodes
    the files on every core straight into the table's buffers: on 1M rows x 15 floats
    the rows reached pandas in 0.08-0.19 s, against 0.41-0.54 s through DuckDB, whose
    result comes in chunks that pandas must join.
    """
    files = [str(path) for path in sorted(folder.glob("*.parquet"))]
    table = pq.read_table(files, columns=schema.names)
    return table if table.schema.equals(schema) else table.cast(schema)
