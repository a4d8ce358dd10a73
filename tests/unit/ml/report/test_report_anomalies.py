"""Anomalies panel: top-N order, 1–5 strengths and z-scores, on a real DuckDB table."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.mltask import FeatureHandling, IsolationForestSpec, TaskDesign
from clusterlab.ml.report import (
    AnomaliesPanel,
    anomalies_figure,
    anomaly_scores_figure,
    build_anomalies,
    features_of,
    z_score_color,
)
from clusterlab.ml.training import train_session


@pytest.fixture(scope="module")
def scored_frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    n = 300
    score = rng.uniform(0.3, 0.9, n)
    frame = pd.DataFrame(
        {
            "amount": rng.normal(50.0, 10.0, n),
            "visits": rng.integers(0, 20, n).astype(float),
            "flat": np.full(n, 2.0),
            "country": rng.choice(["fr", "de", "it"], n),
            "cluster": np.where(score > 0.7, "anomalies", "regular"),
            "anomaly_score": score,
        }
    )
    frame.loc[[3, 17], "amount"] = np.nan
    return frame


@pytest.fixture(scope="module")
def panel(scored, scored_frame) -> AnomaliesPanel:
    table = scored(scored_frame)
    return build_anomalies(table, features_of(["amount", "visits", "flat"], ["country"]), top=12)


def test_top_anomalies_are_the_highest_scores_in_order(panel, scored_frame):
    odd = scored_frame[scored_frame["cluster"] == "anomalies"]
    expected = odd.sort_values("anomaly_score", ascending=False).head(12)
    assert [r.score for r in panel.anomalies] == pytest.approx(expected["anomaly_score"].tolist())
    assert {r.cluster for r in panel.anomalies} == {"anomalies"}
    assert [r.values["country"] for r in panel.anomalies] == expected["country"].tolist()
    assert panel.n_anomalies == len(odd)
    assert panel.n_rows == len(scored_frame)


def test_regular_rows_are_the_ten_most_typical(panel, scored_frame):
    regular = scored_frame[scored_frame["cluster"] == "regular"]
    expected = regular.sort_values("anomaly_score").head(10)
    assert [r.score for r in panel.regular] == pytest.approx(expected["anomaly_score"].tolist())
    assert all(r.strength is None for r in panel.regular)


def test_strength_is_the_quintile_band_among_all_anomalies(panel, scored_frame):
    scores = scored_frame.loc[scored_frame["cluster"] == "anomalies", "anomaly_score"]
    bounds = np.quantile(scores, [0.2, 0.4, 0.6, 0.8])
    assert panel.strength_bounds == pytest.approx(bounds.tolist())
    # With every anomaly listed, each band holds about a fifth of them.
    everything = build_anomalies(
        ibis.memtable(scored_frame), features_of(["amount"]), top=len(scores)
    )
    for row in everything.anomalies:
        assert row.strength == 1 + int(np.sum(row.score > bounds))
    counts = pd.Series([r.strength for r in everything.anomalies]).value_counts()
    assert sorted(counts.index) == [1, 2, 3, 4, 5]
    assert counts.max() - counts.min() <= 1
    # The top 12 of about 100 anomalies are all in the strongest band.
    assert {r.strength for r in panel.anomalies} == {5}


def test_z_scores_use_the_mean_and_sample_std_of_the_whole_sample(panel, scored_frame):
    mean, std = scored_frame["amount"].mean(), scored_frame["amount"].std(ddof=1)
    visits_mean, visits_std = scored_frame["visits"].mean(), scored_frame["visits"].std(ddof=1)
    for row in [*panel.anomalies, *panel.regular]:
        amount = row.values["amount"]
        if amount is None:
            assert row.z_scores["amount"] is None
        else:
            assert row.z_scores["amount"] == pytest.approx((amount - mean) / std)
        assert row.z_scores["visits"] == pytest.approx(
            (row.values["visits"] - visits_mean) / visits_std
        )
        # A constant feature has no z-score, and categorical ones never do.
        assert row.z_scores["flat"] is None
        assert "country" not in row.z_scores


def _rgb(color: str) -> list[int]:
    return [int(v) for v in color.removeprefix("rgb(").removesuffix(")").split(",")]


def test_panel_round_trips_through_json_and_draws(panel):
    again = AnomaliesPanel.model_validate_json(panel.model_dump_json())
    assert again == panel
    table = again.table()
    assert table.columns.tolist() == [
        "cluster",
        "anomaly_score",
        "strength",
        "amount",
        "visits",
        "flat",
        "country",
    ]
    assert len(table) == 22
    fig = anomalies_figure(again)
    assert fig.data[0].type == "table"
    cells = fig.data[0].cells
    assert len(cells.values) == 7
    assert len(cells.values[0]) == 22
    # Value cells are colored by z-score: red above the mean, blue below, white without.
    amount_fill = cells.fill.color[3]
    for row, fill in zip([*again.anomalies, *again.regular], amount_fill, strict=True):
        assert fill == z_score_color(row.z_scores["amount"])
    assert _rgb(z_score_color(3.0))[0] > _rgb(z_score_color(3.0))[2]
    assert _rgb(z_score_color(-3.0))[0] < _rgb(z_score_color(-3.0))[2]
    assert z_score_color(None) == "#ffffff"
    bars = anomaly_scores_figure(again)
    assert [t.name for t in bars.data] == ["anomalies", "regular"]
    assert list(bars.data[0].y) == [r.score for r in again.anomalies]


def test_an_isolation_forest_session_gives_its_odd_rows():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"a": rng.normal(0, 1, 400), "b": rng.normal(0, 1, 400)})
    frame.loc[:4, ["a", "b"]] = [[9.0, 9.0], [-9.0, 8.0], [8.0, -9.0], [10.0, 0.0], [0.0, -10.0]]
    design = TaskDesign(
        features=(FeatureHandling(name="a"), FeatureHandling(name="b")),
        algorithms=(IsolationForestSpec(seed=0, contamination=0.05, anomalies_to_display=5),),
    )
    session = train_session(frame, design)
    model = session.models[0]
    scored = session.scored_frame(model).assign(anomaly_score=model.anomaly_scores)
    top = model.params.params["anomalies_to_display"]
    panel = build_anomalies(ibis.memtable(scored), features_of(["a", "b"]), top=top)
    assert len(panel.anomalies) == 5
    shown = {r.values["a"] for r in panel.anomalies}
    assert set(frame.index[frame["a"].isin(shown)]) == {0, 1, 2, 3, 4}
    assert all(abs(r.z_scores["a"]) > 4 or abs(r.z_scores["b"]) > 4 for r in panel.anomalies)


def test_bad_inputs_say_what_to_fix(scored_frame):
    table = ibis.memtable(scored_frame)
    with pytest.raises(InvalidInputError, match="anomaly score column 'score'"):
        build_anomalies(table, features_of(["amount"]), score_column="score")
    with pytest.raises(InvalidInputError, match="at least 1"):
        build_anomalies(table, features_of(["amount"]), top=0)
    with pytest.raises(InvalidInputError, match="'missing'"):
        build_anomalies(table, features_of(["missing"]))
