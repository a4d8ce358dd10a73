"""`clusterlab project set-engine` and `project engines`, and `build` on those engines."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import clusterlab as cl
from clusterlab.cli.main import main


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    capsys.readouterr()
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_set_engines_then_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    monkeypatch.setenv("CLUSTERLAB_HOME", str(home))
    project = cl.Workspace(home).create_project("SHOP")
    project.create_dataset("views", pd.DataFrame({"n": [1, 2]}))
    project.create_recipe({"name": "copy", "type": "sync", "inputs": ["views"], "outputs": ["c"]})

    assert run_json(capsys, "project", "set-engine", "SHOP", "spark") == {
        "key": "SHOP",
        "engine": "spark",
    }
    recipe = run_json(capsys, "project", "set-engine", "SHOP", "local", "--recipe", "copy")
    assert recipe == {"key": "SHOP", "recipe": "copy", "engine": "local"}
    listed = run_json(capsys, "project", "engines", "SHOP")
    assert listed == {
        "engine": "spark",
        "recipes": [{"name": "copy", "engine": "local", "own_engine": "local", "problems": []}],
    }
    build = run_json(capsys, "build", "SHOP", "c")
    assert build["status"] == "succeeded"
    assert any(line.endswith("the local engine (the recipe's)") for line in build["log"])
    back = run_json(capsys, "project", "set-engine", "SHOP", "project", "--recipe", "copy")
    assert back["engine"] is None
    capsys.readouterr()
    assert main(["project", "set-engine", "SHOP", "gpu"]) == 2
    assert "Unknown engine 'gpu': choose one of local, spark" in capsys.readouterr().err
    forced = run_json(capsys, "build", "SHOP", "c", "--force", "--engine", "local")
    assert any(line.endswith("the local engine (the build's)") for line in forced["log"])
