"""Arrow UDF bodies wrapped as Spark pandas UDFs, checked without starting Spark."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

pytest.importorskip("pyspark")

from clusterlab.engines.spark.backend import batch_udf


def test_struct_results_become_a_frame_with_one_lookup_per_value_and_batch() -> None:
    calls: list[object] = []

    def lookup(values: pa.Array) -> pa.Array:
        # Like the GeoIP body: look each distinct value up once, then spread.
        seen = {
            v: {"upper": v.upper() if v else None, "n": len(v or "")}
            for v in set(values.to_pylist())
        }
        calls.extend(seen)
        return pa.array([seen[v] for v in values.to_pylist()])

    result = pa.struct({"upper": pa.string(), "n": pa.int64()})
    frame = batch_udf(lookup, result)(pd.Series(["ab", "ab", None, "c"]))
    assert isinstance(frame, pd.DataFrame)
    assert frame["upper"].fillna("-").tolist() == ["AB", "AB", "-", "C"]
    assert frame["n"].tolist() == [2, 2, 0, 1]
    assert sorted(calls, key=str) == [None, "ab", "c"]


def test_plain_results_become_a_series() -> None:
    series = batch_udf(lambda a: pa.compute.utf8_length(a), pa.int32())(pd.Series(["abc", None]))
    assert isinstance(series, pd.Series)
    assert series.tolist()[0] == 3
    assert pd.isna(series.tolist()[1])
