"""Scatter plot panel: balanced sampling, axes, factors and the 2-D projection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.mltask import (
    FeatureHandling,
    KMeansSpec,
    OutliersSpec,
    ReductionSpec,
    TaskDesign,
)
from clusterlab.ml.report import (
    ScatterData,
    balanced_quotas,
    balanced_sample,
    build_scatter,
    scatter_figure,
    session_scatter,
)
from clusterlab.ml.training import train_session


@pytest.fixture(scope="module")
def customers() -> pd.DataFrame:
    """Three numeric groups of unequal sizes, a categorical column, five far outliers."""
    rng = np.random.default_rng(7)
    sizes = (400, 150, 30)
    parts = [
        pd.DataFrame(
            {
                "age": rng.normal(center, 1.0, n),
                "spend": rng.normal(-center, 1.0, n),
                "channel": rng.choice(["web", "shop"], n),
            }
        )
        for center, n in zip((0.0, 8.0, 16.0), sizes, strict=True)
    ]
    far = pd.DataFrame({"age": [80.0] * 5, "spend": [90.0] * 5, "channel": ["web"] * 5})
    return pd.concat([*parts, far], ignore_index=True)


def _design(**options):
    return TaskDesign(
        features=(
            FeatureHandling(name="age"),
            FeatureHandling(name="spend"),
            FeatureHandling(name="channel", type="categorical"),
        ),
        algorithms=(KMeansSpec(k=(3,), seed=0),),
        **options,
    )


@pytest.fixture(scope="module")
def pca_session(customers):
    return train_session(
        customers,
        _design(
            reduction=ReductionSpec(mode="both"),
            outliers=OutliersSpec(method="cluster", min_size=10, min_cum_ratio=0.0),
        ),
    )


def test_quotas_share_the_budget_equally_and_pass_on_what_small_clusters_leave():
    assert balanced_quotas({"a": 900, "b": 50, "c": 400}, 600) == {"a": 275, "b": 50, "c": 275}
    # An odd remainder goes to the first clusters, in the given order.
    assert balanced_quotas({"a": 100, "b": 100, "c": 100}, 100) == {"a": 34, "b": 33, "c": 33}
    # Less data than budget: everything is taken.
    assert balanced_quotas({"a": 3, "b": 7}, 1000) == {"a": 3, "b": 7}
    # Fewer points than clusters: one point each for the first ones.
    assert balanced_quotas({"a": 5, "b": 5, "c": 5}, 2) == {"a": 1, "b": 1, "c": 0}
    with pytest.raises(InvalidInputError, match="max_points"):
        balanced_quotas({"a": 1}, -1)


@pytest.mark.parametrize("seed", range(20))
def test_quotas_are_the_fairest_split_on_random_sizes(seed):
    rng = np.random.default_rng(seed)
    sizes = {f"c{i}": int(s) for i, s in enumerate(rng.integers(1, 400, rng.integers(1, 9)))}
    budget = int(rng.integers(0, 1500))
    quotas = balanced_quotas(sizes, budget)
    assert sum(quotas.values()) == min(budget, sum(sizes.values()))
    assert all(0 <= quotas[c] <= sizes[c] for c in sizes)
    capped = [quotas[c] for c in sizes if quotas[c] < sizes[c]]
    # Every cluster not taken whole gets the same quota (±1), at least any whole one's.
    if capped:
        assert max(capped) - min(capped) <= 1
        assert all(sizes[c] <= max(capped) for c in sizes if quotas[c] == sizes[c])


def test_balanced_sample_is_deterministic_and_follows_the_quotas():
    labels = ["big"] * 700 + ["mid"] * 200 + ["tiny"] * 12 + [None] * 30
    first = balanced_sample(labels, 100, seed=3)
    assert first.tolist() == balanced_sample(labels, 100, seed=3).tolist()
    assert first.tolist() != balanced_sample(labels, 100, seed=4).tolist()
    assert first.tolist() == sorted(set(first.tolist()))
    picked = pd.Series([labels[i] for i in first]).value_counts().to_dict()
    assert picked == {"big": 44, "mid": 44, "tiny": 12}
    assert balanced_sample(labels, 100, seed=3, exclude=["tiny"]).size == 100


def test_without_pca_the_axes_are_the_first_two_numeric_features(customers):
    session = train_session(customers, _design())
    data = session_scatter(session, session.models[0], max_points=90, seed=1)
    assert (data.default_x, data.default_y) == ("age", "spend")
    assert data.factors == []
    assert data.axes == ["age", "spend", "projection_x", "projection_y"]
    sizes = session.models[0].labels.value_counts().to_dict()
    assert data.cluster_sizes == sizes
    assert sum(data.cluster_counts().values()) == 90
    assert data.cluster_counts() == balanced_quotas(data.cluster_sizes, 90)
    # Raw feature values are those of the sampled rows.
    rows = session.frame.iloc[data.positions]
    assert np.allclose(data.values["age"], rows["age"])
    assert data.labels == session.models[0].labels.iloc[data.positions].tolist()


def test_with_pca_the_axes_start_with_the_factors_recomputed(pca_session):
    model = next(m for m in pca_session.models if m.params.pca)
    data = session_scatter(pca_session, model, max_points=60, seed=2)
    assert (data.default_x, data.default_y) == ("factor_0", "factor_1")
    assert data.factors == [f"factor_{i}" for i in range(len(data.factors))]
    assert data.axes[: len(data.factors)] == data.factors
    rows = pca_session.frame.iloc[data.positions]
    matrix, kept = pca_session.preprocessing.transform(rows)
    assert kept.all()
    factors = model.model.pca.transform(matrix)
    for i, name in enumerate(data.factors):
        assert np.allclose(data.values[name], factors[:, i])
    # The projection is a 2-component PCA of the whole preprocessed training matrix.
    projection = PCA(n_components=2, random_state=2).fit(pca_session.matrix)
    expected = projection.transform(matrix)
    assert np.allclose(data.values["projection_x"], expected[:, 0])
    assert np.allclose(data.values["projection_y"], expected[:, 1])
    assert np.allclose(data.projection_variance, projection.explained_variance_ratio_)


def test_outliers_are_sampled_flagged_and_can_be_hidden(pca_session):
    model = pca_session.models[0]
    assert (model.labels == "cluster_outliers").sum() == 5
    data = session_scatter(pca_session, model, max_points=40)
    outliers = [p for p, flag in zip(data.positions, data.is_outlier, strict=True) if flag]
    assert len(outliers) == 5
    assert set(pca_session.frame.iloc[outliers]["age"]) == {80.0}
    assert not data.frame(include_outliers=False)["is_outlier"].any()
    hidden = session_scatter(pca_session, model, max_points=40, include_outliers=False)
    assert "cluster_outliers" not in hidden.labels
    assert len(hidden.labels) == 40


def test_scatter_round_trips_through_json_and_feeds_the_figure(pca_session):
    model = pca_session.models[0]
    data = session_scatter(pca_session, model, max_points=50)
    again = ScatterData.model_validate_json(data.model_dump_json())
    assert again == data
    frame = again.frame()
    assert len(frame) == 50
    fig = scatter_figure(frame, again.default_x, again.default_y)
    assert sorted(t.name for t in fig.data) == sorted(again.clusters)
    assert sum(len(t.x) for t in fig.data) == 50


def test_missing_values_stay_missing_and_inputs_are_checked():
    frame = pd.DataFrame({"x": [1.0, None, 3.0], "y": [1.0, 2.0, 3.0]})
    data = build_scatter(frame, ["a", "a", "b"], ["x", "y"])
    assert data.values["x"] == [1.0, None, 3.0]
    assert ScatterData.model_validate_json(data.model_dump_json()) == data
    with pytest.raises(InvalidInputError, match="one label per row"):
        build_scatter(frame, ["a"], ["x"])
    with pytest.raises(InvalidInputError, match="'z'"):
        build_scatter(frame, ["a", "a", "b"], ["z"])
