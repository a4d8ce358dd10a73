"""What training on Spark measures on the driver: the silhouette, and the row sample.

The silhouette is computed *the same way on both engines*: with
`clusterlab.ml.metrics` on the driver, over every clustered row up to the design's
exact threshold, and above it over a cluster-stratified sample of the configured size.
On Spark the rows are first thinned on the executors with ``sampleBy`` (each cluster
keeps a little more than its quota), then `~clusterlab.ml.metrics.stratified_sample`
picks the exact quotas on the driver, so the two engines' figures compare.

`sample_rows` applies the design's sampling on Spark. Its rows are drawn by Spark's
own random generator: the same seed gives the same rows on every run, but not the
rows the local engine draws; ``random_n`` keeps about ``n`` rows (a Bernoulli sample).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.mltask import MetricsSpec, SamplingSpec
from clusterlab.ml.metrics import silhouette, silhouette_score_of, stratified_sample

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

_MISSING_STRATUM = "\x00missing"
# A cluster's share of the Spark-side sample is padded so that the driver can still
# pick its exact quota from it: a Bernoulli sample falls short about half the time.
_OVERSAMPLE = 1.25
_OVERSAMPLE_ROWS = 20


def sample_rows(frame: DataFrame, spec: SamplingSpec) -> DataFrame:
    """The rows of ``frame`` the design's sampling selects (lazy, seeded).

    Examples
    --------
    >>> sample_rows(frame, SamplingSpec(method="random_ratio", ratio=0.1))  # doctest: +SKIP
    """
    from pyspark.sql import functions as sf

    if spec.method == "all":
        return frame
    if spec.method == "first_n":
        return frame.limit(spec.n)
    if spec.method == "random_ratio":
        return frame.sample(withReplacement=False, fraction=spec.ratio, seed=spec.seed)
    if spec.method == "random_n":
        total = frame.count()
        if spec.n >= total:
            return frame
        return frame.sample(withReplacement=False, fraction=spec.n / total, seed=spec.seed)
    column = spec.column or ""
    if column not in frame.columns:
        raise InvalidInputError(
            f"Stratified sampling is on column {column!r}, which the data does not have "
            f"(columns: {', '.join(frame.columns)}). Choose another column."
        )
    # Missing values form a stratum of their own, as on the local engine.
    stratum = sf.coalesce(sf.col(column).cast("string"), sf.lit(_MISSING_STRATUM))
    keys = [r[0] for r in frame.select(stratum).distinct().collect()]
    return frame.sampleBy(stratum, dict.fromkeys(keys, spec.ratio), seed=spec.seed)


def _matrix(frame: DataFrame, features: str, labels: str) -> tuple[Any, Any]:
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as sf

    table = frame.select(
        vector_to_array(sf.col(features)).alias("x"), sf.col(labels).cast("long").alias("y")
    ).toArrow()
    y = table.column("y").to_numpy()
    values = table.column("x").combine_chunks()
    width = len(values[0]) if len(values) else 0
    x = values.flatten().to_numpy(zero_copy_only=False).reshape(len(values), width)
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.int64)


def spark_silhouette(
    frame: DataFrame,
    features: str,
    labels: str,
    sizes: Mapping[int, int],
    spec: MetricsSpec,
) -> tuple[float | None, int | None, bool | None]:
    """Silhouette of a labelled Spark frame: (value, rows used, exact?), as locally.

    Parameters
    ----------
    frame : DataFrame
        The clustered rows, with a vector column ``features`` and integer ``labels``.
    sizes : mapping of int to int
        Rows per label (from the training summary), to set each cluster's share.
    spec : MetricsSpec
        The exact threshold, sample size and seed.
    """
    total = sum(sizes.values())
    if total <= spec.silhouette_exact_threshold:
        x, y = _matrix(frame, features, labels)
        return silhouette(x, y, spec)
    quota = spec.silhouette_sample_size / total
    fractions = {
        int(label): min(1.0, (size * quota * _OVERSAMPLE + _OVERSAMPLE_ROWS) / size)
        for label, size in sizes.items()
        if size
    }
    thinned = frame.sampleBy(labels, fractions, seed=spec.seed)
    x, y = _matrix(thinned, features, labels)
    if len(np.unique(y)) < 2:
        return None, None, None
    rows = stratified_sample(y, spec.silhouette_sample_size, spec.seed)
    if len(np.unique(y[rows])) < 2:
        return None, None, None
    return silhouette_score_of(x[rows], y[rows], single=True), len(rows), False
