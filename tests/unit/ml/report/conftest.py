"""Fixtures of the report tests: scored tables living in a real DuckDB."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import ibis
import pandas as pd
import pytest

_names = itertools.count()

ScoredFactory = Callable[[dict[str, list[Any]] | pd.DataFrame], Any]


@pytest.fixture(scope="module")
def con() -> Iterator[Any]:
    backend = ibis.duckdb.connect()
    yield backend
    backend.disconnect()


@pytest.fixture(scope="module")
def scored(con: Any) -> ScoredFactory:
    """Turn columns into a DuckDB table of ``con`` (through an Ibis memtable)."""

    def make(columns: dict[str, list[Any]] | pd.DataFrame) -> Any:
        frame = columns if isinstance(columns, pd.DataFrame) else pd.DataFrame(columns)
        return con.create_table(f"scored_{next(_names)}", ibis.memtable(frame))

    return make
