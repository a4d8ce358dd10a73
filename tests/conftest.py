"""Shared fixtures: a fresh workspace in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

import clusterlab as cl


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> cl.Workspace:
    monkeypatch.delenv("CLUSTERLAB_HOME", raising=False)
    return cl.Workspace(tmp_path / "home")


@pytest.fixture
def project(ws: cl.Workspace) -> cl.Project:
    return ws.create_project("TEST")
