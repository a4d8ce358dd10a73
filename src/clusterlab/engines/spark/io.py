"""Parquet dataset I/O for the Spark engine: read inputs, write output versions.

An output is written by Spark into a scratch folder inside the version folder it was
given (a staging folder of `clusterlab.storage.versions.VersionStore`), then its part
files are moved up and Spark's bookkeeping files dropped, so a version written by
Spark looks exactly like one written by DuckDB: ``part-*.parquet`` plus
``schema.json``. Nothing is published here; a failure leaves only the staging folder,
which the caller removes.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq

from clusterlab.core.dataset import DatasetKind, FileFormat
from clusterlab.core.errors import InvalidInputError, UnsupportedError
from clusterlab.core.meanings import detect_meaning
from clusterlab.core.schema import Column, Schema, StorageType
from clusterlab.engines.base import InputData

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SCHEMA_FILE = "schema.json"
# Values per column that meaning detection looks at: the same sample as the local engine.
MEANING_SAMPLE_ROWS = 1000
_SCRATCH = "_spark_output"


def path_uri(path: Path) -> str:
    """The URI Spark reads ``path`` from (an absolute local path)."""
    return path.resolve().as_uri()


def version_uri(folder: Path) -> str:
    """The URI of a version's data files only: ``schema.json`` and ``build.json`` sit
    beside them, and Spark would try to read every file of the folder as Parquet."""
    return f"{path_uri(folder)}/*.parquet"


def read_input(session: SparkSession, data: InputData) -> DataFrame:
    """A DataFrame over one input dataset (a managed version or an external file)."""
    if data.kind is DatasetKind.MANAGED:
        return session.read.parquet(version_uri(data.path))
    if not data.path.is_file():
        raise InvalidInputError(
            f"Dataset {data.name}: file not found: {data.path}. Check its path and try again."
        )
    if data.format is FileFormat.PARQUET:
        return session.read.parquet(path_uri(data.path))
    if data.format is FileFormat.JSONL:
        return session.read.json(path_uri(data.path))
    if data.format is FileFormat.CSV:
        return _read_csv(session, data)
    raise UnsupportedError(
        f"Dataset {data.name}: the Spark engine cannot read {data.format.value} files "
        f"({data.path.name}); import it as a managed dataset first (a sync recipe on the "
        "local engine), or export it as CSV or Parquet."
    )


def _read_csv(session: SparkSession, data: InputData) -> DataFrame:
    options = data.csv
    reader = session.read.option("inferSchema", "true").option("mode", "FAILFAST")
    reader = reader.option("header", "true" if options.header in (None, True) else "false")
    delimiter = options.delimiter or ("\t" if data.path.suffix.lower() == ".tsv" else ",")
    reader = reader.option("sep", delimiter).option("encoding", options.encoding or "UTF-8")
    if options.quote:
        reader = reader.option("quote", options.quote).option("escape", options.quote)
    return reader.csv(path_uri(data.path))


def _storage_type(spark_type: Any) -> StorageType | None:
    """Our storage type for a Spark SQL type; None if the column must be converted."""
    from pyspark.sql import types as st

    if isinstance(spark_type, st.ByteType | st.ShortType | st.IntegerType | st.LongType):
        return StorageType.INTEGER
    if isinstance(spark_type, st.FloatType | st.DoubleType):
        return StorageType.DECIMAL
    if isinstance(spark_type, st.StringType):
        return StorageType.STRING
    if isinstance(spark_type, st.BooleanType):
        return StorageType.BOOLEAN
    if isinstance(spark_type, st.DateType):
        return StorageType.DATE
    if isinstance(spark_type, st.TimestampType | st.TimestampNTZType):
        return StorageType.TIMESTAMP
    return None


def normalise(frame: DataFrame) -> DataFrame:
    """Convert the columns to the six storage types, as the local engine does.

    Decimals become doubles; timestamps become naive (their UTC wall-clock, the session
    time zone) so the files hold the same values DuckDB writes; anything else (arrays,
    structs, maps, binary, intervals) becomes text.
    """
    from pyspark.sql import functions as sf
    from pyspark.sql import types as st

    columns = []
    for field in frame.schema.fields:
        col = sf.col(f"`{field.name.replace('`', '``')}`")
        kind = _storage_type(field.dataType)
        if isinstance(field.dataType, st.TimestampType):
            col = col.cast(st.TimestampNTZType())
        elif isinstance(field.dataType, st.DecimalType):
            col = col.cast(st.DoubleType())
        elif kind is None:
            col = col.cast(st.StringType())
        columns.append(col.alias(field.name))
    return frame.select(*columns)


def write_version(frame: DataFrame, folder: Path) -> tuple[Schema, int]:
    """Write ``frame`` into the version ``folder`` as Parquet plus its schema.

    Returns the schema and the number of rows written.
    """
    scratch = folder / _SCRATCH
    normalised = normalise(frame)
    normalised.write.mode("errorifexists").option("compression", "snappy").parquet(
        path_uri(scratch)
    )
    parts = sorted(scratch.glob("part-*.parquet"))
    for i, part in enumerate(parts):
        part.rename(folder / f"part-{i:05d}.parquet")
    shutil.rmtree(scratch)
    files = sorted(folder.glob("part-*.parquet"))
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    schema = infer_schema(normalised, files)
    (folder / SCHEMA_FILE).write_text(schema.model_dump_json(indent=2), encoding="utf-8")
    return schema, rows


def infer_schema(frame: DataFrame, files: list[Path]) -> Schema:
    """Storage types from the DataFrame, meanings from the first written rows.

    The sample is read back from the files with pyarrow on the driver: no Spark job,
    and the same Python values the local engine's sample gives.
    """
    sample: dict[str, list[str | None]] = {f.name: [] for f in frame.schema.fields}
    taken = 0
    for file in files:
        if taken >= MEANING_SAMPLE_ROWS:
            break
        for batch in pq.ParquetFile(file).iter_batches(batch_size=MEANING_SAMPLE_ROWS - taken):
            for name, values in zip(batch.schema.names, batch.columns, strict=True):
                sample[name].extend(None if v is None else str(v) for v in values.to_pylist())
            taken += batch.num_rows
            break
    columns = []
    for field in frame.schema.fields:
        kind = _storage_type(field.dataType) or StorageType.STRING
        values = sample[field.name]
        columns.append(Column(name=field.name, type=kind, meaning=detect_meaning(values, kind)))
    return Schema(columns=tuple(columns))
