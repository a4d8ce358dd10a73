"""Report the progress of a long DuckDB query to a callback while it runs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import duckdb

T = TypeVar("T")
ProgressCallback = Callable[[float], None]


def with_query_progress(
    con: duckdb.DuckDBPyConnection,
    work: Callable[[], T],
    progress: ProgressCallback | None,
    interval: float = 0.2,
) -> T:
    """Run ``work`` (which queries ``con``) and call ``progress(fraction)`` meanwhile.

    DuckDB estimates the progress of its running query; a thread polls it because the
    query itself blocks the calling thread.
    """
    if progress is None:
        return work()
    done = threading.Event()

    def poll() -> None:
        while not done.wait(interval):
            try:
                fraction = con.query_progress()
            except duckdb.Error:
                continue
            if fraction is not None and fraction >= 0:
                progress(min(float(fraction) / 100.0, 1.0))

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        result = work()
    finally:
        done.set()
        watcher.join()
    progress(1.0)
    return result
