"""Model reports on Spark: the engine-neutral report builders over a Spark table.

The report builders of `clusterlab.ml.report` take an Ibis table; here a scored Spark
DataFrame (training rows with their cluster labels, or an apply recipe's output) is
registered as a temporary view and handed to them through the engine's Ibis backend.
The builders run unchanged: their grouped queries run on the executors and only the
per-cluster aggregates (counts, means, spreads, level counts, histogram bins,
quantiles) reach the driver.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from clusterlab.engines.spark.backend import connect
from clusterlab.engines.spark.ml_apply import spark_errors
from clusterlab.ml.report import DEFAULT_CLUSTER_COLUMN, ClusterReport, FeatureInfo, build_report

if TYPE_CHECKING:
    import ibis
    from pyspark.sql import DataFrame, SparkSession

_views = itertools.count()


@contextlib.contextmanager
def ibis_table(session: SparkSession, frame: DataFrame) -> Iterator[ibis.Table]:
    """``frame`` as an Ibis table of the Spark backend, for the duration of the block.

    Examples
    --------
    >>> with ibis_table(session, scored) as table:  # doctest: +SKIP
    ...     table.count().execute()
    """
    view = f"clusterlab_report_{next(_views)}"
    frame.createOrReplaceTempView(view)
    try:
        yield connect(session).table(view)
    finally:
        session.catalog.dropTempView(view)


def spark_report(
    session: SparkSession,
    scored: DataFrame,
    features: Sequence[FeatureInfo],
    *,
    cluster_column: str = DEFAULT_CLUSTER_COLUMN,
    cluster_order: Sequence[str] | None = None,
    **options: Any,
) -> ClusterReport:
    """`~clusterlab.ml.report.build_report` on a scored Spark DataFrame.

    Parameters
    ----------
    session : SparkSession
        The session ``scored`` belongs to.
    scored : DataFrame
        Feature columns plus ``cluster_column``, the cluster name of each row.
    features, cluster_column, cluster_order, options
        As for `build_report` (``importances``, ``bins``, ``max_levels``).
    """
    with spark_errors("The model report"), ibis_table(session, scored) as table:
        return build_report(
            table,
            features,
            cluster_column=cluster_column,
            cluster_order=cluster_order,
            **options,
        )
