"""Arrow tables registered on cursors of the process's shared DuckDB database."""

from __future__ import annotations

import os
import sys
import threading

import pyarrow as pa

from clusterlab.engines.local.duck import arrow_tables, shared_cursor


def _total(tables: dict) -> float:
    return float(tables["scored"].x.sum().execute())


def test_blocks_open_at_once_each_see_their_own_rows_under_the_same_name() -> None:
    with arrow_tables({"scored": pa.table({"x": [1.0, 2.0]})}) as first:
        with arrow_tables({"scored": pa.table({"x": [10.0]})}) as second:
            assert (_total(first), _total(second)) == (3.0, 10.0)
        assert _total(first) == 3.0


def test_threads_query_their_own_registrations_at_the_same_time() -> None:
    found: dict[int, float] = {}

    def work(i: int) -> None:
        for _ in range(20):
            with arrow_tables({"scored": pa.table({"x": [float(i)] * 1000})}) as tables:
                found[i] = _total(tables)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == {i: 1000.0 * i for i in range(4)}


def test_the_rows_are_let_go_when_the_block_ends() -> None:
    table = pa.table({"x": [1.0, 2.0, 3.0]})
    before = sys.getrefcount(table)
    with arrow_tables({"scored": table}) as tables:
        assert _total(tables) == 6.0
        assert sys.getrefcount(table) > before
    assert sys.getrefcount(table) == before


def test_a_forked_child_opens_a_database_of_its_own() -> None:
    shared_cursor().close()  # the parent's shared database exists before the fork
    pid = os.fork()
    if pid == 0:  # the child: report through the exit code only
        code = 1
        try:
            with arrow_tables({"scored": pa.table({"x": [4.0, 5.0]})}) as tables:
                code = 0 if _total(tables) == 9.0 else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
