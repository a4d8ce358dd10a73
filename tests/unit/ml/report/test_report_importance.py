"""Variables importance from a 100-tree random forest."""

from __future__ import annotations

import numpy as np
import pytest

from clusterlab.core.errors import InvalidInputError
from clusterlab.ml.report import importances_table, variables_importance


def data(seed=0, n=300):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    y = np.where(x[:, 1] > 0.3, "cluster_1", "cluster_0")
    return x, y


def test_importances_sum_to_100_sorted_with_the_signal_first():
    x, y = data()
    result = variables_importance(x, y, ["a", "signal", "b"], random_state=1)
    assert sum(r.importance for r in result) == pytest.approx(100.0)
    values = [r.importance for r in result]
    assert values == sorted(values, reverse=True)
    assert result[0].feature == "signal"
    assert result[0].importance > 50


def test_same_seed_same_result_and_sampling():
    x, y = data()
    first = variables_importance(x, y, ["a", "b", "c"], random_state=7, max_rows=100)
    again = variables_importance(x, y, ["a", "b", "c"], random_state=7, max_rows=100)
    assert first == again
    assert sum(r.importance for r in first) == pytest.approx(100.0)


def test_single_cluster_splits_evenly():
    x, _ = data(n=20)
    result = variables_importance(x, ["only"] * 20, ["a", "b", "c", "d"][:3])
    assert [r.importance for r in result] == pytest.approx([100 / 3] * 3)


def test_shape_mismatch_is_a_clear_error():
    x, y = data(n=10)
    with pytest.raises(InvalidInputError, match="3 names"):
        variables_importance(x[:, :2], y, ["a", "b", "c"])


def test_export_table():
    x, y = data()
    table = importances_table(variables_importance(x, y, ["a", "b", "c"]))
    assert list(table.columns) == ["feature", "importance"]
    assert table.importance.sum() == pytest.approx(100.0)


def test_many_rows_learn_from_a_stratified_sample_that_keeps_small_clusters():
    # 40,000 rows: above the default sample, trees grown on bootstrap draws of it.
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40_000, 3))
    y = np.where(x[:, 2] > 2.3, "rare", np.where(x[:, 0] > 0, "high", "low")).astype(object)
    result = variables_importance(x, y, ["split", "noise", "rare_signal"], random_state=0)
    assert [r.feature for r in result][:2] == ["split", "rare_signal"]
    assert result[-1].feature == "noise"
    assert sum(r.importance for r in result) == pytest.approx(100.0)
    # Sampling is seeded: the same call gives the same forest.
    again = variables_importance(x, y, ["split", "noise", "rare_signal"], random_state=0)
    assert again == result


def test_rows_per_tree_beyond_the_rows_grows_full_bootstrap_trees():
    x, y = data(n=200)
    small = variables_importance(x, y, ["a", "signal", "b"], rows_per_tree=5_000)
    assert small[0].feature == "signal"
    assert small == variables_importance(x, y, ["a", "signal", "b"], rows_per_tree=None)
