"""The Ibis PySpark backend as the Spark engine uses it.

Two changes from Ibis 12's own backend:

* its SQL compiler is `ClusterLabPySparkCompiler` (ordered first/last, correct trim);
* Ibis *pyarrow* scalar UDFs (GeoIP, user agent) run as Spark **pandas UDFs**, one call
  per Arrow batch, instead of Ibis's Arrow-optimised row-at-a-time Python UDFs. The UDF
  bodies in `clusterlab.flow.processors.web` take a whole Arrow array and look each
  distinct value up once per batch, as on DuckDB; called row by row they lose that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import ibis
import ibis.expr.operations as ops
import pandas as pd
import pyarrow as pa
from ibis.backends.pyspark import Backend as IbisPySparkBackend
from ibis.backends.pyspark.datatypes import PySparkType
from ibis.expr.operations.udf import InputType

from clusterlab.engines.spark.compiler import ClusterLabPySparkCompiler

if TYPE_CHECKING:
    import ibis.expr.types as ir
    from pyspark.sql import SparkSession


def batch_udf(
    func: Callable[[pa.Array], pa.Array], result: pa.DataType
) -> Callable[[pd.Series], pd.Series | pd.DataFrame]:
    """Wrap a one-argument pyarrow UDF body as the function of a Spark pandas UDF.

    Spark hands a pandas Series per batch; the body gets it as an Arrow array. A
    struct result becomes the DataFrame Spark expects for a struct return type.

    Examples
    --------
    >>> import pyarrow.compute as pc
    >>> f = batch_udf(pc.utf8_upper, pa.string())
    >>> f(pd.Series(["a", "b"])).tolist()
    ['A', 'B']
    """

    def as_arrow(values: pd.Series) -> pa.Array:
        out = func(pa.array(values, from_pandas=True))
        return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out

    # Spark picks the UDF kind from the annotations, so each wrapper declares its own.
    def to_frame(values: pd.Series) -> pd.DataFrame:
        frame: pd.DataFrame = pa.RecordBatch.from_struct_array(as_arrow(values)).to_pandas()
        return frame

    def to_series(values: pd.Series) -> pd.Series:
        series: pd.Series = as_arrow(values).to_pandas()
        return series

    run = to_frame if pa.types.is_struct(result) else to_series
    run.__name__ = getattr(func, "__name__", "clusterlab_udf")
    return run


class ClusterLabPySparkBackend(IbisPySparkBackend):  # type: ignore[misc]
    """Ibis's PySpark backend with our compiler and batch-wise pyarrow UDFs."""

    compiler = ClusterLabPySparkCompiler()

    def _register_udfs(self, expr: ir.Expr) -> None:
        super()._register_udfs(expr)
        from pyspark.sql.pandas.functions import pandas_udf

        for udf in expr.op().find(ops.ScalarUDF):
            # Ibis's row-wise registration stays for UDFs of several arguments.
            if udf.__input_type__ != InputType.PYARROW or len(udf.args) != 1:
                continue
            name = self.compiler.__sql_name__(udf)
            body = batch_udf(udf.__func__, udf.dtype.to_pyarrow())
            spark_udf = pandas_udf(body, returnType=PySparkType.from_ibis(udf.dtype))  # type: ignore[call-overload]
            # Same name as Ibis's row-wise registration above: this one replaces it.
            self._session.udf.register(name, spark_udf)


def connect(session: SparkSession) -> ClusterLabPySparkBackend:
    """An Ibis backend over ``session``."""
    # Ibis registers its ``ibis.options.pyspark`` settings when the backend is first
    # reached as ``ibis.pyspark``; our subclass is reached directly, so do it here.
    if getattr(ibis.options, "pyspark", None) is None:
        ClusterLabPySparkBackend.register_options()
    backend: ClusterLabPySparkBackend = ClusterLabPySparkBackend().connect(session)
    return backend
