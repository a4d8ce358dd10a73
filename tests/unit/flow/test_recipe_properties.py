"""Properties of recipe semantics, checked on random inputs executed by DuckDB."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import ibis
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusterlab.flow.compile import compile_recipe
from tests.unit.flow.flowkit import recipe

Run = Callable[[ibis.Table], list[dict[str, Any]]]
PROPERTY = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

KEYS = st.sampled_from(["a", "b", "c", "é", "", None])
ROWS = st.lists(st.tuples(KEYS, st.one_of(st.none(), st.integers(-100, 100))), max_size=40)


def rows_table(rows: list[tuple[str | None, int | None]]) -> ibis.Table:
    return ibis.memtable(
        pa.table(
            {
                "id": pa.array(range(len(rows)), pa.int64()),
                "k": pa.array([r[0] for r in rows], pa.string()),
                "v": pa.array([r[1] for r in rows], pa.int64()),
            }
        )
    )


@given(rows=ROWS)
@PROPERTY
def test_group_counts_add_up_to_the_input_rows(rows: list[Any], run: Run) -> None:
    spec = recipe(
        "group",
        ["in"],
        ["out"],
        keys=["k"],
        aggregations=[{"column": "v", "aggregations": ["count", "sum"]}],
    )
    groups = run(compile_recipe(spec, {"in": rows_table(rows)})["out"])
    assert sum(g["count"] for g in groups) == len(rows)
    assert sum(g["v_count"] for g in groups) == sum(r[1] is not None for r in rows)
    # One group per distinct key, empty and "" being different keys.
    expected = Counter(r[0] for r in rows)
    assert {g["k"]: g["count"] for g in groups} == dict(expected)


def _partition_ids(spec: Any, data: ibis.Table, run: Run) -> list[int]:
    outputs = compile_recipe(spec, {"in": data})
    return sorted(row["id"] for table in outputs.values() for row in run(table))


@given(
    rows=ROWS,
    mapping=st.dictionaries(st.sampled_from(["a", "b", "c", ""]), st.sampled_from(["x", "y"])),
)
@PROPERTY
def test_split_by_values_partitions_the_input(
    rows: list[Any], mapping: dict[str, str], run: Run
) -> None:
    mapping = mapping or {"a": "x"}
    targets = sorted(set(mapping.values()))
    spec = recipe(
        "split",
        ["in"],
        [*targets, "rest"],
        mode="values",
        column="k",
        mapping=mapping,
        remaining="rest",
    )
    assert _partition_ids(spec, rows_table(rows), run) == list(range(len(rows)))


@given(rows=ROWS, threshold=st.integers(-100, 100))
@PROPERTY
def test_split_by_filter_partitions_the_input(rows: list[Any], threshold: int, run: Run) -> None:
    spec = recipe(
        "split",
        ["in"],
        ["big", "rest"],
        mode="filter",
        formula=f"v > {threshold} or isNull(k)",
        filter_output="big",
        remaining="rest",
    )
    assert _partition_ids(spec, rows_table(rows), run) == list(range(len(rows)))


@given(
    rows=ROWS,
    ratios=st.lists(st.floats(0.01, 0.5), min_size=1, max_size=2),
    seed=st.integers(0, 2**31),
)
@PROPERTY
def test_random_split_partitions_the_input(
    rows: list[Any], ratios: list[float], seed: int, run: Run
) -> None:
    names = [f"part{i}" for i in range(len(ratios))]
    spec = recipe(
        "split",
        ["in"],
        [*names, "rest"],
        mode="random",
        ratios=dict(zip(names, ratios, strict=True)),
        seed=seed,
        remaining="rest",
    )
    assert _partition_ids(spec, rows_table(rows), run) == list(range(len(rows)))


def test_random_split_is_deterministic_per_seed_and_ratios_hold(run: Run) -> None:
    n = 4000
    data = ibis.memtable(pa.table({"id": pa.array(range(n), pa.int64())}))

    def assignment(seed: int) -> dict[int, str]:
        spec = recipe(
            "split",
            ["in"],
            ["a", "b", "c"],
            mode="random",
            ratios={"a": 0.2, "b": 0.5},
            remaining="c",
            seed=seed,
        )
        outputs = compile_recipe(spec, {"in": data})
        return {row["id"]: name for name, table in outputs.items() for row in run(table)}

    first = assignment(42)
    assert len(first) == n
    assert assignment(42) == first
    counts = Counter(first.values())
    for name, share in {"a": 0.2, "b": 0.5, "c": 0.3}.items():
        assert abs(counts[name] / n - share) < 0.03, counts
    other = assignment(43)
    moved = sum(first[i] != other[i] for i in range(n))
    assert moved > n / 4  # another seed gives another split
