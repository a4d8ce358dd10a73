from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import clusterlab as cl
from clusterlab.core.errors import (
    AlreadyExistsError,
    ClusterLabError,
    InvalidNameError,
    NotFoundError,
    StorageError,
)


def test_open_creates_then_reopens(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    cl.Workspace(home).create_project("ALPHA", name="Alpha team")
    again = cl.Workspace(home)
    assert [(p.key, p.name) for p in again.projects()] == [("ALPHA", "Alpha team")]


def test_home_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLUSTERLAB_HOME", str(tmp_path / "envhome"))
    ws = cl.Workspace()
    assert ws.home == (tmp_path / "envhome").resolve()
    assert (tmp_path / "envhome" / "workspace.json").is_file()


def test_refuses_a_non_empty_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(StorageError, match="not a ClusterLab workspace"):
        cl.Workspace(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("key", ["lower", "1ABC", "A-B", "A B", "", "A/B", "..", "É"])
def test_invalid_project_keys(ws: cl.Workspace, key: str) -> None:
    with pytest.raises(InvalidNameError, match="project key"):
        ws.create_project(key)
    assert ws.projects() == []


def test_project_lifecycle(ws: cl.Workspace) -> None:
    ws.create_project("WEB_2024")
    with pytest.raises(AlreadyExistsError):
        ws.create_project("WEB_2024")
    assert ws.rename_project("WEB_2024", "Web logs").name == "Web logs"
    assert ws.project("WEB_2024").name == "Web logs"
    ws.delete_project("WEB_2024")
    with pytest.raises(NotFoundError, match="No project WEB_2024"):
        ws.project("WEB_2024")
    assert ws.projects() == []


def test_errors_share_one_base() -> None:
    for error in (AlreadyExistsError, InvalidNameError, NotFoundError, StorageError):
        assert issubclass(error, ClusterLabError)


def test_opening_cleans_work_areas_of_dead_processes(tmp_path: Path) -> None:
    home = tmp_path / "ws"
    ws = cl.Workspace(home)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftover = ws.scratch_dir().with_name(f"scratch-{dead.pid}-deadbeef")
    leftover.mkdir()
    (leftover / "partial.csv").write_text("a\n")
    mine = ws.scratch_dir()
    (home / ".trash" / "old").mkdir(parents=True)
    cl.Workspace(home)
    assert not leftover.exists()
    assert mine.exists()  # this process is alive: its scratch folder stays
    assert not (home / ".trash").exists()


def test_old_versions_are_garbage_collected(project: cl.Project) -> None:
    for n in range(4):
        project.create_dataset("t", pd.DataFrame({"a": range(n + 1)}), overwrite=True)
    versions = project.dataset("t").versions.versions()
    assert len(versions) == 2  # the current one and one previous, for readers in progress
    assert project.dataset("t").rows == 4
