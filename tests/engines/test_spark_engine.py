"""The Spark engine's own contract: atomic publishing, previews, inputs, errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clusterlab.core.dataset import CsvOptions, DatasetKind, FileFormat
from clusterlab.core.errors import UnsupportedError
from clusterlab.core.recipes import parse_recipe
from clusterlab.engines.base import Engine, InputData
from clusterlab.engines.spark import SparkJobError
from clusterlab.services.build import engine_for
from clusterlab.storage.versions import VersionStore
from tests.engines.conftest import read_output

pytestmark = pytest.mark.spark

SUM_BY_KEY = parse_recipe(
    {
        "name": "sums",
        "type": "group",
        "inputs": ["events"],
        "outputs": ["sums"],
        "params": {"keys": ["k"], "aggregations": [{"column": "v", "aggregations": ["sum"]}]},
    }
)


def managed(folder: Path, *tables: pa.Table) -> InputData:
    folder.mkdir(parents=True)
    for i, table in enumerate(tables):
        pq.write_table(table, folder / f"part-{i}.parquet")
    (folder / "schema.json").write_text("{}")  # beside the data, as in a real version
    return InputData("events", DatasetKind.MANAGED, folder)


def test_failed_job_publishes_nothing(spark_engine: Engine, tmp_path: Path) -> None:
    store = VersionStore(tmp_path / "sums")
    good = managed(tmp_path / "good", pa.table({"k": ["a", "b", "a"], "v": [1, 2, 3]}))
    with store.new_version() as folder:
        spark_engine.run_recipe(SUM_BY_KEY, {"events": good}, {"sums": folder}, print)
    first = store.current()
    assert first is not None
    # A Spark-written version is an ordinary one: DuckDB reads it as the next input.
    copy = parse_recipe({"name": "c", "type": "sync", "inputs": ["sums"], "outputs": ["c"]})
    out = tmp_path / "copy"
    out.mkdir()
    engine_for("local").run_recipe(
        copy, {"sums": InputData("sums", DatasetKind.MANAGED, first)}, {"c": out}, print
    )
    assert sorted(read_output(out).itertuples(index=False)) == [("a", 2, 4), ("b", 1, 2)]

    # The second file's v is text: Spark plans with the first file's schema and fails
    # while reading the second, in the middle of writing the output.
    bad = managed(
        tmp_path / "bad",
        pa.table({"k": ["a"], "v": [1]}),
        pa.table({"k": ["b"], "v": ["oops"]}),
    )
    with pytest.raises(SparkJobError) as info, store.new_version() as folder:
        spark_engine.run_recipe(SUM_BY_KEY, {"events": bad}, {"sums": folder}, print)
    assert "Recipe sums (group) failed on Spark" in str(info.value)
    assert "Nothing was published" in str(info.value)
    assert store.current() == first
    assert [p.name for p in store.data_dir.iterdir() if p.name.startswith(".staging")] == []
    assert sorted(read_output(first).itertuples(index=False)) == [("a", 2, 4), ("b", 1, 2)]


def test_empty_output_is_a_readable_version(spark_engine: Engine, tmp_path: Path) -> None:
    events = managed(tmp_path / "in", pa.table({"k": ["a"], "v": [1.5]}))
    recipe = parse_recipe(
        {
            "name": "none",
            "type": "prepare",
            "inputs": ["events"],
            "outputs": ["out"],
            "params": {"steps": [{"type": "filter_rows", "by": "formula", "formula": "v > 9"}]},
        }
    )
    out = tmp_path / "out"
    out.mkdir()
    result = spark_engine.run_recipe(recipe, {"events": events}, {"out": out}, print)["out"]
    assert result.rows == 0
    assert [(c.name, c.type.value) for c in result.schema.columns] == [
        ("k", "string"),
        ("v", "decimal"),
    ]
    frame = read_output(out)
    assert frame.empty
    assert frame.columns.tolist() == ["k", "v"]


def test_preview_stops_at_the_step_and_limits_rows(spark_engine: Engine, tmp_path: Path) -> None:
    events = managed(tmp_path / "in", pa.table({"k": list("abcdef"), "v": list(range(6))}))
    recipe = parse_recipe(
        {
            "name": "p",
            "type": "prepare",
            "inputs": ["events"],
            "outputs": ["out"],
            "params": {
                "steps": [
                    {"type": "formula", "output": "w", "expression": "v * 10"},
                    {"type": "remove_columns", "columns": ["v"]},
                ]
            },
        }
    )
    full = spark_engine.preview(recipe, {"events": events}, limit=4)["out"]
    assert full.column_names == ["k", "w"]
    assert full.num_rows == 4
    first_step = spark_engine.preview(recipe, {"events": events}, upto_step=1)["out"]
    assert first_step.column_names == ["k", "v", "w"]
    assert sorted(first_step.column("w").to_pylist()) == [0, 10, 20, 30, 40, 50]


def test_external_csv_and_jsonl_inputs(spark_engine: Engine, tmp_path: Path) -> None:
    csv = tmp_path / "events.csv"
    csv.write_text("k;v\na;1\nb;2\na;5\n", encoding="utf-8")
    jsonl = tmp_path / "events.jsonl"
    pd.DataFrame({"k": ["a", "b", "a"], "v": [1, 2, 5]}).to_json(
        jsonl, orient="records", lines=True
    )
    sources = {
        "csv": InputData(
            "events", DatasetKind.EXTERNAL, csv, FileFormat.CSV, CsvOptions(delimiter=";")
        ),
        "jsonl": InputData("events", DatasetKind.EXTERNAL, jsonl, FileFormat.JSONL),
    }
    for name, source in sources.items():
        out = tmp_path / f"out-{name}"
        out.mkdir()
        spark_engine.run_recipe(SUM_BY_KEY, {"events": source}, {"sums": out}, print)
        assert sorted(read_output(out).itertuples(index=False)) == [("a", 2, 6), ("b", 1, 2)], name


def test_excel_input_is_refused_before_any_job(spark_engine: Engine, tmp_path: Path) -> None:
    book = InputData("events", DatasetKind.EXTERNAL, tmp_path / "missing.xlsx", FileFormat.XLSX)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(UnsupportedError, match=r"input events \(xlsx file\)"):
        spark_engine.run_recipe(SUM_BY_KEY, {"events": book}, {"sums": out}, print)
    assert list(out.iterdir()) == []


def test_prepare_diagnostics_are_logged(spark_engine: Engine, tmp_path: Path) -> None:
    events = managed(
        tmp_path / "in", pa.table({"ts": ["2024-03-01 10:00", "junk", None, "2024-02-30"]})
    )
    recipe = parse_recipe(
        {
            "name": "dates",
            "type": "prepare",
            "inputs": ["events"],
            "outputs": ["out"],
            "params": {"steps": [{"type": "parse_date", "column": "ts"}]},
        }
    )
    out = tmp_path / "out"
    out.mkdir()
    log: list[str] = []
    spark_engine.run_recipe(recipe, {"events": events}, {"out": out}, log.append)
    assert log == [
        "dates: wrote 4 rows to out (Spark)",
        "dates: 2 cells of ts could not be parsed as dates and were left empty in ts_parsed",
    ]
    assert read_output(out)["ts_parsed"].notna().tolist() == [True, False, False, False]
