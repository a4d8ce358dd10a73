"""Correctness on the web-logs starter: the tutorial's K-means 3/5/7 trained for real.

Every number the report shows is recomputed here from the grouped rows and the cluster
each row gets from ``model.predict``, with pandas and scikit-learn only.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.preprocessing import StandardScaler

import clusterlab as cl

GROUPED = "weblogs_prepared_by_visitor_id"
PAGE_VIEWS = 10_000
"""About 1,000 visitors: small enough to train in seconds, large enough to show the
tutorial's structure (a bulk of one-visit visitors, and small groups of heavy ones)."""
COUNTRY = "ip_address_country_first"
NUMERIC_SENTENCE = re.compile(
    r"^(?P<feature>\S+) is in average (?P<d>[\d,.]+)% (?P<direction>greater|smaller)"
    r"(?P<absolute> \(in absolute value\))? : mean of (?P<m>[-\d,.e+]+) against "
    r"(?P<g>[-\d,.e+]+) globally$"
)
CATEGORICAL_SENTENCE = re.compile(
    r"^(?P<only>Only )?(?P<p>[\d.]+)% of the cluster has (?P<level>.+) for (?P<feature>\S+) "
    r"\(against (?P<q>[\d.,]+)% globally\)$"
)


def number(text: str) -> float:
    return float(text.replace(",", ""))


def shown_as(shown: float, exact: float, *, percent: bool = False) -> bool:
    """Whether ``shown`` is ``exact`` rounded the way sentences round numbers.

    Percentages: integers from 10 up, one decimal below; other numbers: 3 significant
    digits (integers from 1,000 up).
    """
    if percent:
        step = 0.5 if abs(exact) >= 9.95 else 0.05
    else:
        # 3 significant digits lose at most half a unit of the third digit: 0.5% of it.
        step = max(0.5, 0.005 * abs(exact)) if abs(exact) >= 1000 else 0.005 * abs(exact)
    return abs(shown - exact) <= step + 1e-9


@pytest.fixture(scope="module")
def starter(tmp_path_factory: pytest.TempPathFactory):
    """The starter project built and K-means 3/5/7 trained once: (frame, session)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("CLUSTERLAB_HOME", raising=False)
        ws = cl.Workspace(Path(tmp_path_factory.mktemp("starter")) / "home")
        project = ws.create_project("CLUSTERING", starter="weblogs", rows=PAGE_VIEWS)
        project.build_all()
        task = project.create_clustering_task(GROUPED)
        session = task.train()
        yield project.dataset(GROUPED).to_pandas(), session


@pytest.fixture(scope="module")
def k5(starter):
    """The k = 5 model, its observations, and the cluster of every visitor."""
    frame, session = starter
    model = next(m for m in session.models if m.params["k"] == 5)
    return model, model.report.observations(), model.predict(frame)


def test_the_default_grid_is_kmeans_3_5_7_and_k_3_has_the_best_silhouette(starter):
    frame, session = starter
    assert [(m.algorithm, m.params["k"], m.error) for m in session.models] == [
        ("kmeans", 3, None),
        ("kmeans", 5, None),
        ("kmeans", 7, None),
    ]
    silhouettes = {m.params["k"]: m.metrics["silhouette"] for m in session.models}
    assert max(silhouettes, key=silhouettes.__getitem__) == 3
    best = session.best("silhouette")
    assert best.params["k"] == 3
    # The bulk of one-visit visitors forms one cluster holding most of them.
    sizes = best.predict(frame).value_counts()
    assert len(sizes) == 3
    assert sizes.iloc[0] > 0.5 * len(frame)
    observed = best.report.observations().groupby("cluster")["size"].first()
    assert observed.sort_values(ascending=False).tolist() == sizes.tolist()


def test_metrics_equal_scikit_learn_on_the_same_matrix(starter, k5):
    frame, session = starter
    model, _, labels = k5
    inputs = [f for f in session.task.design.features if f.role.value == "input"]
    numeric = [f.name for f in inputs if f.type.value == "numeric"]
    categorical = [f.name for f in inputs if f.type.value == "categorical"]
    assert COUNTRY in categorical
    assert not frame[numeric].isna().any().any()
    # Standard rescaling, and one dummy per level (missing as a level; fewer than the cap).
    levels = frame[categorical].astype(object).fillna("(missing)")
    assert (levels.nunique() <= 100).all()
    matrix = np.hstack(
        [
            StandardScaler().fit_transform(frame[numeric].to_numpy(dtype=float)),
            pd.get_dummies(levels).to_numpy(dtype=float),
        ]
    )
    metrics = model.metrics
    assert metrics["n_clusters"] == 5 == labels.nunique()
    assert metrics["silhouette_exact"]
    assert metrics["silhouette"] == pytest.approx(silhouette_score(matrix, labels), abs=1e-9)
    assert metrics["davies_bouldin"] == pytest.approx(davies_bouldin_score(matrix, labels))
    assert metrics["calinski_harabasz"] == pytest.approx(calinski_harabasz_score(matrix, labels))
    centers = pd.DataFrame(matrix).groupby(labels.to_numpy()).transform("mean").to_numpy()
    assert metrics["inertia"] == pytest.approx(((matrix - centers) ** 2).sum(), rel=1e-3)


def test_k_5_has_a_country_and_a_count_or_products_observation(k5):
    _, observations, _ = k5
    sentences = observations["sentence"].tolist()
    countries = [s for s in sentences if re.search(rf"% of the cluster has .+ for {COUNTRY}", s)]
    assert countries, sentences
    assert all(CATEGORICAL_SENTENCE.match(s) for s in countries)
    numeric = [m for s in sentences if (m := NUMERIC_SENTENCE.match(s))]
    assert {m["feature"] for m in numeric} & {"count", "products_sum"}, sentences


def test_numeric_observations_recomputed_from_the_rows(starter, k5):
    frame, _ = starter
    _, observations, labels = k5
    checked = 0
    for row in observations.itertuples():
        match = NUMERIC_SENTENCE.match(row.sentence)
        if match is None:
            continue
        column = frame[match["feature"]]
        m, g = column[labels == row.cluster].mean(), column.mean()
        d = abs(m - g) * 100 / abs(g)
        assert shown_as(number(match["m"]), m), row.sentence
        assert shown_as(number(match["g"]), g), row.sentence
        assert shown_as(number(match["d"]), d, percent=True), (row.sentence, d)
        assert match["direction"] == ("greater" if m > g else "smaller")
        assert (match["absolute"] is not None) == (g < 0)
        assert row.size == int((labels == row.cluster).sum())
        checked += 1
    assert checked >= 3


def test_categorical_observations_recomputed_from_the_rows(starter, k5):
    frame, _ = starter
    _, observations, labels = k5
    checked = 0
    for row in observations.itertuples():
        match = CATEGORICAL_SENTENCE.match(row.sentence)
        if match is None:
            continue
        column = frame[match["feature"]].astype(object).fillna("(missing)")
        in_cluster = column[labels == row.cluster]
        p = 100 * (in_cluster == match["level"]).mean()
        q = 100 * (column == match["level"]).mean()
        assert shown_as(number(match["p"]), p, percent=True), (row.sentence, p)
        assert shown_as(number(match["q"]), q, percent=True), (row.sentence, q)
        assert (match["only"] is not None) == (p < q)
        checked += 1
    assert checked >= 1


def test_heatmap_cells_recomputed_from_the_rows(starter, k5):
    frame, _ = starter
    model, _, labels = k5
    table = model.report.heatmap_table().set_index(["cluster_label", "feature"])
    for cluster in sorted(labels.unique()):
        inside = labels == cluster
        values, everyone = frame.loc[inside, "count"], frame["count"]
        expected = (values.mean() - everyone.mean()) / np.sqrt(
            values.var() / len(values) + everyone.var() / len(everyone)
        )
        cell = table.loc[(cluster, "count")]
        assert cell["mean"] == pytest.approx(values.mean())
        assert cell["std"] == pytest.approx(values.std())
        assert cell["relative_importance"] == pytest.approx(expected)
        france = (frame[COUNTRY] == "France").to_numpy()
        p_c, p_g, n_c, n_g = france[inside].mean(), france.mean(), inside.sum(), len(frame)
        denominator = np.sqrt(p_c * (1 - p_c) / n_c + p_g * (1 - p_g) / n_g)
        expected = (p_c - p_g) / denominator if denominator else np.sign(p_c - p_g) * 100
        cell = table.loc[(cluster, f"{COUNTRY}=France")]
        assert cell["proportion"] == pytest.approx(p_c)
        assert cell["relative_importance"] == pytest.approx(expected)
