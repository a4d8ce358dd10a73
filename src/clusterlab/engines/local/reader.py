"""Turn a file (CSV/TSV, Parquet, JSON lines, Excel) into a DuckDB relation to read.

Format details are detected here (encoding, delimiter, header) and every failure is
turned into an `InvalidInputError` naming the file and, where it can, the line.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from clusterlab.core.dataset import CsvOptions, FileFormat
from clusterlab.core.errors import InvalidInputError, UnsupportedError
from clusterlab.engines.local.duck import literal
from clusterlab.engines.local.numeric_text import type_numeric_text
from clusterlab.engines.local.sniff import (
    detect_dialect,
    detect_encoding,
    find_ragged_line,
    looks_binary,
    read_head,
)

# Encodings DuckDB decodes itself; anything else is transcoded to UTF-8 first.
_DUCKDB_ENCODINGS = {"utf-8": "utf-8", "utf-16": "utf-16", "latin-1": "latin-1"}
_SUFFIXES = {
    ".csv": FileFormat.CSV,
    ".tsv": FileFormat.CSV,
    ".txt": FileFormat.CSV,
    ".parquet": FileFormat.PARQUET,
    ".pq": FileFormat.PARQUET,
    ".jsonl": FileFormat.JSONL,
    ".ndjson": FileFormat.JSONL,
    ".json": FileFormat.JSONL,
    ".xlsx": FileFormat.XLSX,
}


def guess_format(path: Path) -> FileFormat:
    """The file format from the file name (``.gz`` is looked through)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    fmt = _SUFFIXES.get(suffixes[-1]) if suffixes else None
    if fmt is None:
        known = ", ".join(sorted(_SUFFIXES))
        raise UnsupportedError(
            f"Cannot tell the format of {path.name!r} from its name: use one of {known} "
            "(optionally .gz), or give the format explicitly."
        )
    return fmt


@dataclass
class Source:
    """A relation over an input file, and what was noticed while opening it."""

    relation: duckdb.DuckDBPyRelation
    warnings: list[str] = field(default_factory=list)


def dedupe_names(names: list[str]) -> tuple[list[str], list[str]]:
    """Make column names unique with a ``_1``, ``_2`` … suffix; return names and warnings."""
    seen: set[str] = set()
    out: list[str] = []
    warnings: list[str] = []
    for name in names:
        candidate, n = name, 0
        while candidate in seen:
            n += 1
            candidate = f"{name}_{n}"
        if candidate != name:
            warnings.append(f"Duplicate column name {name!r} renamed to {candidate!r}.")
        seen.add(candidate)
        out.append(candidate)
    return out, warnings


@contextmanager
def open_file(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: FileFormat,
    options: CsvOptions,
    scratch: Path,
) -> Iterator[Source]:
    """Open ``path`` as a relation on ``con``; ``scratch`` may receive temporary files."""
    if not path.is_file():
        raise InvalidInputError(f"File not found: {path}. Check the path and try again.")
    if path.stat().st_size == 0:
        raise InvalidInputError(f"{path.name} is empty: there is nothing to import.")
    try:
        if fmt is FileFormat.CSV:
            yield _open_csv(con, path, options, scratch)
        elif fmt is FileFormat.PARQUET:
            yield Source(con.sql(f"SELECT * FROM read_parquet({literal(str(path))})"))
        elif fmt is FileFormat.JSONL:
            rel = con.sql(
                f"SELECT * FROM read_json({literal(str(path))}, format='newline_delimited')"
            )
            yield Source(rel)
        else:
            yield _open_excel(con, path)
    except duckdb.Error as exc:
        raise InvalidInputError(
            f"Cannot read {path.name} as {fmt.value}: {_first_line(exc)}"
        ) from exc


def open_arrow(con: duckdb.DuckDBPyConnection, table: pa.Table) -> Source:
    """A relation over an in-memory Arrow table, with duplicate names made unique."""
    names, warnings = dedupe_names([str(n) for n in table.column_names])
    table = table.rename_columns(names)
    con.register("arrow_input", table)
    return Source(con.sql("SELECT * FROM arrow_input"), warnings)


def dataframe_to_arrow(frame: pd.DataFrame) -> pa.Table:
    """Convert a DataFrame, keeping duplicate column names for `open_arrow` to resolve."""
    frame = frame.copy(deep=False)
    names = [str(c) for c in frame.columns]
    frame.columns = [f"__c{i}" for i in range(len(names))]
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.rename_columns(names)


def _open_excel(con: duckdb.DuckDBPyConnection, path: Path) -> Source:
    try:
        frame = pd.read_excel(path, engine="openpyxl", dtype=object)
    except Exception as exc:  # openpyxl raises many unrelated types for a bad file
        raise InvalidInputError(
            f"{path.name} is not a readable Excel .xlsx workbook: {exc}"
        ) from exc
    frame = frame.infer_objects()
    return open_arrow(con, dataframe_to_arrow(frame))


def _open_csv(
    con: duckdb.DuckDBPyConnection, path: Path, options: CsvOptions, scratch: Path
) -> Source:
    head = read_head(path)
    if looks_binary(head):
        raise InvalidInputError(
            f"{path.name} is not a text file (it contains binary data); "
            "import a CSV/TSV, Parquet, JSON lines or Excel file."
        )
    encoding = codecs.lookup(options.encoding or detect_encoding(head)).name
    encoding = {"utf-8-sig": "utf-8", "iso8859-1": "latin-1", "utf-16-le": "utf-16"}.get(
        encoding, encoding
    )
    text = head.decode(encoding, errors="replace").lstrip("\ufeff")
    hint = options.delimiter or ("\t" if ".tsv" in [s.lower() for s in path.suffixes] else None)
    dialect = detect_dialect(text, hint)
    header = dialect.has_header if options.header is None else options.header
    quote = options.quote or dialect.quote
    readable = path
    if encoding not in _DUCKDB_ENCODINGS:
        readable = _transcode(path, encoding, scratch)
        encoding = "utf-8"
    sql = (
        f"SELECT * FROM read_csv({literal(str(readable))}, delim={literal(dialect.delimiter)}, "
        f"quote={literal(quote)}, escape={literal(quote)}, header={str(header).lower()}, "
        f"encoding={literal(_DUCKDB_ENCODINGS[encoding])}, skip=0, strict_mode=true, "
        "sample_size=20480)"
    )
    try:
        relation = type_numeric_text(con.sql(sql))
    except duckdb.Error as exc:
        raise csv_error(path, encoding, dialect, exc) from exc
    warnings: list[str] = []
    if header:
        raw = next(csv.reader(io.StringIO(text), delimiter=dialect.delimiter, quotechar=quote))
        _, warnings = dedupe_names([c.strip() for c in raw])
    return Source(relation, warnings)


def csv_error(path: Path, encoding: str, dialect: object, exc: Exception) -> InvalidInputError:
    """The clearest error for a CSV DuckDB could not parse: the ragged line if there is one."""
    ragged = find_ragged_line(path, encoding, dialect)  # type: ignore[arg-type]
    if ragged is not None:
        line, found, expected = ragged
        return InvalidInputError(
            f"{path.name}, line {line}: found {found} fields where the file has {expected}. "
            "Fix or remove that line (or quote fields that contain the delimiter) and import again."
        )
    return InvalidInputError(f"Cannot parse {path.name} as CSV: {_first_line(exc)}")


def _transcode(path: Path, encoding: str, scratch: Path) -> Path:
    target = scratch / "transcoded.csv"
    opener = _open_maybe_gzip(path)
    with opener as raw, open(target, "w", encoding="utf-8", newline="") as out:
        reader = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        shutil.copyfileobj(reader, out, 1 << 20)
    return target


def _open_maybe_gzip(path: Path) -> io.BufferedReader:
    import gzip

    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    text = re.sub(r"^[A-Za-z ]+Error: ", "", text)
    return text.splitlines()[0] if text else type(exc).__name__
