"""Report queries on DuckDB run compiled SQL kept per process: the same results as Ibis."""

from __future__ import annotations

import ibis
import pyarrow as pa

from clusterlab.ml.report import compute_stats, features_of
from clusterlab.ml.report.queries import _duckdb_sql, query_arrow


def _totals(table, factor):
    # DuckDB sums BIGINT into HUGEINT; Ibis types the sum int64.
    return table.group_by("g").aggregate(total=table.n.sum() * factor, mean=table.x.mean())


def _duckdb_table(rows: dict) -> tuple:
    backend = ibis.duckdb.connect()
    return backend, backend.create_table("scored", ibis.memtable(pa.table(rows)))


def test_the_sql_is_compiled_once_and_gives_what_ibis_gives_on_each_table():
    first_backend, first = _duckdb_table(
        {"g": ["a", "b", "a"], "n": [1, 2, 3], "x": [1.0, 2.0, 4.0]}
    )
    second_backend, second = _duckdb_table({"g": ["c", "c"], "n": [5, 7], "x": [0.5, 1.5]})
    try:
        before = _duckdb_sql.cache_info()
        results = [query_arrow(t, _totals, 10).sort_by("g") for t in (first, second)]
        after = _duckdb_sql.cache_info()
        assert after.misses - before.misses == 1
        assert after.hits - before.hits == 1
        for table, result in zip((first, second), results, strict=True):
            expected = _totals(table, 10).to_pyarrow().sort_by("g")
            assert result.equals(expected)
            assert result.schema.field("total").type == pa.int64()
        assert results[1].to_pylist() == [{"g": "c", "total": 120, "mean": 1.0}]
        # Another argument is another query.
        assert query_arrow(second, _totals, 1).column("total").to_pylist() == [12]
    finally:
        first_backend.disconnect()
        second_backend.disconnect()


def test_tables_outside_the_engine_run_through_ibis():
    table = ibis.memtable({"g": ["a", "a"], "n": [2, 3], "x": [1.0, 3.0]})
    before = _duckdb_sql.cache_info()
    assert query_arrow(table, _totals, 2).to_pylist() == [{"g": "a", "total": 10, "mean": 2.0}]
    assert _duckdb_sql.cache_info().misses == before.misses


def test_statistics_of_same_named_tables_come_from_each_table():
    features = features_of(["x"], ["country"])
    rows = {"x": [1.0, 3.0, 10.0], "country": ["FR", "FR", "ES"], "cluster": ["c0", "c0", "c1"]}
    first_backend, first_table = _duckdb_table(rows)
    rows = {"x": [2.0, 2.0, 4.0], "country": ["ES", "IT", "IT"], "cluster": ["c0", "c1", "c1"]}
    second_backend, second_table = _duckdb_table(rows)
    try:
        first = compute_stats(first_table, features)
        before = _duckdb_sql.cache_info()
        second = compute_stats(second_table, features)
        assert _duckdb_sql.cache_info().hits - before.hits == 2  # numeric and levels
    finally:
        first_backend.disconnect()
        second_backend.disconnect()
    assert first.numeric["x"]["c0"].mean == 2.0
    assert first.sizes == {"c0": 2, "c1": 1}
    assert second.numeric["x"]["c1"].mean == 3.0
    assert second.sizes == {"c0": 1, "c1": 2}
    assert first.levels["country"] == ("FR", "ES")
    assert second.level_counts["country"]["IT"] == {"c1": 2}
