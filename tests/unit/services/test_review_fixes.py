"""Regressions found by reviewing the foundation and the Flow as a user would."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

import clusterlab as cl
from clusterlab.cli.main import main
from clusterlab.core.errors import InvalidInputError
from clusterlab.flow.formula import FormulaError
from clusterlab.services.jobs import cancel_job, start_job, wait_job
from clusterlab.settings import Settings
from clusterlab.storage.runtime import JobStatus


def test_stats_with_a_column_named_like_an_alias(project: cl.Project) -> None:
    ds = project.create_dataset("ab", pd.DataFrame({"a": [1, 3, 5], "b": [2, 4, 6]}))
    stats = ds.stats()
    assert sum(b.count for b in stats.column("b").histogram) == 3
    assert sum(b.count for b in stats.column("a").histogram) == 3


def test_short_latin1_file(project: cl.Project, tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_bytes("caf\xe9,b\n\xe9t\xe9,2\n".encode("latin-1"))
    frame = project.import_dataset("short", path).to_pandas()
    assert frame.columns.tolist() == ["café", "b"]
    assert frame["café"].tolist() == ["été"]


def test_formula_errors_are_refused_when_the_recipe_is_saved(project: cl.Project) -> None:
    project.create_dataset("raw", pd.DataFrame({"a": [1, 2]}))
    recipe = {
        "name": "calc",
        "type": "prepare",
        "inputs": ["raw"],
        "outputs": ["out"],
        "params": {"steps": [{"type": "formula", "output": "c", "expression": "a + * 2"}]},
    }
    with pytest.raises(FormulaError, match="position"):
        project.create_recipe(recipe)
    assert project.recipes_specs() == []
    assert not project.has_dataset("out")


def test_bad_numbers_in_settings_and_options(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CLUSTERLAB_MAX_UPLOAD_BYTES", "abc")
    with pytest.raises(InvalidInputError, match="CLUSTERLAB_MAX_UPLOAD_BYTES"):
        Settings.from_env(tmp_path)
    monkeypatch.delenv("CLUSTERLAB_MAX_UPLOAD_BYTES")
    monkeypatch.setenv("CLUSTERLAB_HOME", str(tmp_path / "home"))
    cl.Workspace().create_project("P").create_dataset("t", pd.DataFrame({"a": [1]}))
    assert main(["dataset", "show", "P", "t", "--limit", "-1"]) == 2
    assert "--limit" in capsys.readouterr().err


def test_list_shows_datasets_not_built_yet(
    project: cl.Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project.create_dataset("raw", pd.DataFrame({"a": [1, 2]}))
    project.create_recipe({"name": "copy", "type": "sync", "inputs": ["raw"], "outputs": ["out"]})
    monkeypatch.setenv("CLUSTERLAB_HOME", str(project.workspace.home))
    capsys.readouterr()
    assert main(["dataset", "list", "TEST", "--json"]) == 0
    listed = capsys.readouterr().out
    assert '"rows": null' in listed
    assert '"rows": 2' in listed


def test_cancel_during_a_python_udf_is_recorded_as_cancelled(project: cl.Project) -> None:
    agents = [f"Mozilla/5.0 (X11; Linux x86_64) Firefox/{i}.0" for i in range(300_000)]
    project.create_dataset("raw", pd.DataFrame({"ua": agents}))
    project.create_recipe(
        {
            "name": "classify",
            "type": "prepare",
            "inputs": ["raw"],
            "outputs": ["out"],
            "params": {"steps": [{"type": "classify_user_agent", "column": "ua"}]},
        }
    )
    ws = project.workspace
    job = start_job(ws, "build", project.key, {"datasets": ["out"]})
    deadline = time.monotonic() + 60
    while not any("running prepare" in line.message for line in ws.runtime.logs(job.id)):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    cancel_job(ws, job.id)
    finished = wait_job(ws, job.id)
    assert finished.status is JobStatus.CANCELLED, finished.error
    assert not project.dataset("out").has_data()
