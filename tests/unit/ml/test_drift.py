"""Segment drift: shares and distances of an apply run against the training baseline."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pandas as pd
import pytest

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.mltask import FeatureHandling, KMeansSpec, TaskDesign
from clusterlab.ml.drift import (
    NO_CLUSTER,
    DriftBaseline,
    DriftCheck,
    DriftMeter,
    DriftRun,
    compare,
    measure,
)
from clusterlab.ml.model import DISTANCE_COLUMN, LABEL_COLUMN
from clusterlab.ml.training import train_session


def half_and_half() -> DriftBaseline:
    """1000 training rows: 500 in a, 500 in b, distances 0 … 499 in each."""
    distances = np.concatenate([np.arange(500.0), np.arange(500.0)])
    return DriftBaseline.from_training(["a"] * 500 + ["b"] * 500, distances)


def run_with(a_rows: int, total: int = 1000) -> DriftRun:
    labels = ["a"] * a_rows + ["b"] * (total - a_rows)
    return measure(labels, np.zeros(total), half_and_half())


def test_baseline_shares_and_quantiles_match_numpy():
    rng = np.random.default_rng(0)
    labels = rng.choice(["a", "b", "c"], 400, p=[0.5, 0.3, 0.2]).astype(object)
    labels[:10] = None
    distances = rng.gamma(2.0, 1.0, 400)
    distances[:10] = np.nan
    baseline = DriftBaseline.from_training(labels, distances)
    assert baseline.rows == 400
    assert baseline.no_cluster_share == 10 / 400
    for name in ("a", "b", "c"):
        mine = labels == name
        assert baseline.shares[name] == mine.sum() / 400
        quantiles = baseline.distances[name]
        assert quantiles.count == mine.sum()
        p50, p90, p99 = np.quantile(distances[mine], [0.5, 0.9, 0.99])
        assert (quantiles.p50, quantiles.p90, quantiles.p99) == pytest.approx((p50, p90, p99))


@pytest.mark.parametrize("levels", [3, 200])  # 8-bit and 16-bit category codes
@pytest.mark.parametrize("gaps", [False, True])
def test_a_categorical_baseline_equals_the_one_of_its_names(levels, gaps):
    rng = np.random.default_rng(levels)
    names = [f"c{i}" for i in range(levels)]
    labels = rng.choice(names, 5000).astype(object)
    distances = rng.gamma(2.0, 1.0, 5000)
    categories = names
    if gaps:  # rows without a cluster, rows without a distance, a category never seen
        labels[:40] = None
        distances[40:60] = np.nan
        categories = [*names, "unseen"]
    categorical = pd.Categorical(labels, categories=categories)
    assert DriftBaseline.from_training(categorical, distances) == DriftBaseline.from_training(
        labels, distances
    )


def test_a_share_move_of_exactly_five_points_does_not_warn():
    assert compare(half_and_half(), run_with(550)).warnings == []
    assert compare(half_and_half(), run_with(450)).warnings == []


def test_a_share_move_beyond_five_points_warns_for_the_clusters_that_moved():
    check = compare(half_and_half(), run_with(551))
    assert [(w.kind, w.cluster) for w in check.warnings] == [("share", "a"), ("share", "b")]
    assert check.warnings[0].message == (
        "Cluster a holds 55.1% of the rows against 50.0% in training (+5.1 points)."
    )
    assert check.warnings[1].run == pytest.approx(0.449)
    assert check.drifted


def test_a_cluster_missing_from_the_run_counts_as_zero_share():
    check = compare(half_and_half(), run_with(1000))
    assert {w.cluster: w.run for w in check.warnings} == {"a": 1.0, "b": 0.0}


def test_rows_without_cluster_have_their_own_share():
    labels = ["a"] * 470 + ["b"] * 469 + [None] * 61
    check = compare(half_and_half(), measure(labels, np.zeros(1000), half_and_half()))
    no_cluster = [w for w in check.warnings if w.cluster == NO_CLUSTER]
    assert len(no_cluster) == 1
    assert no_cluster[0].message == (
        "Rows with no cluster are 6.1% of the rows against 0.0% in training (+6.1 points)."
    )


def distance_run(beyond: int, rows: int = 100) -> DriftRun:
    baseline = half_and_half()
    p99 = baseline.distances["a"].p99
    distances = np.array([p99 + 1.0] * beyond + [p99] * (rows - beyond))
    # Keep the shares as in training so that only distances can warn.
    labels = ["a"] * rows + ["b"] * rows
    return measure(labels, np.concatenate([distances, np.zeros(rows)]), baseline)


def test_two_percent_beyond_the_training_p99_does_not_warn():
    run = distance_run(beyond=2)
    # Rows exactly at the p99 are not beyond it.
    assert run.beyond_p99 == {"a": 2, "b": 0}
    assert compare(half_and_half(), run).warnings == []


def test_more_than_twice_the_expected_share_beyond_the_p99_warns():
    check = compare(half_and_half(), distance_run(beyond=3), names={"a": "Loyal customers"})
    assert [(w.kind, w.cluster) for w in check.warnings] == [("distance", "a")]
    warning = check.warnings[0]
    assert (warning.training, warning.run) == (0.01, 0.03)
    assert warning.message.startswith("Cluster Loyal customers has 3.0% of its rows beyond")
    assert "more than twice the expected share" in warning.message


def test_small_clusters_are_not_judged_on_distance():
    assert compare(half_and_half(), distance_run(beyond=30, rows=49)).warnings == []
    assert len(compare(half_and_half(), distance_run(beyond=30, rows=50)).warnings) == 1


def test_a_run_measured_without_baseline_cannot_be_compared():
    run = measure(["a", "b"], [0.0, 0.0])
    assert run.beyond_p99 is None
    with pytest.raises(InvalidInputError, match="without the model's drift baseline"):
        compare(half_and_half(), run)


def test_labels_and_distances_must_align():
    with pytest.raises(InvalidInputError, match="one distance per label"):
        measure(["a", "b"], [0.0])


def test_batches_measure_like_one_run():
    rng = np.random.default_rng(1)
    labels = rng.choice(["a", "b", "c"], 3000).astype(object)
    labels[::17] = None
    distances = np.where(pd.isna(labels), np.nan, rng.exponential(200.0, 3000))
    baseline = half_and_half()
    meter = DriftMeter(baseline)
    for start in range(0, 3000, 700):
        meter.add(labels[start : start + 700], distances[start : start + 700])
    batched, whole = meter.result(), measure(labels, distances, baseline)
    assert batched.counts == whole.counts
    assert batched.shares == whole.shares
    assert batched.no_cluster_share == whole.no_cluster_share
    assert batched.beyond_p99 == whole.beyond_p99
    for name, quantiles in whole.distances.items():
        mine = (labels == name) & ~np.isnan(distances)
        assert quantiles.p90 == pytest.approx(np.quantile(distances[mine], 0.9))
        assert batched.distances[name].p90 == pytest.approx(quantiles.p90)


def test_quantiles_of_a_large_run_come_from_a_bounded_sample():
    distances = np.random.default_rng(2).uniform(0.0, 1.0, 50_000)
    meter = DriftMeter(sample_size=2_000)
    for start in range(0, 50_000, 10_000):
        meter.add(["a"] * 10_000, distances[start : start + 10_000])
    run = meter.result()
    assert run.counts == {"a": 50_000}
    assert run.distances["a"].count == 2_000
    assert run.distances["a"].p50 == pytest.approx(0.5, abs=0.05)


def test_drift_objects_are_json_round_trippable():
    baseline = half_and_half()
    run = run_with(600)
    check = compare(baseline, run)
    assert DriftBaseline.model_validate_json(baseline.model_dump_json()) == baseline
    assert DriftRun.model_validate_json(run.model_dump_json()) == run
    assert DriftCheck.model_validate_json(check.model_dump_json()) == check


def test_an_apply_run_on_shifted_data_warns_against_the_trained_model():
    rng = np.random.default_rng(0)
    centers = ((0.0, 0.0), (10.0, 0.0), (0.0, 10.0))

    def rows(counts: tuple[int, int, int], spread: float) -> pd.DataFrame:
        return pd.concat(
            [
                pd.DataFrame({"x": rng.normal(cx, spread, n), "y": rng.normal(cy, spread, n)})
                for (cx, cy), n in zip(centers, counts, strict=True)
            ],
            ignore_index=True,
        )

    frame = rows((200, 200, 200), 0.5)
    design = TaskDesign(
        features=(FeatureHandling(name="x"), FeatureHandling(name="y")),
        algorithms=(KMeansSpec(k=(3,), seed=0),),
    )
    session = train_session(frame, design)
    model = session.models[0].model
    model.record_training(session.matrix, model.estimator.labels_.astype(np.int64))
    baseline = model.baseline
    same = model.predict(rows((200, 200, 200), 0.5), with_distance=True)
    assert (
        compare(baseline, measure(same[LABEL_COLUMN], same[DISTANCE_COLUMN], baseline)).warnings
        == []
    )
    # Blob 0 grows and spreads out: its share rises and many rows lie far from its centroid.
    shifted = model.predict(rows((400, 100, 100), 1.5), with_distance=True)
    check = compare(baseline, measure(shifted[LABEL_COLUMN], shifted[DISTANCE_COLUMN], baseline))
    first = model.predict(pd.DataFrame({"x": [0.0], "y": [0.0]}))[LABEL_COLUMN].iloc[0]
    kinds = {(w.kind, w.cluster) for w in check.warnings}
    assert ("share", first) in kinds
    assert ("distance", first) in kinds


@pytest.mark.parametrize("name", ["clusterlab.ml.drift"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
