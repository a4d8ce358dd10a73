"""Clusters explained as rules: shallow one-vs-rest trees on the original features."""

from __future__ import annotations

import doctest
import importlib
import math

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans

from clusterlab.core.errors import InvalidInputError
from clusterlab.ml.report.rules import (
    ClusterRules,
    Condition,
    build_rules,
    round_threshold,
)


def pandas_mask(frame: pd.DataFrame, conditions: list[Condition]) -> pd.Series:
    """The rows meeting every condition, written with pandas alone."""
    mask = pd.Series(True, index=frame.index)
    for c in conditions:
        column = frame[c.feature]
        if c.op == ">=":
            mask &= column >= c.value
        elif c.op == "<":
            mask &= column < c.value
        elif c.op == "is":
            mask &= column.notna() & (column.astype(str) == c.value)
        else:
            mask &= ~(column.notna() & (column.astype(str) == c.value))
    return mask.fillna(False).astype(bool)


def assert_figures_match_pandas(frame, labels, result):
    """Each rule's support, coverage and precision, recomputed from its conditions."""
    labels = pd.Series(labels, index=frame.index)
    known = labels.notna()
    for item in result:
        member = known & (labels == item.cluster)
        assert item.size == int(member.sum())
        for rule in item.rules:
            hit = pandas_mask(frame, rule.conditions) & known
            both = int((hit & member).sum())
            assert rule.support == int(hit.sum())
            assert rule.coverage == pytest.approx(both / item.size, abs=1e-12)
            assert rule.precision == pytest.approx(both / rule.support, abs=1e-12)
            assert rule.text == " and ".join(c.text for c in rule.conditions)


def significant_digits(value: float) -> int:
    digits = f"{abs(value):.15g}".replace(".", "").lstrip("0").rstrip("0")
    return len(digits)


def test_a_cluster_that_is_exactly_x_at_least_5_gets_that_rule():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.uniform(0, 10, 3000), "noise": rng.normal(size=3000)})
    labels = np.where(frame["x"] >= 5, "A", "B")
    result = build_rules(frame, labels, numeric=["x", "noise"])
    assert [r.cluster for r in result] == ["A", "B"]
    rule = result[0].rules[0]
    assert len(rule.conditions) == 1
    condition = rule.conditions[0]
    assert (condition.feature, condition.op) == ("x", ">=")
    assert condition.value == pytest.approx(5.0, abs=0.01)
    assert rule.text == "x ≥ 5"
    assert (rule.coverage, rule.precision, rule.support) == (1.0, 1.0, int((labels == "A").sum()))
    assert result[1].rules[0].text == "x < 5"
    assert_figures_match_pandas(frame, labels, result)


def test_integer_counts_read_as_whole_thresholds():
    rng = np.random.default_rng(1)
    count = rng.integers(0, 30, 2000)
    products = rng.integers(0, 8, 2000)
    frame = pd.DataFrame({"count": count, "products_sum": products})
    labels = np.where((count >= 12) & (products >= 3), "loyal", "other")
    result = build_rules(frame, labels, numeric=["count", "products_sum"])
    loyal = result[0]
    assert loyal.cluster == "loyal"
    texts = {r.text: r for r in loyal.rules}
    assert set(texts) == {"count ≥ 12 and products_sum ≥ 3"}
    assert (loyal.rules[0].coverage, loyal.rules[0].precision) == (1.0, 1.0)
    assert_figures_match_pandas(frame, labels, result)


def test_categorical_rules_name_the_level():
    rng = np.random.default_rng(2)
    country = rng.choice(["France", "Spain", "Italy"], 1500, p=[0.4, 0.35, 0.25])
    frame = pd.DataFrame({"country": country, "age": rng.normal(40, 10, 1500)})
    labels = np.where(country == "France", "fr", "elsewhere")
    result = build_rules(frame, labels, numeric=["age"], categorical=["country"])
    by_cluster = {r.cluster: r for r in result}
    fr = by_cluster["fr"].rules
    assert [r.text for r in fr] == ["country is France"]
    assert (fr[0].coverage, fr[0].precision) == (1.0, 1.0)
    assert fr[0].conditions == [Condition(feature="country", op="is", value="France")]
    # Two levels make up the rest: the rule says which one it is not.
    assert [r.text for r in by_cluster["elsewhere"].rules] == ["country is not France"]
    assert_figures_match_pandas(frame, labels, result)


def mixed_customers(n: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    segment = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    frame = pd.DataFrame(
        {
            "count": rng.poisson(np.array([3, 12, 30])[segment]),
            "spend": rng.gamma(2.0, np.array([20.0, 80.0, 300.0])[segment]),
            "tenure": rng.normal(24, 12, n),
            "plan": np.where(
                rng.random(n) < 0.7, np.array(["basic", "pro", "gold"])[segment], "basic"
            ),
            "country": rng.choice(["fr", "us", "de", "es"], n),
        }
    )
    frame.loc[frame.index % 17 == 0, "spend"] = np.nan
    frame.loc[frame.index % 23 == 0, "plan"] = None
    return frame


@pytest.fixture(scope="module")
def customers_and_labels():
    frame = mixed_customers(6000)
    features = frame[["count", "spend", "tenure"]].fillna(0.0)
    ids = KMeans(4, n_init=2, random_state=0).fit_predict(
        (features - features.mean()) / features.std()
    )
    labels = np.array([f"cluster_{i}" for i in ids], dtype=object)
    labels[::50] = None  # rows the preprocessing dropped have no cluster
    return frame, labels


def test_figures_on_messy_data_match_an_independent_pandas_count(customers_and_labels):
    frame, labels = customers_and_labels
    result = build_rules(frame, labels, ["count", "spend", "tenure"], ["plan", "country"])
    assert [r.cluster for r in result] == [f"cluster_{i}" for i in range(4)]
    assert all(1 <= len(r.rules) <= 3 for r in result)
    assert_figures_match_pandas(frame, labels, result)
    for item in result:
        best = item.rules[0]
        assert best.precision > 0.5
        for rule in item.rules:
            assert 1 <= len(rule.conditions) <= 3
            for c in rule.conditions:
                if c.op in (">=", "<"):
                    assert significant_digits(float(c.value)) <= 3


def test_rules_learn_from_a_sample_and_are_measured_on_every_row(customers_and_labels):
    frame, labels = customers_and_labels
    result = build_rules(
        frame, labels, ["count", "spend", "tenure"], ["plan"], max_rows=500, max_rules=2
    )
    assert sum(r.size for r in result) == int(pd.Series(labels).notna().sum())
    assert all(len(r.rules) <= 2 for r in result)
    assert_figures_match_pandas(frame, labels, result)
    assert result == build_rules(
        frame, labels, ["count", "spend", "tenure"], ["plan"], max_rows=500, max_rules=2
    )


def test_series_labels_are_read_by_position_and_results_are_json():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 10.0, 11.0, 12.0]}, index=[9, 8, 7, 6, 5, 4])
    labels = pd.Series(["lo"] * 3 + ["hi"] * 3, index=range(6))
    result = build_rules(frame, labels, numeric=["x"])
    assert [(r.cluster, r.rules[0].text) for r in result] == [("hi", "x ≥ 10"), ("lo", "x < 10")]
    for item in result:
        assert ClusterRules.model_validate_json(item.model_dump_json()) == item


def test_a_single_cluster_has_no_rule_to_tell_it_apart():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    assert build_rules(frame, ["a", "a", "a"], numeric=["x"]) == [
        ClusterRules(cluster="a", size=3, rules=[])
    ]


def test_round_threshold_keeps_the_split_and_the_fewest_digits():
    assert round_threshold(4.5, 4.0, 5.0) == 5.0
    assert round_threshold(1234.5, 1201.0, 1268.0) == 1260.0
    assert round_threshold(-2.05, -2.3, -1.8) == -2.0
    assert round_threshold(0.0123, 0.0121, 0.0125) == 0.0125
    # No number of 3 digits or fewer splits these: the threshold is rounded instead.
    assert round_threshold(7.00045, 7.0004, 7.0005) == 7.0
    for below, above in [(0.31, 0.47), (98.7, 101.2), (-0.5, 0.25)]:
        value = round_threshold((below + above) / 2, below, above)
        assert below < value <= above
        assert significant_digits(value) <= 3 or math.isclose(value, 0.0)


def test_conditions_read_and_evaluate():
    frame = pd.DataFrame({"n": [1.0, np.nan, 20_000.0], "c": ["a", None, "b"]})
    assert Condition(feature="n", op=">=", value=12_300.0).text == "n ≥ 12,300"
    assert Condition(feature="n", op="<", value=0.5).mask(frame).tolist() == [False] * 3
    assert Condition(feature="n", op="<", value=5.0).mask(frame).tolist() == [True, False, False]
    assert Condition(feature="c", op="is", value="b").mask(frame).tolist() == [False, False, True]


def test_bad_input_says_what_to_do():
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(InvalidInputError, match="one label per row"):
        build_rules(frame, ["a"], numeric=["x"])
    with pytest.raises(InvalidInputError, match=r"\['y'\] are not columns"):
        build_rules(frame, ["a", "b"], numeric=["y"])
    with pytest.raises(InvalidInputError, match="at least one"):
        build_rules(frame, ["a", "b"], numeric=[])
    with pytest.raises(InvalidInputError, match="'c' is given as numeric"):
        build_rules(frame.assign(c=["u", "v"]), ["a", "b"], numeric=["c"])


def test_docstring_examples():
    result = doctest.testmod(
        importlib.import_module("clusterlab.ml.report.rules"), optionflags=doctest.ELLIPSIS
    )
    assert result.failed == 0
    assert result.attempted > 0


def test_infinities_are_read_as_missing():
    frame = pd.DataFrame({"n": [1.0, 2.0, np.inf, 20.0, 21.0, -np.inf]})
    high, low = build_rules(frame, ["low", "low", "low", "high", "high", "high"], ["n"])
    # The tree learns without failing, and an infinite value matches no condition on n.
    for found in (high, low):
        (rule,) = found.rules
        assert rule.text.startswith("n ")
        assert (rule.support, rule.precision) == (2, 1.0)
