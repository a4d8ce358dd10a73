"""Outliers detection: planted outliers are found, dropped or gathered; all-dropped fails."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.mltask import KMeansSpec, OutliersSpec, ReductionSpec
from clusterlab.ml.outliers import (
    OUTLIERS_CLUSTER,
    MiniClusterOutliers,
    detect_outliers,
    mini_cluster_count,
)
from clusterlab.ml.training import train_session

from .conftest import blobs, numeric_design

PLANTED = [(60.0, 60.0), (-50.0, 70.0), (80.0, -40.0), (61.0, 59.0), (-70.0, -70.0)]


def with_outliers() -> pd.DataFrame:
    frame = blobs(n_per_blob=200, seed=1)
    far = pd.DataFrame(PLANTED, columns=["x", "y"]).assign(truth=-1)
    return pd.concat([frame, far], ignore_index=True)


def test_mini_cluster_count_follows_the_cube_root_rule():
    assert mini_cluster_count(27) == 3
    assert mini_cluster_count(125) == 5
    assert mini_cluster_count(605) == 8
    assert mini_cluster_count(1_000_000) == 100


def test_planted_outliers_are_found_and_only_them():
    frame = with_outliers()
    matrix = frame[["x", "y"]].to_numpy()
    detector, outliers = detect_outliers(matrix, OutliersSpec(method="drop"))
    assert np.flatnonzero(outliers).tolist() == list(range(600, 605))
    assert len(detector.cluster_sizes_) == mini_cluster_count(605)
    # New rows far away are outliers too: the same mini-K-means assigns them.
    assert detector.is_outlier(np.array([[61.0, 61.0], [0.0, 0.0]])).tolist() == [True, False]
    assert detector.predict(np.array([[0.0, 0.0]])).tolist() == [1]


def test_cumulative_ratio_flags_small_clusters_above_min_size():
    rng = np.random.default_rng(0)
    matrix = np.vstack([rng.normal(0, 1, (980, 2)), rng.normal(30, 0.1, (20, 2))])
    by_size = MiniClusterOutliers(min_size=5, min_cum_ratio=0.0, random_state=0).fit(matrix)
    by_share = MiniClusterOutliers(min_size=5, min_cum_ratio=0.03, random_state=0).fit(matrix)
    far = by_size.kmeans_.predict(by_size.projection_.transform(matrix[-1:]))[0]
    assert far not in by_size.outlier_clusters_
    assert by_share.is_outlier(matrix[-20:]).all()


@pytest.mark.parametrize("method", ["drop", "cluster"])
def test_session_drops_or_gathers_outliers(method):
    frame = with_outliers()
    design = numeric_design(
        KMeansSpec(k=(3,), seed=0),
        outliers=OutliersSpec(method=method),
        reduction=ReductionSpec(mode="both"),
    )
    session = train_session(frame, design)
    assert session.outlier_rows.sum() == 5
    assert len(session.matrix) == 600
    for model in session.models:
        labels = model.labels
        planted = labels.iloc[600:]
        if method == "drop":
            assert planted.isna().all()
            assert OUTLIERS_CLUSTER not in model.cluster_names
        else:
            assert (planted == OUTLIERS_CLUSTER).all()
            assert model.cluster_names[-1] == OUTLIERS_CLUSTER
        assert labels.iloc[:600].notna().all()
        assert sum(model.metrics.cluster_sizes.values()) == 600
        # The three blobs are intact once the outliers are out.
        crosstab = pd.crosstab(frame["truth"].iloc[:600], labels.iloc[:600])
        assert (crosstab.gt(0).sum(axis=1) == 1).all()
        scored = model.predict(frame.iloc[598:602])["cluster_labels"]
        expected_outlier = None if method == "drop" else OUTLIERS_CLUSTER
        assert scored.iloc[2] == expected_outlier or (method == "drop" and pd.isna(scored.iloc[2]))


def test_all_rows_outliers_fails_with_a_clear_message():
    frame = blobs(n_per_blob=7, seed=2)
    design = numeric_design(KMeansSpec(k=(3,)), outliers=OutliersSpec(method="drop"))
    with pytest.raises(InvalidInputError, match="all 21 rows as outliers") as info:
        train_session(frame, design)
    assert "Lower the outliers min size" in str(info.value)
