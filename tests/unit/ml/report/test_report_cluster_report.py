"""The whole report built on a real DuckDB table, and its JSON round trip."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from clusterlab.core.errors import InvalidInputError, NotFoundError
from clusterlab.ml.report import (
    ClusterReport,
    FeatureImportance,
    build_report,
    compute_stats,
    features_of,
)


@pytest.fixture(scope="module")
def table(scored):
    n = 60
    return scored(
        {
            "count": [1.0] * 40 + [9.0] * 20,
            "country": ["France"] * 20 + ["Spain"] * 20 + ["France"] * 5 + [None] * 15,
            "cluster": ["cluster_0"] * 20 + ["cluster_10"] * 20 + ["cluster_2"] * 20,
            "label_id": list(range(n)),
        }
    )


def test_report_panels_and_sizes(table):
    report = build_report(table, features_of(["count"], ["country"]))
    assert [c.name for c in report.clusters] == ["cluster_0", "cluster_2", "cluster_10"]
    assert report.cluster("cluster_2").size_text == "20 (33.33%)"
    assert report.cluster("cluster_2").suggested_name == "High count"
    assert report.n_rows == 60
    assert len(report.observations.overall) <= 10
    assert report.heatmap.labels == [
        "count",
        "country=France",
        "country=Spain",
        "country=(missing)",
    ]
    assert [p.feature for p in report.profiles] == ["count", "country"]
    with pytest.raises(NotFoundError):
        report.cluster("nope")


def test_report_json_round_trip(table):
    report = build_report(table, features_of(["count"], ["country"])).with_importances(
        [FeatureImportance(feature="count", importance=100.0)]
    )
    text = report.model_dump_json()
    data = json.loads(text)
    assert set(data) >= {"clusters", "observations", "heatmap", "profiles", "importances"}
    assert ClusterReport.model_validate_json(text) == report


def test_cluster_order_and_labels_as_integers(scored):
    labels = pd.array([2, 10, 2, None], dtype="Int64")
    t = scored(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "k": labels}))
    stats = compute_stats(t, features_of(["x"]), cluster_column="k")
    # the unlabelled row is in no cluster, so not in the global statistics either
    assert stats.clusters == ("2", "10")
    assert stats.n_rows == 3
    assert stats.numeric_global["x"].mean == pytest.approx(2.0)
    ordered = compute_stats(t, features_of(["x"]), cluster_column="k", cluster_order=["10"])
    assert ordered.clusters == ("10", "2")


def test_no_labelled_row_is_a_clear_error(scored):
    t = scored(pd.DataFrame({"x": [1.0], "cluster": pd.array([None], dtype="string")}))
    with pytest.raises(InvalidInputError, match="no row with a cluster label"):
        build_report(t, features_of(["x"]))
