"""A fresh real workspace per API test module, served in-process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

import clusterlab as cl
from clusterlab.web import create_app


@pytest.fixture(scope="module")
def api_ws(tmp_path_factory: pytest.TempPathFactory) -> cl.Workspace:
    return cl.Workspace(tmp_path_factory.mktemp("api") / "home")


@pytest.fixture(scope="module")
def client(api_ws: cl.Workspace) -> Iterator[TestClient]:
    with TestClient(create_app(api_ws), raise_server_exceptions=False) as test_client:
        yield test_client
