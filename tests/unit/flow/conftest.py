"""Fixtures of the recipe tests: tables executed on a real in-memory DuckDB."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import ibis
import pytest


@pytest.fixture(scope="session")
def con() -> Iterator[Any]:
    backend = ibis.duckdb.connect()
    yield backend
    backend.disconnect()


@pytest.fixture(scope="session")
def run(con: Any) -> Callable[[ibis.Table], list[dict[str, Any]]]:
    """Execute a table on DuckDB and return its rows as dicts (None for empty cells)."""

    def execute(table: ibis.Table) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = con.to_pyarrow(table).to_pylist()
        return rows

    return execute
