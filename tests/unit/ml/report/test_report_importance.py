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
