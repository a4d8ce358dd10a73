"""Heatmap: relative-importance formulas, sorting, filtering and export, on a real DuckDB."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusterlab.core.errors import NotFoundError
from clusterlab.ml.report import (
    EXPORT_COLUMNS,
    build_heatmap,
    compute_stats,
    features_of,
    relative_importance_level,
    relative_importance_numeric,
)


@pytest.fixture(scope="module")
def small(scored):
    return scored(
        {
            "x": [1.0, 2.0, 3.0, 10.0, 12.0, 14.0, 5.0],
            "c": ["u", "u", "v", "v", "v", None, "u"],
            "cluster": ["a", "a", "a", "b", "b", "b", "a"],
        }
    )


def expected_numeric(values: np.ndarray, mask: np.ndarray) -> float:
    mine, every = values[mask], values
    numerator = mine.mean() - every.mean()
    denominator = math.sqrt(mine.var(ddof=1) / len(mine) + every.var(ddof=1) / len(every))
    return numerator / denominator


def test_numeric_cell_matches_hand_formula(small):
    heatmap = build_heatmap(compute_stats(small, features_of(["x"], ["c"])))
    x = np.array([1.0, 2.0, 3.0, 10.0, 12.0, 14.0, 5.0])
    in_a = np.array([True, True, True, False, False, False, True])
    row = heatmap.row("x")
    assert row.cell("a").value == pytest.approx(expected_numeric(x, in_a))
    assert row.cell("b").value == pytest.approx(expected_numeric(x, ~in_a))
    assert row.global_mean == pytest.approx(x.mean())
    assert row.global_std == pytest.approx(x.std(ddof=1))
    assert row.cell("b").std == pytest.approx(2.0)


def test_level_cells_match_hand_formula_and_missing_is_a_level(small):
    heatmap = build_heatmap(compute_stats(small, features_of(["x"], ["c"])))
    assert heatmap.labels == ["x", "c=u", "c=v", "c=(missing)"]
    # c=v: a has 1 of 4 rows, b 2 of 3, overall 3 of 7.
    p_a, p_g = 1 / 4, 3 / 7
    expected = (p_a - p_g) / math.sqrt(p_a * (1 - p_a) / 4 + p_g * (1 - p_g) / 7)
    cell = heatmap.row("c=v").cell("a")
    assert cell.value == pytest.approx(expected)
    assert (cell.proportion, heatmap.row("c=v").global_proportion) == pytest.approx((p_a, p_g))


def test_zero_denominator_saturates_with_the_sign_of_the_difference():
    assert relative_importance_numeric(5.0, 0.0, 3, 4.0, 0.0, 10) == 100.0
    assert relative_importance_numeric(3.0, 0.0, 3, 4.0, 0.0, 10) == -100.0
    assert relative_importance_numeric(4.0, 0.0, 3, 4.0, 0.0, 10) == 0.0
    assert relative_importance_level(1.0, 5, 0.0, 50) == 100.0
    assert relative_importance_level(0.0, 5, 1.0, 50) == -100.0
    assert relative_importance_level(1.0, 5, 1.0, 50) == 0.0


def test_constant_feature_is_zero_not_saturated(scored):
    # 0.1 is not exact in binary: means may differ in the last bit, still "no difference".
    t = scored({"k": [0.1] * 7, "cluster": ["a"] * 3 + ["b"] * 4})
    heatmap = build_heatmap(compute_stats(t, features_of(["k"])))
    assert heatmap.values().tolist() == [[0.0, 0.0]]


def test_sort_by_cluster_and_by_feature(small):
    heatmap = build_heatmap(compute_stats(small, features_of(["x"], ["c"])))
    by_b = heatmap.sorted_by_cluster("b")
    values = [abs(r.cell("b").value) for r in by_b.rows]
    assert values == sorted(values, reverse=True)
    by_x = heatmap.sorted_by_feature("x")
    assert by_x.clusters == ["b", "a"]
    assert [c.cluster for c in by_x.rows[1].cells] == ["b", "a"]
    with pytest.raises(NotFoundError):
        heatmap.sorted_by_cluster("zzz")


def test_filters_and_default_view(small, scored):
    heatmap = build_heatmap(compute_stats(small, features_of(["x"], ["c"])))
    assert heatmap.filtered(numeric_only=True).labels == ["x"]
    assert heatmap.filtered(feature="c").labels == ["c=u", "c=v", "c=(missing)"]
    assert heatmap.default_view().labels == heatmap.labels
    with pytest.raises(NotFoundError, match="choose one of: c"):
        heatmap.filtered(feature="x")
    # 120 levels + 1 numeric row: above 100 rows the panel opens on numeric rows only.
    levels = [f"v{i}" for i in range(120)]
    wide = scored({"n": list(range(120)), "l": levels, "cluster": ["a", "b"] * 60})
    big = build_heatmap(
        compute_stats(wide, features_of(["n"], ["l"]), max_levels=200), max_levels=200
    )
    assert len(big.rows) == 121
    assert big.default_view().labels == ["n"]


def test_export_table_columns_and_values(small):
    heatmap = build_heatmap(compute_stats(small, features_of(["x"], ["c"])))
    table = heatmap.to_table()
    assert tuple(table.columns) == EXPORT_COLUMNS
    assert list(table.columns) == [
        "cluster_label",
        "feature",
        "is_numeric_feature",
        "global_mean",
        "mean",
        "global_std",
        "std",
        "proportion",
        "global_proportion",
        "relative_importance",
    ]
    assert len(table) == len(heatmap.rows) * 2
    x_b = table[(table.feature == "x") & (table.cluster_label == "b")].iloc[0]
    assert bool(x_b.is_numeric_feature)
    assert x_b["mean"] == pytest.approx(12.0)
    assert math.isnan(x_b.proportion)
    level = table[table.feature == "c=u"].iloc[0]
    assert not bool(level.is_numeric_feature)
    assert math.isnan(level["mean"])


def test_hover_text_gives_average_change_and_std(small):
    row = build_heatmap(compute_stats(small, features_of(["x"], ["c"]))).row("x")
    text = row.hover_text(row.cell("b"))
    assert "Average: 12 (global 6.71, +79%)" in text
    assert "Std: 2 (global" in text


values_strategy = st.lists(
    st.tuples(
        st.integers(-400, 400).map(lambda v: v / 8),
        st.sampled_from(["c0", "c1", "c2"]),
        st.sampled_from(["p", "q", "r"]),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=values_strategy)
def test_cells_are_finite_and_follow_the_formula(scored, rows):
    frame = pd.DataFrame(rows, columns=["x", "cluster", "c"])
    heatmap = build_heatmap(compute_stats(scored(frame.to_dict("list")), features_of(["x"], ["c"])))
    values = heatmap.values()
    assert np.isfinite(values).all()
    x = frame.x.to_numpy()
    constant = x.min() == x.max()
    for j, cluster in enumerate(heatmap.clusters):
        mask = (frame.cluster == cluster).to_numpy()
        n_c, n = int(mask.sum()), len(x)
        s_c = x[mask].std(ddof=1) if n_c > 1 else 0.0
        s_g = x.std(ddof=1) if n > 1 else 0.0
        variance = s_c**2 / n_c + s_g**2 / n
        got = values[0, j]
        if constant or variance == 0:
            assert got == 0.0 or abs(got) == 100.0
        else:
            want = (x[mask].mean() - x.mean()) / math.sqrt(variance)
            assert got == pytest.approx(want, rel=1e-6, abs=1e-6)
        for i, row in enumerate(heatmap.rows[1:], start=1):
            p_c = float((frame.c[mask] == row.level).mean())
            p_g = float((frame.c == row.level).mean())
            var = p_c * (1 - p_c) / n_c + p_g * (1 - p_g) / n
            got = values[i, j]
            if var == 0:
                assert abs(got) in {0.0, 100.0}
            else:
                assert got == pytest.approx((p_c - p_g) / math.sqrt(var), rel=1e-9, abs=1e-9)
