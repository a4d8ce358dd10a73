"""Summary observations: DSS sentences, thresholds and ranking on a real DuckDB."""

from __future__ import annotations

import numpy as np
import pytest

from clusterlab.core.errors import InvalidInputError
from clusterlab.ml.report import (
    FeatureKind,
    build_observations,
    compute_stats,
    features_of,
    suggest_name,
    suggest_names,
)
from clusterlab.ml.report.observations import (
    candidate_levels,
    categorical_observation,
    numeric_observation,
)


def texts(report, cluster):
    return [o.text for o in report.for_cluster(cluster).observations]


def test_numeric_sentences_same_sign_with_hand_computed_values(scored):
    # b's mean 4.77 is 4.77x the global mean 1 -> 377% greater; a's is 0.0575 -> 94% smaller.
    x = [0.0] * 7 + [0.46, 4.0, 5.54]
    t = scored({"x": x, "cluster": ["a"] * 8 + ["b"] * 2})
    report = build_observations(compute_stats(t, features_of(["x"])))
    assert texts(report, "b") == ["x is in average 377% greater : mean of 4.77 against 1 globally"]
    assert texts(report, "a") == ["x is in average 94% smaller : mean of 0.0575 against 1 globally"]
    obs = report.for_cluster("b").observations[0]
    assert obs.diff == pytest.approx((4.77 - 1.0) / np.std(x, ddof=1))
    assert obs.kind is FeatureKind.NUMERIC


def test_negative_global_mean_says_in_absolute_value(scored):
    t = scored({"y": [-1.0] * 4 + [-4.0] * 2, "cluster": ["a"] * 4 + ["b"] * 2})
    report = build_observations(compute_stats(t, features_of(["y"])))
    assert texts(report, "b") == [
        "y is in average 100% greater (in absolute value) : mean of -4 against -2 globally"
    ]
    assert texts(report, "a") == [
        "y is in average 50% smaller (in absolute value) : mean of -1 against -2 globally"
    ]


def test_opposite_signs_give_both_means(scored):
    t = scored({"z": [1.0] * 4 + [-5.0] * 2, "cluster": ["a"] * 4 + ["b"] * 2})
    report = build_observations(compute_stats(t, features_of(["z"])))
    assert texts(report, "a") == ["The mean of z is 1 against -1 across all clusters"]
    assert texts(report, "b")[0].startswith("z is in average 400% greater (in absolute value)")


def test_constant_feature_gives_no_observation(scored):
    t = scored({"w": [0.1] * 6, "cluster": ["a"] * 3 + ["b"] * 3})
    report = build_observations(compute_stats(t, features_of(["w"])))
    assert report.overall == []
    assert numeric_observation("a", "w", 1.0, 1.0, 0.0) is None


def country_table(scored):
    # 100 rows: a = 50 x France; b = 30 x France + 20 x Germany.
    return scored(
        {
            "country": ["France"] * 80 + ["Germany"] * 20,
            "cluster": ["a"] * 50 + ["b"] * 50,
        }
    )


def test_categorical_sentences_only_prefix_and_smoothed_share(scored):
    report = build_observations(
        compute_stats(country_table(scored), features_of(categorical=["country"]))
    )
    # b: Germany s = (20 + 2) / 60 = 0.367, diff = (0.2 - s) / 0.2 = -0.833 ranks first;
    # France s = (30 + 8) / 60 = 0.633 >= 0.3 with p = 60% < q = 80% -> "Only".
    assert texts(report, "b") == [
        "40% of the cluster has Germany for country (against 20% globally)",
        "Only 60% of the cluster has France for country (against 80% globally)",
    ]
    # a: Germany s = 2 / 60 < 0.3 is not emitted.
    assert texts(report, "a") == [
        "100% of the cluster has France for country (against 80% globally)"
    ]
    germany = report.for_cluster("b").observations[0]
    assert germany.diff == pytest.approx((0.2 - 22 / 60) / 0.2)
    assert (germany.level, germany.cluster_value, germany.global_value) == ("Germany", 0.4, 0.2)


def test_smoothed_share_threshold_is_inclusive():
    # s = (13 + 10 * 0.5) / (50 + 10) = 0.3 exactly: kept; one row fewer: dropped.
    assert categorical_observation("c", "f", "v", 13, 50, 0.5) is not None
    assert categorical_observation("c", "f", "v", 12, 50, 0.5) is None


def test_levels_need_more_than_ten_rows_without_them(scored):
    # count * (1 - share) = 20 * 20 / 40 = 10 exactly: not enough.
    even = scored({"c": ["x"] * 20 + ["y"] * 20, "cluster": ["k"] * 40})
    assert candidate_levels(compute_stats(even, features_of(categorical=["c"])), "c") == []
    # 21 * 21 / 42 = 10.5: both kept.
    more = scored({"c": ["x"] * 21 + ["y"] * 21, "cluster": ["k"] * 42})
    assert candidate_levels(compute_stats(more, features_of(categorical=["c"])), "c") == [
        "x",
        "y",
    ]


def test_rare_level_is_skipped_even_when_its_cluster_is_full_of_it(scored):
    # gold: 5 rows, 5 * 0.95 <= 10; its cluster is all gold (s = 5.5 / 15 >= 0.3).
    t = scored({"plan": ["gold"] * 5 + ["basic"] * 95, "cluster": ["g"] * 5 + ["r"] * 95})
    report = build_observations(compute_stats(t, features_of(categorical=["plan"])))
    assert all(o.level != "gold" for o in report.for_cluster("g").observations)


def test_only_top_ten_levels_are_considered(scored):
    levels = [f"l{i:02d}" for i in range(12)]
    values = [lvl for i, lvl in enumerate(levels) for _ in range(30 - i)]
    t = scored({"c": values, "cluster": ["k"] * len(values)})
    stats = compute_stats(t, features_of(categorical=["c"]))
    assert candidate_levels(stats, "c") == levels[:10]


def test_ranking_top_three_per_cluster_and_ten_overall(scored):
    rng = np.random.default_rng(3)
    n = 60
    labels = [f"cluster_{i % 4}" for i in range(n)]
    shift = np.array([i % 4 for i in range(n)], dtype=float)
    columns = {f"f{j}": list(rng.normal(size=n) + shift * (j + 1) + 50) for j in range(5)}
    t = scored(columns | {"cluster": labels})
    report = build_observations(compute_stats(t, features_of(list(columns))))
    for item in report.clusters:
        diffs = [abs(o.diff) for o in item.observations]
        assert len(diffs) == 3
        assert diffs == sorted(diffs, reverse=True)
    overall = [abs(o.diff) for o in report.overall]
    assert len(overall) == 10
    assert overall == sorted(overall, reverse=True)
    every = [abs(o.diff) for c in report.clusters for o in c.observations]
    assert overall[0] == max(every)


def test_suggested_names_read_well():
    high = numeric_observation("a", "count", 4.77, 1.0, 2.0)
    low = numeric_observation("a", "count", 0.5, 1.0, 2.0)
    france = categorical_observation("a", "ip_address_country_first", "France", 40, 50, 0.3)
    few = categorical_observation("a", "country", "France", 20, 50, 0.6)
    missing = categorical_observation("a", "country", "(missing)", 40, 50, 0.3)
    assert suggest_name([high]) == "High count"
    assert suggest_name([low]) == "Low count"
    assert suggest_name([france]) == "France ip_address_country_first"
    assert suggest_name([few]) == "Few France country"
    assert suggest_name([missing]) == "Missing country"
    assert suggest_name([]) == ""


def test_suggested_names_are_distinct(scored):
    t = scored(
        {
            "x": [0.0] * 10 + [10.0] * 5 + [12.0] * 5,
            "y": [1.0] * 10 + [1.0] * 5 + [9.0] * 5,
            "cluster": ["a"] * 10 + ["b"] * 5 + ["c"] * 5,
        }
    )
    names = suggest_names(build_observations(compute_stats(t, features_of(["x", "y"]))))
    assert len(set(names.values())) == 3
    assert names["a"] == "Low x"


def test_missing_column_is_a_clear_error(scored):
    t = scored({"x": [1.0], "cluster": ["a"]})
    with pytest.raises(InvalidInputError, match="'nope'"):
        compute_stats(t, features_of(["nope"]))
    with pytest.raises(InvalidInputError, match="cluster label column 'label'"):
        compute_stats(t, features_of(["x"]), cluster_column="label")
