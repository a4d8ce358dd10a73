"""A dataset of a project: its schema, rows, statistics and exports."""

from __future__ import annotations

import shutil
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
import pyarrow as pa

from clusterlab.core.dataset import DatasetKind, DatasetSpec, FileFormat
from clusterlab.core.errors import InvalidInputError, NotFoundError, StorageError
from clusterlab.core.explore import DatasetStats, RowQuery
from clusterlab.core.schema import Meaning, Schema
from clusterlab.engines.local import explore
from clusterlab.engines.local.duck import connect, ident, shared_cursor
from clusterlab.engines.local.export import export as export_file
from clusterlab.engines.local.reader import open_file
from clusterlab.engines.local.store import (
    infer_schema,
    read_schema,
    read_version,
    version_rows,
    version_sql,
)
from clusterlab.storage.versions import VersionStore

if TYPE_CHECKING:
    from clusterlab.services.project import Project

_STATS: OrderedDict[tuple[str, str, str], DatasetStats] = OrderedDict()
"""Statistics computed in this process, oldest first (see `Dataset.stats`)."""
_STATS_KEPT = 32
_STATS_LOCK = threading.Lock()


@dataclass
class _Readable:
    con: duckdb.DuckDBPyConnection
    from_sql: str
    schema: Schema
    folder: Path | None = None
    """The version folder of a managed dataset."""


class Dataset:
    """A named table of a project, managed (Parquet versions) or external (a file read in place).

    Examples
    --------
    >>> import clusterlab as cl, pandas as pd, tempfile
    >>> ws = cl.Workspace(tempfile.mkdtemp())
    >>> ds = ws.create_project("DEMO").create_dataset("t", pd.DataFrame({"a": [1, 2]}))
    >>> ds.rows
    2
    """

    def __init__(self, project: Project, spec: DatasetSpec) -> None:
        self.project = project
        self.spec = spec

    def __repr__(self) -> str:
        return f"Dataset({self.project.key}.{self.name}, {self.spec.kind.value})"

    @property
    def name(self) -> str:
        """The dataset's name."""
        return self.spec.name

    @property
    def versions(self) -> VersionStore:
        """The version store of a managed dataset."""
        layout = self.project.workspace.layout
        return VersionStore(
            layout.dataset_data_dir(self.project.key, self.name),
            self.project.workspace.settings.kept_versions,
        )

    def has_data(self) -> bool:
        """Whether rows can be read: an external file, or a published managed version."""
        return self.spec.kind is DatasetKind.EXTERNAL or self.versions.current() is not None

    @contextmanager
    def _open(self) -> Iterator[_Readable]:
        managed = self.spec.kind is DatasetKind.MANAGED
        # A managed dataset is read through inline SQL: a cursor of the shared database
        # will do. An external file gets a view, so a database of its own.
        con = shared_cursor() if managed else connect()
        try:
            if managed:
                folder = self.versions.current()
                if folder is None:
                    raise StorageError(
                        f"Dataset {self.name!r} of project {self.project.key} has no data yet: "
                        "import or build it."
                    )
                schema = self._overridden(read_schema(folder))
                yield _Readable(con, version_sql(folder), schema, folder)
            else:
                with self._open_external(con) as readable:
                    yield readable
        finally:
            con.close()

    @contextmanager
    def _open_external(self, con: duckdb.DuckDBPyConnection) -> Iterator[_Readable]:
        # A view, not a copy: explore queries then stream the file, whatever its size.
        path = Path(self.spec.path or "")
        scratch = self.project.workspace.scratch_dir()
        try:
            fmt = self.spec.format or FileFormat.CSV
            with open_file(con, path, fmt, self.spec.csv, scratch) as src:
                src.relation.create_view("external_data", replace=True)
                schema = infer_schema(con, "external_data")
                yield _Readable(con, "external_data", self._overridden(schema))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _overridden(self, schema: Schema) -> Schema:
        for column, meaning in self.spec.meaning_overrides.items():
            if column in schema.names:
                schema = schema.with_meaning(column, meaning)
        return schema

    @property
    def schema(self) -> Schema:
        """Columns with storage type and meaning (user overrides applied)."""
        with self._open() as r:
            return r.schema

    @property
    def rows(self) -> int:
        """The number of rows."""
        folder = self.versions.current() if self.spec.kind is DatasetKind.MANAGED else None
        if folder is not None:  # counted in the files' footers: no DuckDB to start
            return version_rows(folder)
        with self._open() as r:
            return explore.count_rows(r.con, r.from_sql)

    def to_arrow(self, columns: Sequence[str] | None = None, limit: int | None = None) -> pa.Table:
        """Rows as an Arrow table: all columns or ``columns``, all rows or the first ``limit``.

        Only the asked columns are read from the Parquet files.
        """
        with self._open() as r:
            if columns is None:
                select = "*"
            else:
                unknown = [c for c in columns if c not in r.schema.names]
                if unknown:
                    raise NotFoundError(
                        f"Dataset {self.name!r} has no column(s) {', '.join(map(repr, unknown))}; "
                        f"its columns are: {', '.join(r.schema.names)}."
                    )
                select = ", ".join(ident(c) for c in columns)
            query = f"SELECT {select} FROM {r.from_sql}"
            if r.folder is not None and limit is None:
                # DuckDB types the columns (a query without rows); pyarrow reads them.
                typed = r.con.sql(f"{query} LIMIT 0").to_arrow_table().schema
                return read_version(r.folder, typed)
            tail = "" if limit is None else f" LIMIT {int(limit)}"
            return r.con.sql(f"{query}{tail}").to_arrow_table()

    def to_pandas(
        self, columns: Sequence[str] | None = None, limit: int | None = None
    ) -> pd.DataFrame:
        """Rows as a pandas DataFrame (see `to_arrow`; without arguments, the whole dataset)."""
        # Column by column, each Arrow column freed once converted: the rows are held
        # once, not twice (a training job's peak memory started here).
        return self.to_arrow(columns, limit).to_pandas(split_blocks=True, self_destruct=True)

    def fingerprint(self) -> str:
        """A text that changes whenever the rows may have changed.

        The published version's folder name for a managed dataset; the file's size and
        modification time for an external one.
        """
        if self.spec.kind is DatasetKind.MANAGED:
            folder = self.versions.current()
            return "" if folder is None else f"version:{folder.name}"
        stat = Path(self.spec.path or "").stat()
        return f"file:{stat.st_size}:{stat.st_mtime_ns}"

    def head(self, n: int = 5) -> pd.DataFrame:
        """The first ``n`` rows."""
        return self.page(RowQuery(limit=n))[0].to_pandas()

    def page(self, query: RowQuery | None = None) -> tuple[pa.Table, int]:
        """Rows after filters and sort, ``offset``/``limit`` applied, and the matching count."""
        with self._open() as r:
            return explore.page(r.con, r.from_sql, r.schema, query or RowQuery())

    def stats(self) -> DatasetStats:
        """Per-column statistics, computed in DuckDB over the files.

        Kept in this process while the rows and the dataset's settings are unchanged:
        on 1M rows x 15 columns they took ~3 s, and the explore view, the design
        guess of a new Lab task and the API each asked for them.
        """
        try:
            key = (str(self.versions.data_dir), self.spec.model_dump_json(), self.fingerprint())
        except OSError:  # an external file gone: opening it says so below
            key = None
        with _STATS_LOCK:
            found = _STATS.get(key) if key else None
        if found is not None:
            return found
        with self._open() as r:
            found = explore.column_stats(r.con, r.from_sql, r.schema)
        if key is None:
            return found
        with _STATS_LOCK:
            _STATS[key] = found
            while len(_STATS) > _STATS_KEPT:
                _STATS.popitem(last=False)
        return found

    def export(self, path: str | Path, format: str | None = None) -> Path:
        """Write the dataset to ``path`` as CSV or Parquet (from the suffix by default).

        Text cells a spreadsheet would run as formulas are prefixed with ``'`` in CSV.
        """
        dest = Path(path)
        fmt = format or ("parquet" if dest.suffix.lower() in {".parquet", ".pq"} else "csv")
        if fmt not in {"csv", "parquet"}:
            raise InvalidInputError(f"Cannot export to {fmt!r}: choose csv or parquet.")
        with self._open() as r:
            return export_file(r.con, r.from_sql, r.schema, dest, fmt)

    def set_meaning(self, column: str, meaning: Meaning | str) -> Dataset:
        """Override the detected meaning of ``column``."""
        try:
            chosen = Meaning(meaning)
        except ValueError:
            known = ", ".join(m.value for m in Meaning)
            raise InvalidInputError(
                f"Unknown meaning {meaning!r}: choose one of {known}."
            ) from None
        self.schema.column(column)
        overrides = {**self.spec.meaning_overrides, column: chosen}
        self.spec = self.spec.model_copy(update={"meaning_overrides": overrides})
        self.project.workspace.definitions.write_dataset(self.project.key, self.spec)
        return self


def missing(project_key: str, name: str, known: list[str]) -> NotFoundError:
    """The error for a dataset that does not exist, listing those that do."""
    listed = ", ".join(known) if known else "none yet"
    return NotFoundError(f"Project {project_key} has no dataset {name!r} (datasets: {listed}).")
