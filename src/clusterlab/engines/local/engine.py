"""The embedded engine: recipes compiled by Ibis and run by DuckDB over Parquet."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import ibis
import pyarrow as pa

from clusterlab.core.dataset import DatasetKind
from clusterlab.core.recipes import RecipeSpec
from clusterlab.engines.base import InputData, Log, OutputResult
from clusterlab.engines.local.duck import connect, literal
from clusterlab.engines.local.reader import open_file
from clusterlab.engines.local.score import Progress as ScoreProgress
from clusterlab.engines.local.score import Scorer, score_view
from clusterlab.engines.local.store import write_version
from clusterlab.flow.compile import compile_recipe
from clusterlab.flow.diagnostics import prepare_checks


class LocalEngine:
    """DuckDB + Ibis; every run uses its own in-memory DuckDB connection."""

    name = "local"

    @contextmanager
    def _bound(
        self, inputs: Mapping[str, InputData]
    ) -> Iterator[tuple[duckdb.DuckDBPyConnection, ibis.BaseBackend, dict[str, ibis.Table]]]:
        con = connect()
        scratch = Path(tempfile.mkdtemp(prefix="clusterlab-engine-"))
        try:
            backend = ibis.duckdb.from_connection(con)
            tables = {}
            for i, (name, data) in enumerate(inputs.items()):
                view = f"input_{i}"
                if data.kind is DatasetKind.MANAGED:
                    con.sql(
                        f"CREATE VIEW {view} AS SELECT * FROM "
                        f"read_parquet({literal(str(data.path / '*.parquet'))})"
                    )
                else:
                    # A view streams the file (and any transcoded copy in scratch) at run time.
                    with open_file(con, data.path, data.format, data.csv, scratch) as src:
                        src.relation.create_view(view)
                tables[name] = backend.table(view)
            yield con, backend, tables
        finally:
            con.close()
            shutil.rmtree(scratch, ignore_errors=True)

    def score(
        self,
        data: InputData,
        scorer: Scorer,
        output: Path,
        *,
        columns: Sequence[str] | None = None,
        batch_rows: int = 100_000,
        log: Log,
        progress: ScoreProgress | None = None,
    ) -> OutputResult:
        """Score ``data`` in batches of ``batch_rows`` into the version folder ``output``."""
        with self._bound({data.name: data}) as (con, _backend, _tables):
            return score_view(
                con,
                "input_0",
                scorer,
                output,
                columns=columns,
                batch_rows=batch_rows,
                log=log,
                progress=progress,
            )

    def run_recipe(
        self,
        recipe: RecipeSpec,
        inputs: Mapping[str, InputData],
        outputs: Mapping[str, Path],
        log: Log,
    ) -> dict[str, OutputResult]:
        """Compile the recipe with Ibis, then let DuckDB write each output to Parquet."""
        results = {}
        with self._bound(inputs) as (con, backend, tables):
            compiled = compile_recipe(recipe, tables)
            for i, (name, expr) in enumerate(compiled.items()):
                view = f"output_{i}"
                # Registers the Python UDFs (GeoIP, user agent) the expression calls.
                backend._run_pre_execute_hooks(expr)
                backend.create_view(view, expr, overwrite=True)
                schema, rows = write_version(con, con.sql(f"SELECT * FROM {view}"), outputs[name])
                results[name] = OutputResult(rows=rows, schema=schema)
                log(f"{recipe.name}: wrote {rows:,} rows to {name}")
                written = backend.read_parquet(str(outputs[name] / "*.parquet"))
                for message, count in prepare_checks(recipe, written):
                    if n := int(backend.execute(count) or 0):
                        log(f"{recipe.name}: {message.format(n=f'{n:,}')}")
        return results

    def preview(
        self,
        recipe: RecipeSpec,
        inputs: Mapping[str, InputData],
        *,
        upto_step: int | None = None,
        limit: int = 100,
    ) -> dict[str, pa.Table]:
        """The first rows of each output, computed on the inputs' first rows."""
        with self._bound(inputs) as (_con, backend, tables):
            compiled = compile_recipe(recipe, tables, upto_step=upto_step)
            return {name: backend.to_pyarrow(expr.limit(limit)) for name, expr in compiled.items()}
