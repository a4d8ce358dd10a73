"""Per-cluster statistics of a scored table, against pandas recomputing them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from clusterlab.core.errors import InvalidInputError
from clusterlab.engines.local.duck import arrow_tables
from clusterlab.ml.report import compute_stats, features_of
from clusterlab.ml.report.inputs import MISSING_LEVEL

CLUSTERS = ["cluster_10", "cluster_2", "cluster_1"]


def scored_frame(seed: int = 0) -> pd.DataFrame:
    """Numbers far from 0 with missing values, tied levels, and unlabelled rows to leave out."""
    rng = np.random.default_rng(seed)
    countries = np.array(["fr", "fr", "fr", "de", "de", "it", "es", None] * 60, dtype=object)
    n = len(countries)
    labelled = pd.DataFrame(
        {
            "x": 1e6 + rng.normal(0.0, 1.0, n),
            "y": np.where(rng.random(n) < 0.2, np.nan, rng.exponential(3.0, n)),
            "country": rng.permutation(countries),
            "cluster": rng.choice(CLUSTERS, n),
        }
    )
    labelled.loc[labelled["cluster"] == "cluster_1", "y"] = np.nan
    unlabelled = pd.DataFrame({"x": [1e9] * 5, "y": [1e9] * 5, "country": ["zz"] * 5})
    return pd.concat([labelled, unlabelled.assign(cluster=None)], ignore_index=True)


def as_table(frame: pd.DataFrame, dictionary: bool) -> pa.Table:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if dictionary:
        index = table.schema.get_field_index("cluster")
        table = table.set_column(index, "cluster", table["cluster"].dictionary_encode())
    return table


@pytest.mark.parametrize("dictionary", [False, True], ids=["string", "dictionary"])
def test_stats_equal_pandas_recomputation(dictionary):
    frame = scored_frame()
    labelled = frame[frame["cluster"].notna()]
    with arrow_tables({"scored": as_table(frame, dictionary)}) as tables:
        stats = compute_stats(tables["scored"], features_of(["x", "y"], ["country"]), max_levels=3)
    assert stats.clusters == ("cluster_1", "cluster_2", "cluster_10")
    assert stats.sizes == labelled["cluster"].value_counts().to_dict()
    for name in ("x", "y"):
        for cluster, rows in labelled.groupby("cluster"):
            summary = stats.numeric[name][cluster]
            values = rows[name].dropna()
            assert summary.count == len(values)
            if values.empty:
                assert (summary.mean, summary.minimum, summary.maximum) == (None, None, None)
                assert summary.std == 0.0
                continue
            assert summary.mean == pytest.approx(values.mean(), rel=1e-12)
            assert summary.std == pytest.approx(values.std(ddof=1), rel=1e-9)
            assert (summary.minimum, summary.maximum) == (values.min(), values.max())
        overall = stats.numeric_global[name]
        values = labelled[name].dropna()
        assert overall.count == len(values)
        assert overall.mean == pytest.approx(values.mean(), rel=1e-12)
        assert overall.std == pytest.approx(values.std(ddof=1), rel=1e-9)
        assert (overall.minimum, overall.maximum) == (values.min(), values.max())
    levels = labelled["country"].fillna(MISSING_LEVEL)
    totals = levels.value_counts()
    # Most frequent first, ties (60 rows each for it, es and missing) by level name.
    expected = sorted(totals.index, key=lambda level: (-totals[level], level))[:3]
    assert stats.levels["country"] == tuple(expected) == ("fr", "de", MISSING_LEVEL)
    for level in expected:
        assert stats.level_totals["country"][level] == totals[level]
        in_level = labelled[levels == level]
        assert stats.level_counts["country"][level] == in_level["cluster"].value_counts().to_dict()
        assert list(stats.level_counts["country"][level]) == sorted(in_level["cluster"].unique())


def test_table_without_labelled_rows_says_what_to_do():
    table = pa.table({"x": [1.0, 2.0], "cluster": pa.array([None, None], pa.string())})
    refused = pytest.raises(InvalidInputError, match="no row with a cluster label")
    with arrow_tables({"scored": table}) as tables, refused:
        compute_stats(tables["scored"], features_of(["x"]))
