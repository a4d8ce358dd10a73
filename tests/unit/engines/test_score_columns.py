"""Scored columns become Arrow columns: text whole, other objects as their text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from clusterlab.engines.local.score import _column


def test_text_columns_keep_their_values_and_missing_ones_become_null():
    values = pd.Series(np.array(["Corner", None, float("nan"), "Big spenders"], dtype=object))
    column = _column(values)
    assert column.type == pa.string()
    assert column.to_pylist() == ["Corner", None, None, "Big spenders"]


def test_other_objects_become_their_text():
    values = pd.Series([1, "x", None, 2.5, True], dtype=object)
    assert _column(values).to_pylist() == ["1", "x", None, "2.5", "True"]


def test_numbers_keep_their_type():
    assert _column(pd.Series([1.5, np.nan])).to_pylist() == [1.5, None]
    assert _column(pd.Series([3, 4])).type == pa.int64()
