"""Importing files as datasets: every format, and every bad input refused cleanly."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

import clusterlab as cl
from clusterlab.core.errors import (
    AlreadyExistsError,
    InvalidInputError,
    InvalidNameError,
    LimitExceededError,
)
from clusterlab.core.schema import Meaning, StorageType
from clusterlab.settings import Settings
from tests.helpers import tree


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_csv_types_and_meanings(project: cl.Project, tmp_path: Path) -> None:
    lines = ["ip,email,site,n,x,ok,day,country,agent"]
    for i in range(50):
        lines.append(
            f"192.168.{i}.1,user{i}@example.com,https://example.com/p/{i},{i},{i / 3:.3f},"
            f"true,2024-01-{i % 28 + 1:02d},France,"
            '"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0"'
        )
    ds = project.import_dataset("mixed", write(tmp_path / "m.csv", "\n".join(lines).encode()))
    schema = ds.schema
    assert ds.rows == 50
    assert schema.names == ["ip", "email", "site", "n", "x", "ok", "day", "country", "agent"]
    types = {c.name: c.type for c in schema.columns}
    assert types["n"] is StorageType.INTEGER
    assert types["x"] is StorageType.DECIMAL
    assert types["ok"] is StorageType.BOOLEAN
    assert types["day"] is StorageType.DATE
    meanings = {c.name: c.meaning for c in schema.columns}
    assert meanings["ip"] is Meaning.IP_ADDRESS
    assert meanings["email"] is Meaning.EMAIL
    assert meanings["site"] is Meaning.URL
    assert meanings["country"] is Meaning.COUNTRY
    assert meanings["agent"] is Meaning.USER_AGENT


def test_csv_numbers_the_sniffer_reads_as_text_are_imported_as_numbers(
    project: cl.Project, tmp_path: Path
) -> None:
    # DuckDB's CSV sniffer reads "+inf" and "+3" as text, which made the whole column
    # text: the Lab then rejected it as a categorical with too many levels.
    lines = ["amount,count,zip,phone,label,huge"]
    for i in range(6000):
        amount = {5500: "+inf", 5600: "+12.5", 5700: " 7.25 "}.get(i, f"{i / 7:.3f}")
        count = {5800: "+3", 5900: " 4 "}.get(i, str(i % 9))
        huge = "+1" if i == 5950 else str(10**20 + i)  # past BIGINT: a DOUBLE
        lines.append(f"{amount},{count},{i * 7 % 100000:05d},+33{600000000 + i},n{i % 5},{huge}")
    ds = project.import_dataset("signs", write(tmp_path / "s.csv", "\n".join(lines).encode()))
    types = {c.name: c.type for c in ds.schema.columns}
    assert types["amount"] is StorageType.DECIMAL
    assert types["count"] is StorageType.INTEGER
    assert types["huge"] is StorageType.DECIMAL
    # Text that only looks numeric stays text: leading zeros, a "+" on every value, words.
    assert types["zip"] is StorageType.STRING
    assert types["phone"] is StorageType.STRING
    assert types["label"] is StorageType.STRING
    frame = ds.to_pandas()
    assert frame.loc[5500, "amount"] == float("inf")
    assert frame.loc[5600, "amount"] == 12.5
    assert frame.loc[5700, "amount"] == 7.25
    assert frame.loc[5800, "count"] == 3
    assert frame.loc[5900, "count"] == 4
    assert frame["count"].notna().all()
    assert frame.loc[0, "huge"] == float(10**20)
    assert frame.loc[5950, "huge"] == 1.0
    assert frame.loc[10, "zip"] == "00070"
    assert frame.loc[0, "phone"] == "+33600000000"
    task = project.create_clustering_task("signs")
    roles = {f.name: f.role.value for f in task.design.features}
    assert roles["amount"] == "input"
    assert roles["count"] == "input"


def test_a_csv_column_with_one_word_among_numbers_stays_text(
    project: cl.Project, tmp_path: Path
) -> None:
    rows = [str(i) for i in range(6000)]
    rows[5900] = "n/a"  # past the head: only the whole-file check sees it
    ds = project.import_dataset(
        "words", write(tmp_path / "w.csv", ("x\n" + "\n".join(rows)).encode())
    )
    assert ds.schema.column("x").type is StorageType.STRING
    assert ds.to_pandas().loc[5900, "x"] == "n/a"


def test_meaning_override_is_kept(project: cl.Project, tmp_path: Path) -> None:
    ds = project.import_dataset("t", write(tmp_path / "t.csv", b"code\nFR\nUS\nDE\n"))
    ds.set_meaning("code", "text")
    assert project.dataset("t").schema.column("code").meaning is Meaning.TEXT
    assert project.dataset("t").schema.column("code").meaning_overridden


def test_tsv_semicolon_gzip_and_crlf(project: cl.Project, tmp_path: Path) -> None:
    tsv = project.import_dataset("tsv", write(tmp_path / "a.tsv", b"a\tb\r\n1\tx\r\n2\ty\r\n"))
    assert tsv.to_pandas().to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}
    semi = write(tmp_path / "s.csv", b"name;score\nAnna;1,5\nBob;2,0\n")
    assert project.import_dataset("semi", semi).schema.names == ["name", "score"]
    gz = tmp_path / "g.csv.gz"
    gz.write_bytes(gzip.compress(b"k,v\n1,a\n2,b\n3,c\n"))
    assert project.import_dataset("gz", gz).rows == 3


def test_latin1_bom_quoted_newlines_and_unicode_names(project: cl.Project, tmp_path: Path) -> None:
    latin = write(
        tmp_path / "l.csv", "ville,prénom\nMontréal,Zoé\nSão Paulo,Jérôme\n".encode("latin-1")
    )
    frame = project.import_dataset("latin", latin).to_pandas()
    assert list(frame.columns) == ["ville", "prénom"]
    assert frame["prénom"].tolist() == ["Zoé", "Jérôme"]
    bom = write(tmp_path / "b.csv", "\ufeffid,名前\r\n1,東京\r\n".encode())
    assert project.import_dataset("bom", bom).to_pandas().to_dict("list") == {
        "id": [1],
        "名前": ["東京"],
    }
    quoted = write(tmp_path / "q.csv", b'id,comment\n1,"two\nlines"\n2,"say ""hi"""\n')
    assert project.import_dataset("quoted", quoted).to_pandas()["comment"].tolist() == [
        "two\nlines",
        'say "hi"',
    ]


def test_duplicate_column_names_get_suffix_and_warning(project: cl.Project, tmp_path: Path) -> None:
    ds = project.import_dataset("dup", write(tmp_path / "d.csv", b"a,b,a\n1,2,3\n"))
    assert ds.schema.names == ["a", "b", "a_1"]
    assert any("'a'" in w and "a_1" in w for w in ds.spec.import_warnings)
    frame = pd.DataFrame([[1, 2]], columns=["x", "x"])
    assert project.create_dataset("dupframe", frame).schema.names == ["x", "x_1"]


def test_parquet_jsonl_xlsx_dataframe_arrow(project: cl.Project, tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]})
    frame.to_parquet(tmp_path / "f.parquet")
    assert project.import_dataset("pq", tmp_path / "f.parquet").to_pandas().equals(frame)
    (tmp_path / "f.jsonl").write_text("\n".join(json.dumps(r) for r in frame.to_dict("records")))
    assert project.import_dataset("js", tmp_path / "f.jsonl").to_pandas().equals(frame)
    frame.to_excel(tmp_path / "f.xlsx", index=False)
    assert project.import_dataset("xl", tmp_path / "f.xlsx").to_pandas().equals(frame)
    assert project.create_dataset("df", frame).to_pandas().equals(frame)
    assert project.create_dataset("arrow", pa.table(frame)).rows == 3
    assert [d.name for d in project.datasets()] == ["arrow", "df", "js", "pq", "xl"]


def test_external_dataset_reads_in_place(project: cl.Project, tmp_path: Path) -> None:
    src = write(tmp_path / "live.csv", b"a\n1\n2\n")
    ds = project.import_dataset("live", src, external=True)
    assert ds.rows == 2
    src.write_bytes(b"a\n1\n2\n3\n")
    assert project.dataset("live").rows == 3
    assert not (project.workspace.layout.project_dir("TEST") / "data" / "live").exists()


def test_overwrite_is_explicit(project: cl.Project, tmp_path: Path) -> None:
    project.import_dataset("t", write(tmp_path / "1.csv", b"a\n1\n"))
    with pytest.raises(AlreadyExistsError, match="overwrite"):
        project.import_dataset("t", write(tmp_path / "2.csv", b"a\n1\n2\n"))
    assert project.dataset("t").rows == 1
    assert project.import_dataset("t", tmp_path / "2.csv", overwrite=True).rows == 2


BAD_FILES = {
    "empty": (b"", "empty"),
    "garbage": (bytes(range(256)) * 64 + os.urandom(4096), "binary"),
    "ragged": (b"a,b,c\n1,2,3\n4,5,6\n7,8\n", "line 4"),
    "ragged_after_quoted_newline": (b'a,b\n1,"x\ny"\n2,z\n3,w,extra\n', "line 5"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_are_refused_and_change_nothing(
    project: cl.Project, tmp_path: Path, case: str
) -> None:
    project.import_dataset("keep", write(tmp_path / "keep.csv", b"a\n1\n"))
    home = project.workspace.home
    before = tree(home / "projects")
    data, message = BAD_FILES[case]
    bad = write(tmp_path / f"{case}.csv", data)
    with pytest.raises(InvalidInputError, match=message):
        project.import_dataset("new", bad)
    with pytest.raises(InvalidInputError, match=message):
        project.import_dataset("keep", bad, overwrite=True)
    assert tree(home / "projects") == before
    assert list((home / ".staging").iterdir()) == []
    assert project.dataset("keep").rows == 1


@pytest.mark.parametrize("name", ["", "a/b", "..", "../x", ".hidden", "with space", "_x"])
def test_bad_dataset_names(project: cl.Project, tmp_path: Path, name: str) -> None:
    with pytest.raises(InvalidNameError):
        project.import_dataset(name, write(tmp_path / "x.csv", b"a\n1\n"))
    assert project.datasets() == []


def test_upload_limit(tmp_path: Path) -> None:
    ws = cl.Workspace(tmp_path / "h", settings=Settings(home=tmp_path / "h", max_upload_bytes=10))
    p = ws.create_project("P")
    with pytest.raises(LimitExceededError, match="upload limit"):
        p.import_dataset("big", write(tmp_path / "big.csv", b"a\n" + b"1\n" * 20))
    assert p.datasets() == []


def test_reading_a_whole_version_gives_the_table_duckdb_gives(project: cl.Project) -> None:
    frame = pd.DataFrame(
        {
            "n": pd.array([1, None, 3], dtype="Int64"),
            "x": [0.5, float("nan"), float("inf")],
            "s": ["a", None, "é"],
            "ok": [True, False, None],
            "at": pd.to_datetime(["2024-01-01 10:00", None, "2024-03-01 00:00"]),
            "day": [pd.Timestamp("2024-01-01").date(), None, pd.Timestamp("2024-02-29").date()],
        }
    )
    ds = project.create_dataset("mixed", frame)
    # A limit reads through DuckDB; without one, pyarrow reads the version's files.
    through_duckdb = ds.to_arrow(limit=10)
    assert ds.to_arrow().equals(through_duckdb)
    picked = ds.to_arrow(["s", "n"])
    assert picked.column_names == ["s", "n"]
    assert picked.equals(ds.to_arrow(["s", "n"], limit=10))
    pd.testing.assert_frame_equal(ds.to_pandas(), through_duckdb.to_pandas())
