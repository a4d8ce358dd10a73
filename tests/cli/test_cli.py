"""The `clusterlab` command, run in-process and once as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clusterlab.cli.main import main


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("CLUSTERLAB_HOME", str(path))
    monkeypatch.setenv("COLUMNS", "200")
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    capsys.readouterr()
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_project_and_dataset_commands(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "orders.csv"
    csv.write_text("id,amount,city\n1,10.5,Paris\n2,99.0,Lyon\n3,5.25,Paris\n")
    assert run_json(capsys, "project", "create", "SHOP") == {"key": "SHOP", "name": "Shop"}
    imported = run_json(capsys, "dataset", "import", "SHOP", "orders", str(csv))
    assert imported == {"name": "orders", "rows": 3, "columns": 3, "warnings": []}
    assert run_json(capsys, "dataset", "list", "SHOP") == [
        {"name": "orders", "kind": "managed", "rows": 3, "columns": 3}
    ]
    shown = run_json(
        capsys, "dataset", "show", "SHOP", "orders", "--sort", "-amount", "--limit", "2"
    )
    assert [r["amount"] for r in shown["data"]] == [99.0, 10.5]  # type: ignore[index]
    stats = run_json(capsys, "dataset", "stats", "SHOP", "orders")
    city = next(c for c in stats["columns"] if c["name"] == "city")  # type: ignore[index]
    assert city["top_values"][0] == {"value": "Paris", "count": 2}
    out = tmp_path / "out.parquet"
    assert run_json(capsys, "dataset", "export", "SHOP", "orders", str(out))["path"] == str(out)  # type: ignore[index]
    archive = tmp_path / "shop.zip"
    run_json(capsys, "project", "export", "SHOP", str(archive))
    assert run_json(capsys, "project", "import", str(archive), "--key", "SHOP_COPY") == {
        "key": "SHOP_COPY",
        "name": "Shop",
    }
    keys = [p["key"] for p in run_json(capsys, "project", "list")]  # type: ignore[union-attr]
    assert keys == ["SHOP", "SHOP_COPY"]
    assert main(["project", "delete", "SHOP_COPY", "--yes"]) == 0
    assert main(["project", "rename", "SHOP", "Web shop"]) == 0
    assert run_json(capsys, "project", "list")[0]["name"] == "Web shop"  # type: ignore[index]


def test_rich_output_for_people(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text("ip,n\n10.0.0.1,1\n10.0.0.2,2\n")
    assert main(["project", "create", "P"]) == 0
    assert main(["dataset", "import", "P", "t", str(csv)]) == 0
    assert main(["dataset", "show", "P", "t"]) == 0
    assert main(["dataset", "stats", "P", "t"]) == 0
    out = capsys.readouterr().out
    assert "Imported t: 2 rows, 2 columns" in out
    assert "ip_address" in out
    assert "0.0%" in out  # the missing share of the stats table


def test_meaning_override_and_delete(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "t.csv"
    csv.write_text("ip,n\n10.0.0.1,1\n10.0.0.2,2\n")
    main(["project", "create", "P"])
    main(["dataset", "import", "P", "t", str(csv)])
    assert main(["dataset", "set-meaning", "P", "t", "ip", "text"]) == 0
    assert main(["dataset", "set-meaning", "P", "t", "ip", "colour"]) == 2
    assert "Unknown meaning 'colour'" in capsys.readouterr().err
    shown = run_json(capsys, "dataset", "show", "P", "t")
    assert shown["schema"][0]["meaning"] == "text"  # type: ignore[index]
    assert main(["dataset", "delete", "P", "t", "--yes"]) == 0
    assert run_json(capsys, "dataset", "list", "P") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["project", "create", "lower"], "Invalid project key 'lower'"),
        (["dataset", "list", "NOPE"], "No project NOPE"),
        (["dataset", "import", "P", "../x", "f.csv"], "Invalid dataset name '../x'"),
        (["dataset", "show", "P", "missing"], "has no dataset 'missing'"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(
    home: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    main(["project", "create", "P"])
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in " ".join(err.split())
    assert "Traceback" not in err


def test_console_script_exit_code(home: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    env = {**os.environ, "CLUSTERLAB_HOME": str(home)}
    cli = [sys.executable, "-m", "clusterlab.cli.main"]
    subprocess.run([*cli, "project", "create", "P"], env=env, check=True, capture_output=True)
    done = subprocess.run(
        [*cli, "dataset", "import", "P", "d", str(empty)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "empty" in done.stderr
    assert "Traceback" not in done.stderr
    usage = subprocess.run([*cli, "dataset", "import"], env=env, capture_output=True, text=True)
    assert usage.returncode == 2


def test_starter_build_jobs_and_log(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    created = run_json(
        capsys, "project", "create", "CLUSTERING", "--starter", "weblogs", "--rows", "5000"
    )
    assert created == {"key": "CLUSTERING", "name": "Clustering (web logs)"}
    built = run_json(capsys, "build", "CLUSTERING", "--all")
    assert built["status"] == "succeeded"  # type: ignore[index]
    again = run_json(capsys, "build", "CLUSTERING", "weblogs_prepared_by_visitor_id")
    assert any("skipped" in line for line in again["log"])  # type: ignore[index]
    jobs = run_json(capsys, "jobs", "CLUSTERING")
    assert [j["status"] for j in jobs] == ["succeeded", "succeeded"]  # type: ignore[union-attr]
    log = run_json(capsys, "job", "log", built["job"])  # type: ignore[index]
    assert any("wrote" in line["message"] for line in log["log"])  # type: ignore[index]
    assert main(["build", "CLUSTERING"]) == 2
    assert "--all" in capsys.readouterr().err


def test_lab_commands(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal(c, 0.3, (60, 2)) for c in (0, 5, 10)])
    csv = tmp_path / "p.csv"
    pd.DataFrame({"x": points[:, 0], "y": points[:, 1]}).to_csv(csv, index=False)
    main(["project", "create", "P"])
    main(["dataset", "import", "P", "pts", str(csv)])
    task = run_json(capsys, "lab", "create", "P", "pts")["task"]  # type: ignore[index]
    design = run_json(
        capsys, "lab", "design", "P", task, "--algorithm", "kmeans", "--params", '{"k": [2, 3]}'
    )
    assert design["algorithms"][0]["k"] == [2, 3]  # type: ignore[index]
    trained = run_json(capsys, "lab", "train", "P", task)
    assert trained == {"session": 1, "models": ["m0", "m1"]}
    table = run_json(capsys, "lab", "models", "P", task)
    assert table[0]["model"] == "m1"  # type: ignore[index]  # k = 3 has the best silhouette
    assert main(["lab", "rename", "P", task, "m1", "cluster_0", "Left"]) == 0
    report = run_json(capsys, "lab", "report", "P", task, "m1")
    assert "Left" in {o["cluster"] for o in report["observations"]}  # type: ignore[index]
    assert main(["lab", "design", "P", task, "--params", '{"k": [4]}']) == 2
    assert "--algorithm" in capsys.readouterr().err
    assert main(["lab", "design", "P", task, "--algorithm", "kmeans", "--params", "{oops"]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    # Deploy the k = 3 model, apply it, then read the saved model's versions.
    assert main(["lab", "deploy", "P", task, "m1", "segments", "--name", "Segments"]) == 0
    assert run_json(capsys, "model", "list", "P") == [
        {"id": "segments", "name": "Segments", "active": "v1", "versions": 1}
    ]
    assert main(["model", "apply", "P", "pts", "segments", "pts_scored"]) == 0
    assert main(["dataset", "export", "P", "pts_scored", str(tmp_path / "scored.csv")]) == 0
    scored = pd.read_csv(tmp_path / "scored.csv")
    assert scored["cluster_labels"].value_counts().to_dict()["Left"] == 60
    versions = run_json(capsys, "model", "versions", "P", "segments")
    assert [(v["id"], v["source"], v["active"]) for v in versions] == [("v1", "deploy", True)]
    assert main(["model", "rollback", "P", "segments"]) == 2
    assert "no earlier version" in capsys.readouterr().err
    # A failed model's row shows its error; empty cells stay empty, not "nan".
    main(["lab", "design", "P", task, "--algorithm", "kmeans", "--params", '{"k": [3, 999]}'])
    capsys.readouterr()
    assert main(["lab", "train", "P", task]) == 0
    assert "nan" not in capsys.readouterr().out.lower()
    # The same rows as JSON hold null there, not NaN (which is not JSON).
    capsys.readouterr()
    assert main(["lab", "models", "P", task, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(c))
    failed = [r for r in rows if r["error"] is not None]
    assert [r["silhouette"] for r in failed] == [None]
    assert "k must be below the number of rows" in failed[0]["error"]
    assert all(r["silhouette"] is not None for r in rows if r["error"] is None)
