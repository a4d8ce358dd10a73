"""Detailed metrics and Training information panels, and the report holding every panel."""

from __future__ import annotations

import doctest
import importlib

import ibis
import numpy as np
import pandas as pd
import pytest

from clusterlab.core.mltask import (
    FeatureHandling,
    MetricsSpec,
    OutliersSpec,
    TaskDesign,
    TwoStepSpec,
)
from clusterlab.ml.diagnostics import Diagnostic
from clusterlab.ml.metrics import compute_metrics
from clusterlab.ml.report import (
    ClusterReport,
    DetailedMetrics,
    TrainingInfo,
    build_detailed_metrics,
    build_report,
    build_training_info,
    feature_summary,
    features_of,
    session_hierarchy,
    session_scatter,
)
from clusterlab.ml.training import train_session


def test_detailed_metrics_of_real_metrics():
    x = np.array([[0.0], [0.2], [0.1], [5.0], [5.3]])
    metrics = compute_metrics(
        x, np.array([0, 0, 0, 1, 1]), {0: "a", 1: "b"}, MetricsSpec(), inertia=True
    )
    panel = build_detailed_metrics(metrics.as_dict(), metrics.cluster_sizes)
    names = [m.name for m in panel.metrics]
    assert names == ["silhouette", "inertia", "davies_bouldin", "calinski_harabasz", "n_clusters"]
    by_name = {m.name: m for m in panel.metrics}
    assert by_name["silhouette"].value == metrics.silhouette
    assert by_name["inertia"].better == "lower"
    assert by_name["calinski_harabasz"].better == "higher"
    assert by_name["n_clusters"].better is None
    assert panel.silhouette_sample_size == 5
    assert panel.silhouette_exact is True
    assert [(c.name, c.size, c.size_text) for c in panel.clusters] == [
        ("a", 3, "3 (60.00%)"),
        ("b", 2, "2 (40.00%)"),
    ]
    assert DetailedMetrics.model_validate_json(panel.model_dump_json()) == panel
    explicit = build_detailed_metrics({"silhouette": 0.5}, {"a": 1}, silhouette_sample_size=9)
    assert explicit.silhouette_sample_size == 9


@pytest.mark.parametrize(
    ("feature", "text"),
    [
        (FeatureHandling(name="x", numeric={"missing": "drop"}), "missing values: drop rows"),
        (
            FeatureHandling(name="x", numeric={"rescaling": "minmax", "missing": "constant"}),
            "rescaling minmax; missing values: impute constant 0",
        ),
        (
            FeatureHandling(name="c", type="categorical", categorical={"max_categories": 7}),
            "dummy encoding, at most 7 levels; missing values: own level",
        ),
        (
            FeatureHandling(
                name="c", type="categorical", categorical={"cap": "cumulative_proportion"}
            ),
            "levels covering 95% of rows",
        ),
        (FeatureHandling(name="t", type="text"), "TF-IDF (10000 terms) reduced to 10 components"),
        (FeatureHandling(name="d", role="display"), "display only"),
    ],
)
def test_feature_summaries(feature, text):
    summary = feature_summary(feature)
    assert text in summary.handling
    assert (summary.name, summary.role, summary.type) == (
        feature.name,
        feature.role.value,
        feature.type.value,
    )


@pytest.fixture(scope="module")
def session():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        np.vstack([rng.normal(c, 0.5, size=(60, 2)) for c in (0.0, 6.0, 12.0)]),
        columns=["a", "b"],
    )
    design = TaskDesign(
        features=(FeatureHandling(name="a"), FeatureHandling(name="b")),
        algorithms=(TwoStepSpec(pre_k=12, k=3, seed=0),),
        outliers=OutliersSpec(method="none"),
    )
    return train_session(frame, design)


def test_training_info_from_a_trained_model(session):
    model = session.models[0]
    info = build_training_info(
        model.params.label,
        model.params.params,
        timings=model.timings,
        outliers=session.design.outliers.model_dump(),
        pca={"enabled": model.params.pca, "variance": session.design.reduction.variance},
        diagnostics=[*session.diagnostics, Diagnostic(code="x", message="hello")],
        features=session.design.features,
        n_rows=len(session.frame),
    )
    assert info.params == {"pre_k": 12, "k": 3, "max_iter": 300, "seed": 0}
    assert info.outliers["method"] == "none"
    assert info.timings["fit"] == model.timings["fit"]
    assert info.diagnostics[-1].code == "x"
    assert [f.name for f in info.features] == ["a", "b"]
    assert TrainingInfo.model_validate_json(info.model_dump_json()) == info


def test_a_report_with_every_panel_round_trips(session):
    model = session.models[0]
    scored = session.scored_frame(model)
    report = build_report(ibis.memtable(scored), features_of(["a", "b"]))
    metrics = build_detailed_metrics(model.metrics.as_dict(), model.metrics.cluster_sizes)
    full = report.with_panels(
        scatter=session_scatter(session, model, max_points=30),
        hierarchy=session_hierarchy(session, model),
        detailed_metrics=metrics,
    )
    assert report.scatter is None
    assert full.hierarchy is not None
    assert full.detailed_metrics == metrics
    again = ClusterReport.model_validate_json(full.model_dump_json())
    assert again == full
    assert again.scatter.cluster_counts() == {name: 10 for name in model.cluster_names}
    # Reports stored before the new panels existed still load.
    old = report.model_dump(exclude={"scatter", "anomalies", "hierarchy"})
    old.pop("detailed_metrics")
    old.pop("training_info")
    assert ClusterReport.model_validate(old) == report


MODULES = [
    "clusterlab.ml.report.anomalies",
    "clusterlab.ml.report.hierarchy",
    "clusterlab.ml.report.panels",
    "clusterlab.ml.report.scatter",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
