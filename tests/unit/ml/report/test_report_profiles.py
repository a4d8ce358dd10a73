"""Cluster profiles: shared bins counted in DuckDB, shares per cluster, box statistics."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusterlab.core.errors import NotFoundError
from clusterlab.ml.report import (
    MISSING_LEVEL,
    OTHER_LEVEL,
    OVERALL,
    build_profiles,
    compute_stats,
    features_of,
    profile_for,
)


def profiles_of(table, numeric=(), categorical=(), **kwargs):
    stats = compute_stats(table, features_of(numeric, categorical))
    return build_profiles(table, stats, **kwargs)


def test_numeric_bins_by_hand(scored):
    # min 0, max 8, 4 bins of width 2; 8 (the max) falls in the last bin.
    t = scored({"x": [0.0, 1.0, 2.0, 3.0, 4.0, 8.0, None], "cluster": ["a"] * 3 + ["b"] * 4})
    (p,) = profiles_of(t, ["x"], bins=4)
    assert p.bin_edges == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert p.x == [1.0, 3.0, 5.0, 7.0]
    a, b = p.clusters
    assert a.shares == pytest.approx([2 / 3, 1 / 3, 0, 0])
    assert b.shares == pytest.approx([0, 1 / 4, 1 / 4, 1 / 4])
    assert b.missing_share == pytest.approx(1 / 4)
    assert p.overall.name == OVERALL
    assert p.overall.shares == pytest.approx([2 / 7, 2 / 7, 1 / 7, 1 / 7])
    assert (a.mean, a.std) == pytest.approx((1.0, 1.0))
    assert b.mean == pytest.approx(5.0)


def test_default_sixty_bins_shared_by_every_row(scored):
    t = scored({"x": [float(v) for v in range(100)], "cluster": ["a", "b", "c", "d"] * 25})
    (p,) = profiles_of(t, ["x"])
    assert len(p.bin_edges) == 61
    assert (p.bin_edges[0], p.bin_edges[-1]) == (0.0, 99.0)
    for row in p.rows:
        assert len(row.shares) == 60
        assert sum(row.shares) == pytest.approx(1.0)


def test_box_statistics_are_ordered_within_the_range(scored):
    t = scored({"x": [float(v) for v in range(1, 201)], "cluster": ["a", "b"] * 100})
    (p,) = profiles_of(t, ["x"])
    for row in p.rows:
        box = row.box
        assert box is not None
        assert 1 <= box.p9 <= box.p25 <= box.median <= box.p75 <= box.p91 <= 200
        assert row.median == box.median
    # approximate quantiles: close to the exact ones on this uniform column
    overall = p.overall.box
    assert overall.median == pytest.approx(100.5, abs=3)
    assert overall.p9 == pytest.approx(18.9, abs=3)


def test_constant_feature_gets_one_bin(scored):
    t = scored({"k": [3.0] * 4, "cluster": ["a", "b"] * 2})
    (p,) = profiles_of(t, ["k"])
    assert p.bin_edges == [2.5, 3.5]
    assert [row.shares for row in p.rows] == [[1.0], [1.0], [1.0]]


def test_categorical_top_levels_missing_level_and_other_bucket(scored):
    values = [f"v{i:02d}" for i in range(32) for _ in range(32 - i)] + [None] * 40
    t = scored({"c": values, "cluster": ["a", "b"] * (len(values) // 2)})
    (p,) = profiles_of(t, categorical=["c"])
    assert not p.is_numeric
    assert len(p.levels) == 31
    assert p.levels[0] == MISSING_LEVEL
    assert p.levels[-1] == OTHER_LEVEL
    for row in p.rows:
        assert len(row.shares) == 31
        assert sum(row.shares) == pytest.approx(1.0)
    assert p.overall.shares[0] == pytest.approx(40 / len(values))
    assert p.x == p.levels


def test_profiles_follow_feature_order_and_picker(scored):
    t = scored({"x": [1.0, 2.0], "c": ["u", "v"], "y": [3.0, 4.0], "cluster": ["a", "b"]})
    stats = compute_stats(t, features_of(["x"], ["c"]) + features_of(["y"]))
    profiles = build_profiles(t, stats)
    assert [p.feature for p in profiles] == ["x", "c", "y"]
    assert profile_for(profiles, "y").is_numeric
    with pytest.raises(NotFoundError):
        profile_for(profiles, "nope")


rows_strategy = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(-50, 50).map(float)),
        st.sampled_from(["k0", "k1", "k2"]),
        st.one_of(st.none(), st.sampled_from(["p", "q"])),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, bins=st.integers(1, 60))
def test_shares_plus_missing_sum_to_one(scored, rows, bins):
    # Typed columns: an all-None column would otherwise have no type at all.
    frame = pd.DataFrame(rows, columns=["x", "cluster", "c"]).astype(
        {"x": "float64", "c": "string"}
    )
    t = scored(frame)
    numeric, categorical = profiles_of(t, ["x"], ["c"], bins=bins)
    for profile in (numeric, categorical):
        for row in profile.rows:
            assert sum(row.shares) + row.missing_share == pytest.approx(1.0)
            assert len(row.shares) == len(profile.x)
    lo, hi = frame.x.min(), frame.x.max()
    if lo == hi:
        assert numeric.bin_edges == [lo - 0.5, hi + 0.5]
    elif frame.x.notna().any():
        assert (numeric.bin_edges[0], numeric.bin_edges[-1]) == (lo, hi)
        assert len(numeric.bin_edges) == bins + 1


def test_profiles_from_a_stratified_sample_keep_exact_counts_and_reweight_the_overall(scored):
    # Cluster a: 300 rows, three copies of the same 100 values; b: 40 rows, 10 missing.
    a_values = [float(v % 10) for v in range(100)] * 3
    b_values = [20.0 + v % 5 for v in range(30)] + [None] * 10
    full = scored({"x": a_values + b_values, "cluster": ["a"] * 300 + ["b"] * 40})
    # The sample over-represents b: one copy of a's values, all of b's rows.
    sample = scored({"x": a_values[:100] + b_values, "cluster": ["a"] * 100 + ["b"] * 40})
    stats = compute_stats(full, features_of(["x"]))
    (exact,) = build_profiles(full, stats, bins=6)
    (sampled,) = build_profiles(full, stats, bins=6, sample=sample)
    # Bins and counts come from all rows; shares from the sample equal the exact ones
    # here because each cluster's sample has its exact distribution.
    assert sampled.bin_edges == exact.bin_edges
    for got, want in zip(sampled.rows, exact.rows, strict=True):
        assert got.count == want.count
        assert got.missing_share == pytest.approx(want.missing_share)
        assert got.shares == pytest.approx(want.shares)
        assert sum(got.shares) + got.missing_share == pytest.approx(1.0)
    # A plain sum of the sample's bins would give b 30 of 130 values, not 30 of 330.
    assert sampled.overall.shares[-1] == pytest.approx(30 / 340)
    assert sampled.clusters[0].box.median == pytest.approx(exact.clusters[0].box.median)
