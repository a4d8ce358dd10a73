"""Score a dataset on Spark with a Python scorer, in Arrow batches on the executors.

`score_dataset` is the Spark side of the apply recipe's contract (the local engine's
``LocalEngine.score``): a *scorer* maps a pandas batch of input rows to the columns to
add, e.g. the ``predict`` of a scikit-learn `~clusterlab.ml.model.ClusteringModel`
trained on the embedded engine. The scorer is shipped to the executors and called once
per Arrow batch through ``DataFrame.mapInArrow``: the input columns travel as the Arrow
arrays Spark hands over and are written back untouched (no pandas round trip, so an
integer column with gaps stays an integer column), exactly as the local engine keeps
DuckDB's batches. Only the scorer sees pandas, converted by pyarrow as on DuckDB.

The output is written into the version folder the caller gives (a staging folder);
publishing it is the caller's job, so a failed job publishes nothing.

Side effects of the scorer (counters, meters) happen on the executors and are lost:
a scorer must be a pure function of its batch.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from clusterlab.core.errors import ClusterLabError, InvalidInputError
from clusterlab.engines.base import InputData, Log, OutputResult
from clusterlab.engines.spark.engine import SparkJobError
from clusterlab.engines.spark.io import read_input, write_version

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

Scorer = Callable[[pd.DataFrame], pd.DataFrame]
"""Takes a batch of input rows, returns the columns to add (same length and order)."""
Progress = Callable[[int, int], None]
"""Called with (rows scored so far, total rows)."""

PROBE_ROWS = 1000
"""Rows the scorer is first run on, on the driver, to learn the added columns' types."""
_BATCH_CONF = "spark.sql.execution.arrow.maxRecordsPerBatch"
# Same mapping as the local engine's scorer output, so both write the same types.
_ARROW_TYPES = {"O": pa.string(), "f": pa.float64(), "i": pa.int64(), "b": pa.bool_()}


def added_type(values: pd.Series[Any]) -> pa.DataType:
    """The Arrow type a scorer's output column is written with.

    Examples
    --------
    >>> added_type(pd.Series(["a", None])), added_type(pd.Series([1.5]))
    (DataType(string), DataType(double))
    """
    return _ARROW_TYPES.get(values.dtype.kind, pa.string())


def to_arrow(values: pd.Series[Any], arrow_type: pa.DataType) -> pa.Array:
    """A scorer's output column as Arrow, with the type fixed by the probe.

    Every batch must give the declared type, even one where every label is empty.

    Examples
    --------
    >>> to_arrow(pd.Series(["x", None, float("nan")]), pa.string()).to_pylist()
    ['x', None, None]
    """
    if pa.types.is_string(arrow_type):
        values = values.astype(object).map(lambda v: None if v is None or v != v else str(v))
    return pa.array(values, type=arrow_type, from_pandas=True)


def _scored_batches(
    scorer: Scorer, kept: Sequence[str], added: dict[str, pa.DataType]
) -> Callable[[Iterable[pa.RecordBatch]], Iterable[pa.RecordBatch]]:
    """The function `mapInArrow` runs on the executors: input batches to scored batches."""

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            found = scorer(batch.to_pandas())
            if len(found) != batch.num_rows:
                raise InvalidInputError(
                    f"The scorer returned {len(found)} rows for a batch of {batch.num_rows}."
                )
            arrays = [batch.column(name) for name in kept if name not in added]
            names = [name for name in kept if name not in added]
            for name, arrow_type in added.items():
                arrays.append(to_arrow(found[name].reset_index(drop=True), arrow_type))
                names.append(name)
            yield pa.RecordBatch.from_arrays(arrays, names=names)

    return run


@contextlib.contextmanager
def arrow_batch_rows(session: SparkSession, rows: int) -> Iterator[None]:
    """Make Spark hand Python batches of at most ``rows`` rows for the block's jobs."""
    before = session.conf.get(_BATCH_CONF, None)
    session.conf.set(_BATCH_CONF, str(rows))
    try:
        yield
    finally:
        if before is None:
            session.conf.unset(_BATCH_CONF)
        else:
            session.conf.set(_BATCH_CONF, before)


@contextlib.contextmanager
def spark_errors(what: str) -> Iterator[None]:
    """Turn Spark's and Py4J's exceptions into a `SparkJobError` saying what failed."""
    try:
        yield
    except ClusterLabError:
        raise
    except Exception as exc:
        if not type(exc).__module__.startswith(("pyspark", "py4j")):
            raise
        lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
        # A Python error on an executor ends with its own message: show that line.
        first = next((ln for ln in reversed(lines) if "Error:" in ln), lines[0] if lines else "")
        raise SparkJobError(
            f"{what} failed on Spark: {first[:500]}. Nothing was published; fix the cause "
            "(see the job log) and run it again, or run it on the local engine."
        ) from exc


def scored_frame(
    frame: DataFrame, scorer: Scorer, columns: Sequence[str] | None, batch_rows: int
) -> DataFrame:
    """``frame`` with the scorer's columns added by `mapInArrow` (lazy: nothing runs).

    The scorer runs once on the driver on the first `PROBE_ROWS` rows to learn the
    names and types of the columns it adds; Spark needs the output schema up front.
    """
    from pyspark.sql import types as st
    from pyspark.sql.pandas.types import from_arrow_type

    names = list(frame.columns)
    kept = list(columns) if columns is not None else names
    if unknown := [c for c in kept if c not in names]:
        raise InvalidInputError(
            f"The apply recipe keeps column(s) {', '.join(map(repr, unknown))}, which the "
            f"input does not have (columns: {', '.join(names)}). Fix the columns list."
        )
    probe = frame.limit(min(PROBE_ROWS, batch_rows)).toArrow()
    if probe.num_rows == 0:
        raise InvalidInputError(
            "The apply recipe's input has no rows: build or import its input dataset first."
        )
    found = scorer(probe.to_pandas())
    added = {str(name): added_type(found[name]) for name in found.columns}
    fields = [frame.schema[name] for name in kept if name not in added]
    fields += [st.StructField(name, from_arrow_type(t), True) for name, t in added.items()]
    return frame.mapInArrow(_scored_batches(scorer, kept, added), st.StructType(fields))


def score_dataset(
    session: SparkSession,
    data: InputData,
    scorer: Scorer,
    output: Path,
    *,
    columns: Sequence[str] | None = None,
    batch_rows: int = 100_000,
    log: Log,
    progress: Progress | None = None,
) -> OutputResult:
    """Score ``data`` on Spark into the version folder ``output`` (``LocalEngine.score``).

    Parameters
    ----------
    session : SparkSession
        The session to run on (``SparkEngine.session``).
    data : InputData
        The dataset to score.
    scorer : callable
        A pandas batch of input rows to the columns to add; run on the executors, so
        it must be picklable and free of side effects.
    output : Path
        The (staging) version folder to write into.
    columns : sequence of str, optional
        Input columns kept in the output (all by default); the scorer sees them all.
    batch_rows : int
        Most rows per Arrow batch handed to the scorer.
    log, progress : callable
        Log lines; ``progress(done, total)`` is called at the start and at the end only,
        since the batches run on the executors.

    Returns
    -------
    OutputResult
        Rows written and the output's schema.

    Examples
    --------
    >>> result = score_dataset(session, data, model.predict, folder, log=print)  # doctest: +SKIP
    """
    with spark_errors(f"Scoring {data.name}"):
        frame = read_input(session, data)
        # Parquet row counts come from the file footers: a cheap job.
        total = frame.count()
        with arrow_batch_rows(session, batch_rows):
            scored = scored_frame(frame, scorer, columns, batch_rows)
            if progress:
                progress(0, total)
            schema, rows = write_version(scored, output)
    if progress:
        progress(rows, total)
    log(f"Scored {rows:,} rows on Spark in batches of at most {batch_rows:,}")
    return OutputResult(rows=rows, schema=schema)
