"""Exploring (pages, stats) and exporting datasets."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import clusterlab as cl
from clusterlab.core.explore import FilterOp, RowFilter, RowQuery, SortKey


@pytest.fixture
def people(project: cl.Project) -> cl.Dataset:
    frame = pd.DataFrame(
        {
            "name": ["ann", "bob", "cid", "dan", None, "eve"],
            "age": [31, 25, 47, None, 52, 25],
            "score": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5],
        }
    )
    return project.create_dataset("people", frame)


def test_page_sort_filter_offset(people: cl.Dataset) -> None:
    table, total = people.page(
        RowQuery(sort=(SortKey(column="age", ascending=False),), offset=1, limit=2)
    )
    assert total == 6
    assert table.column("age").to_pylist() == [47, 31]
    table, total = people.page(
        RowQuery(filters=(RowFilter(column="age", op=FilterOp.EQ, value=25),))
    )
    assert total == 2
    assert sorted(table.column("name").to_pylist()) == ["bob", "eve"]
    _, total = people.page(
        RowQuery(filters=(RowFilter(column="name", op=FilterOp.CONTAINS, value="A"),))
    )
    assert total == 2  # ann, dan: case-insensitive
    _, total = people.page(RowQuery(filters=(RowFilter(column="age", op=FilterOp.IS_EMPTY),)))
    assert total == 1
    assert people.head(2)["name"].tolist() == ["ann", "bob"]


def test_stats_match_pandas(people: cl.Dataset) -> None:
    stats = people.stats()
    frame = people.to_pandas()
    assert stats.rows == 6
    age = stats.column("age")
    assert age.missing == 1
    assert age.distinct == 4
    assert (age.min, age.max) == (25, 52)
    assert age.mean == pytest.approx(frame["age"].mean())
    assert age.std == pytest.approx(frame["age"].std())
    assert age.top_values[0].value == 25
    assert age.top_values[0].count == 2
    assert sum(b.count for b in age.histogram) == 5
    assert stats.column("name").missing == 1
    assert stats.column("name").histogram == ()


def test_stats_are_kept_until_the_rows_or_settings_change(
    project: cl.Project, tmp_path: Path
) -> None:
    ds = project.create_dataset("kept", pd.DataFrame({"x": [1.0, 2.0], "code": ["a", "b"]}))
    first = ds.stats()
    assert project.dataset("kept").stats() is first  # another handle, the same rows
    ds.set_meaning("code", "text")
    assert ds.stats().column("code").meaning == "text"
    assert ds.stats().column("x").max == 2.0
    project.create_dataset("kept", pd.DataFrame({"x": [5.0, 7.0, 9.0]}), overwrite=True)
    rebuilt = project.dataset("kept").stats()
    assert (rebuilt.rows, rebuilt.column("x").max) == (3, 9.0)
    # An external file rewritten in place is read again.
    path = tmp_path / "ext.csv"
    path.write_text("n\n1\n2\n", encoding="utf-8")
    external = project.import_dataset("ext", path, external=True)
    assert external.stats().column("n").max == 2
    path.write_text("n\n1\n2\n30\n", encoding="utf-8")
    assert project.dataset("ext").stats().column("n").max == 30


def test_stats_over_a_large_dataset_stay_in_duckdb(project: cl.Project) -> None:
    rng = np.random.default_rng(0)
    n = 300_000
    frame = pd.DataFrame({"v": rng.normal(10, 2, n), "k": rng.integers(0, 50, n)})
    ds = project.create_dataset("big", frame)
    stats = ds.stats()
    assert stats.rows == n
    assert stats.column("v").mean == pytest.approx(frame["v"].mean())
    assert stats.column("k").distinct == 50
    assert sum(b.count for b in stats.column("v").histogram) == n


def test_export_csv_neutralises_formulas(project: cl.Project, tmp_path: Path) -> None:
    cells = ["=1+1", "+33", "@SUM(A1)", "\tx", "-cmd", "-12", "plain", "a=b"]
    ds = project.create_dataset("risky", pd.DataFrame({"c": cells, "n": range(len(cells))}))
    out = ds.export(tmp_path / "out.csv")
    with open(out, newline="", encoding="utf-8") as fh:
        exported = [row["c"] for row in csv.DictReader(fh)]
    assert exported == ["'=1+1", "'+33", "'@SUM(A1)", "'\tx", "'-cmd", "-12", "plain", "a=b"]


def test_export_parquet_round_trip(people: cl.Dataset, tmp_path: Path) -> None:
    out = people.export(tmp_path / "p.parquet")
    assert pd.read_parquet(out).equals(people.to_pandas())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "p.parquet"]
