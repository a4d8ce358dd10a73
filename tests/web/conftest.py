"""A real workspace per test module: the web-logs starter, built, and a trained Lab task."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

import clusterlab as cl
from clusterlab.services.lab import ClusteringTask
from clusterlab.web import create_app
from tests.web.builders import starter_workspace, trained_task


@pytest.fixture(scope="module")
def web_ws(tmp_path_factory: pytest.TempPathFactory) -> cl.Workspace:
    return starter_workspace(tmp_path_factory.mktemp("web") / "home")


@pytest.fixture(scope="module")
def client(web_ws: cl.Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(web_ws)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def task(web_ws: cl.Workspace) -> ClusteringTask:
    return trained_task(web_ws)
