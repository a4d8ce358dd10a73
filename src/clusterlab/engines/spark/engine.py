"""The Spark engine: recipes compiled by Ibis and run by PySpark over Parquet.

The recipe compilers of `clusterlab.flow` are shared with the local engine; only the
binding of input tables and the writing of outputs differ. Row-wise Python processors
(GeoIP, user agent) are Ibis pyarrow UDFs, which `clusterlab.engines.spark.backend`
registers as Spark pandas UDFs (one call per Arrow batch).

Before any Spark job starts, a recipe is checked against the engine's declared
`capabilities`; an unsupported one is refused with the reason.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from clusterlab.core.errors import ClusterLabError
from clusterlab.core.recipes import RecipeSpec
from clusterlab.engines.base import InputData, Log, OutputResult
from clusterlab.engines.capabilities import EngineCapabilities
from clusterlab.engines.spark.capabilities import SPARK_CAPABILITIES
from clusterlab.engines.spark.io import read_input, version_uri, write_version
from clusterlab.engines.spark.session import get_session
from clusterlab.engines.spark.settings import SparkSettings
from clusterlab.flow.compile import compile_recipe
from clusterlab.flow.diagnostics import prepare_checks

if TYPE_CHECKING:
    import ibis
    from pyspark.sql import SparkSession

# Temporary views of concurrent runs in one session must not collide.
_run_ids = itertools.count()


class SparkJobError(ClusterLabError):
    """A Spark job of a recipe failed; the message carries Spark's own first line."""


class SparkEngine:
    """PySpark + Ibis: one SparkSession per process, started on first use.

    Parameters
    ----------
    settings : SparkSettings, optional
        Master URL and Spark properties; read from ``CLUSTERLAB_SPARK_*`` by default.

    Examples
    --------
    >>> engine = SparkEngine(SparkSettings(master="local[2]"))
    >>> engine.name
    'spark'
    """

    name = "spark"
    capabilities: EngineCapabilities = SPARK_CAPABILITIES

    def __init__(self, settings: SparkSettings | None = None) -> None:
        self.settings = settings or SparkSettings.from_env()

    @property
    def session(self) -> SparkSession:
        """The SparkSession this engine runs on (started on first access)."""
        return get_session(self.settings)

    @contextlib.contextmanager
    def _bound(
        self, inputs: Mapping[str, InputData]
    ) -> Iterator[tuple[ibis.BaseBackend, dict[str, ibis.Table]]]:
        # Imported here, not at the top: the backend module imports pyspark.
        from clusterlab.engines.spark.backend import connect

        session = self.session
        backend = connect(session)
        run = next(_run_ids)
        views = []
        try:
            tables = {}
            for i, (name, data) in enumerate(inputs.items()):
                view = f"clusterlab_r{run}_input_{i}"
                read_input(session, data).createOrReplaceTempView(view)
                views.append(view)
                tables[name] = backend.table(view)
            yield backend, tables
        finally:
            for view in views:
                session.catalog.dropTempView(view)

    def score(
        self,
        data: InputData,
        scorer: Any,
        output: Path,
        *,
        columns: Sequence[str] | None = None,
        batch_rows: int = 100_000,
        log: Log,
        progress: Any = None,
    ) -> OutputResult:
        """Score ``data`` on the executors in Arrow batches into the version folder ``output``.

        Same contract as the local engine's ``score``: ``scorer`` maps a pandas batch to
        the columns to add (e.g. a scikit-learn model's predict, run in the workers).
        """
        from clusterlab.engines.spark.ml_apply import score_dataset

        return score_dataset(
            self.session,
            data,
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
        """Compile the recipe with Ibis, run it on Spark and write each output to Parquet.

        Each output is written into its given folder only; publishing the folders is
        the caller's job, so a failed job leaves no partial dataset behind.
        """
        self.capabilities.check(recipe, inputs)
        results = {}
        with _spark_errors(recipe), self._bound(inputs) as (backend, tables):
            compiled = compile_recipe(recipe, tables)
            for name, expr in compiled.items():
                # Registers the Python UDFs (GeoIP, user agent) the expression calls.
                backend._run_pre_execute_hooks(expr)
                frame = self.session.sql(backend.compile(expr))
                schema, rows = write_version(frame, outputs[name])
                results[name] = OutputResult(rows=rows, schema=schema)
                log(f"{recipe.name}: wrote {rows:,} rows to {name} (Spark)")
                self._log_checks(backend, recipe, outputs[name], log)
        return results

    def _log_checks(self, backend: Any, recipe: RecipeSpec, folder: Path, log: Log) -> None:
        """Log the cells a prepare step could not make sense of, counted on the output."""
        if recipe.type != "prepare":
            return
        view = f"clusterlab_r{next(_run_ids)}_written"
        written = backend.read_parquet(version_uri(folder), table_name=view)
        try:
            for message, count in prepare_checks(recipe, written):
                if n := int(backend.execute(count) or 0):
                    log(f"{recipe.name}: {message.format(n=f'{n:,}')}")
        finally:
            self.session.catalog.dropTempView(view)

    def preview(
        self,
        recipe: RecipeSpec,
        inputs: Mapping[str, InputData],
        *,
        upto_step: int | None = None,
        limit: int = 100,
    ) -> dict[str, pa.Table]:
        """The first ``limit`` rows of each output (after step ``upto_step`` of a prepare)."""
        self.capabilities.check(recipe, inputs)
        with _spark_errors(recipe), self._bound(inputs) as (backend, tables):
            compiled = compile_recipe(recipe, tables, upto_step=upto_step)
            return {name: backend.to_pyarrow(expr.limit(limit)) for name, expr in compiled.items()}


@contextlib.contextmanager
def _spark_errors(recipe: RecipeSpec) -> Iterator[None]:
    """Turn Spark's and Py4J's exceptions into a `SparkJobError` naming the recipe."""
    try:
        yield
    except ClusterLabError:
        raise
    except Exception as exc:
        if not _is_spark_error(exc):
            raise
        first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "")
        raise SparkJobError(
            f"Recipe {recipe.name} ({recipe.type}) failed on Spark: {first[:500]}. "
            "Nothing was published; fix the cause (see the job log) and build again, "
            "or run the recipe on the local engine."
        ) from exc


def _is_spark_error(exc: BaseException) -> bool:
    module = type(exc).__module__
    return module.startswith(("pyspark", "py4j"))
