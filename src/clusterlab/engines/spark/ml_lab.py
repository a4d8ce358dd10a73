"""What the Lab and the Flow's ML recipes need from a Spark model besides training.

- `labelled_sample`: a bounded, cluster-stratified sample of the training rows brought
  to the driver (raw feature values, the preprocessed matrix before PCA, cluster
  names), for the report panels that need a matrix in memory: variables importance
  and the scatter plot. Their cost stays bounded whatever the rows.
- `label_sample`: several models' labels of the same sampled rows, to carry cluster
  names over when a train recipe retrains a saved model.
- `score_for_apply`: the apply recipe's columns for a Spark-flavor model, written on
  the executors.
- `label_pandas`: a Spark model's labels of a pandas frame, through the driver's
  session (``Model.predict`` of a model trained on Spark).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from clusterlab.core.errors import InvalidInputError
from clusterlab.engines.base import InputData, Log, OutputResult
from clusterlab.engines.spark.io import read_input, write_version
from clusterlab.engines.spark.ml_apply import spark_errors
from clusterlab.engines.spark.ml_model import PREDICTION_COLUMN, label_frame
from clusterlab.engines.spark.ml_prep import FEATURES_COLUMN, KEPT_COLUMN, PREFIX, sql_name
from clusterlab.ml.model import DISTANCE_COLUMN, LABEL_COLUMN

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_ROW_COLUMN = f"{PREFIX}row"
_MATRIX_COLUMN = f"{PREFIX}x"
# Each cluster keeps this many rows on top of its proportional share, so that a small
# cluster still shows in the scatter plot's balanced sample.
_PER_CLUSTER_ROWS = 200


class SparkLabeller(Protocol):
    """A Spark model: its PipelineModel and cluster names by label id."""

    pipeline: Any
    names: dict[int, str]


@dataclass(frozen=True)
class LabelledSample:
    """Training rows on the driver: raw values, preprocessed matrix and cluster names."""

    frame: pd.DataFrame
    matrix: np.ndarray[Any, np.dtype[np.float64]]
    labels: np.ndarray[Any, Any]


def _vectors(column: pa.ChunkedArray) -> np.ndarray[Any, np.dtype[np.float64]]:
    values = column.combine_chunks()
    width = len(values[0]) if len(values) else 0
    flat = values.flatten().to_numpy(zero_copy_only=False)
    return np.asarray(flat, dtype=np.float64).reshape(len(values), width)


def labelled_sample(
    model: SparkLabeller,
    frame: DataFrame,
    columns: Sequence[str],
    sizes: Mapping[int, int],
    *,
    rows: int,
    seed: int,
) -> LabelledSample:
    """About ``rows`` kept rows of ``frame``, drawn per cluster in proportion to ``sizes``.

    ``sizes`` are the rows per label id (from training); ``columns`` the raw columns
    to bring back beside the matrix.
    """
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as sf

    total = sum(sizes.values())
    fractions = {
        int(i): min(1.0, (rows * n / total + _PER_CLUSTER_ROWS) / n) for i, n in sizes.items() if n
    }
    scored = model.pipeline.transform(frame).where(sf.col(KEPT_COLUMN))
    thinned = scored.sampleBy(PREDICTION_COLUMN, fractions, seed=seed)
    table = thinned.select(
        *[sf.col(sql_name(c)) for c in columns],
        vector_to_array(sf.col(FEATURES_COLUMN)).alias(_MATRIX_COLUMN),
        sf.col(PREDICTION_COLUMN).cast("long").alias(PREDICTION_COLUMN),
    ).toArrow()
    ids = table.column(PREDICTION_COLUMN).to_numpy()
    labels = np.array([model.names.get(int(i)) for i in ids], dtype=object)
    raw = table.select(list(columns)).to_pandas()
    return LabelledSample(raw, _vectors(table.column(_MATRIX_COLUMN)), labels)


def label_sample(
    frame: DataFrame,
    models: Mapping[str, SparkLabeller],
    keep: Sequence[str],
    *,
    rows: int,
    seed: int,
) -> pd.DataFrame:
    """Columns ``keep`` of about ``rows`` random rows, with each model's labels beside.

    Each model of ``models`` adds a column of that name holding its cluster names
    (empty where its preprocessing drops the row).
    """
    from pyspark.sql import functions as sf

    labelled = frame
    for column, model in models.items():
        labelled = label_frame(model.pipeline, model.names, labelled, column)
    total = labelled.count()
    if total > rows:
        labelled = labelled.sample(withReplacement=False, fraction=rows / total, seed=seed)
    picked = [*keep, *models]
    table: pa.Table = labelled.select(*[sf.col(sql_name(c)) for c in picked]).toArrow()
    found: pd.DataFrame = table.to_pandas()
    return found


def score_for_apply(
    session: SparkSession,
    data: InputData,
    model: SparkLabeller,
    output: Path,
    *,
    names: Mapping[str, str],
    id_column: str,
    columns: Sequence[str] | None,
    distance: bool,
    log: Log,
) -> OutputResult:
    """Write ``data`` with the apply recipe's columns for a Spark model into ``output``.

    ``cluster_labels`` holds the analyst's name (``names``: cluster id → name) and
    ``id_column`` the name the algorithm gave. Spark models record no training
    centroids, so ``cluster_distance`` (when asked) is written empty.
    """
    from pyspark.sql import functions as sf

    added = [LABEL_COLUMN, id_column, *([DISTANCE_COLUMN] if distance else [])]
    with spark_errors(f"Scoring {data.name}"):
        frame = read_input(session, data)
        kept = list(columns) if columns is not None else list(frame.columns)
        if unknown := [c for c in kept if c not in frame.columns]:
            raise InvalidInputError(
                f"The apply recipe keeps column(s) {', '.join(map(repr, unknown))}, which "
                f"{data.name} does not have (columns: {', '.join(frame.columns)}). Fix the "
                "columns list."
            )
        labelled = label_frame(model.pipeline, model.names, frame, id_column)
        identity = sf.col(sql_name(id_column))
        shown = identity
        if names:
            renamed = sf.create_map(*[sf.lit(v) for pair in names.items() for v in pair])
            shown = sf.coalesce(sf.element_at(renamed, identity), identity)
        outputs = [shown.alias(LABEL_COLUMN), identity]
        if distance:
            outputs.append(sf.lit(None).cast("double").alias(DISTANCE_COLUMN))
        selected = [sf.col(sql_name(c)) for c in kept if c not in added]
        schema, written = write_version(labelled.select(*selected, *outputs), output)
    log(f"Scored {written:,} rows on Spark with a Spark model")
    return OutputResult(rows=written, schema=schema)


def label_pandas(
    session: SparkSession, model: SparkLabeller, frame: pd.DataFrame, inputs: Sequence[str]
) -> pd.Series[Any]:
    """The cluster name of each row of ``frame`` (aligned with its index), on Spark.

    Only the model's ``inputs`` columns are sent to Spark; the rows come back in order.
    """
    if missing := [c for c in inputs if c not in frame.columns]:
        raise InvalidInputError(
            f"The rows to label lack the model's input column(s) "
            f"{', '.join(map(repr, missing))}: pass a frame with every input feature."
        )
    table = pa.Table.from_pandas(frame[list(inputs)], preserve_index=False)
    table = table.append_column(_ROW_COLUMN, pa.array(np.arange(len(frame)), pa.int64()))
    with spark_errors("Labelling the rows"):
        labelled = label_frame(model.pipeline, model.names, session.createDataFrame(table))
        found = labelled.select(_ROW_COLUMN, LABEL_COLUMN).toArrow().to_pandas()
    labels = found.sort_values(_ROW_COLUMN)[LABEL_COLUMN].to_numpy(dtype=object)
    return pd.Series(labels, index=frame.index, dtype=object, name=LABEL_COLUMN)
