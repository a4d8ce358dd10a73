"""Plotly figures: they build, and carry the expected traces, scales and hover text."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from clusterlab.ml.report import (
    HEATMAP_COLORSCALE,
    ElbowPoint,
    FeatureImportance,
    build_heatmap,
    build_profiles,
    compute_stats,
    elbow_figure,
    features_of,
    heatmap_figure,
    importance_figure,
    profile_figure,
    scatter_figure,
)
from clusterlab.ml.report.figures import heatmap_position


@pytest.fixture(scope="module")
def stats_and_table(scored):
    t = scored(
        {
            "x": [1.0, 2.0, 3.0, 10.0, 12.0, 14.0],
            "c": ["u", "u", "v", "v", "v", "u"],
            "cluster": ["a", "a", "a", "b", "b", "b"],
        }
    )
    return compute_stats(t, features_of(["x"], ["c"])), t


def test_heatmap_figure_uses_the_diverging_scale_with_breaks(stats_and_table):
    stats, _ = stats_and_table
    heatmap = build_heatmap(stats)
    fig = heatmap_figure(heatmap)
    (trace,) = fig.data
    assert trace.type == "heatmap"
    assert [tuple(s) for s in trace.colorscale] == [tuple(s) for s in HEATMAP_COLORSCALE]
    assert trace.colorscale[0][1] == "#08306b"  # blue below the population
    assert trace.colorscale[3] == (0.5, "#ffffff")  # white at 0
    assert trace.colorscale[-1][1] == "#67000d"  # red above it
    assert (trace.zmin, trace.zmax) == (-1.0, 1.0)
    assert list(trace.x) == ["a", "b"]
    assert list(trace.y) == ["x", "c=u", "c=v"]
    assert trace.z[0][1] == pytest.approx(heatmap_position(heatmap.row("x").cell("b").value))
    assert "Average:" in trace.text[0][0]
    assert "Share:" in trace.text[1][0]
    assert list(trace.colorbar.ticktext) == ["-100", "-10", "-2", "0", "2", "10", "100"]
    json.loads(fig.to_json())


def test_heatmap_position_breaks_at_2_and_10():
    assert [heatmap_position(v) for v in (0.0, 2.0, 10.0, 100.0, 500.0)] == pytest.approx(
        [0, 1 / 3, 2 / 3, 1, 1]
    )
    assert heatmap_position(-2.0) == pytest.approx(-1 / 3)
    grid = [v / 4 for v in range(-500, 501)]
    positions = [heatmap_position(v) for v in grid]
    assert positions == sorted(positions)


def test_numeric_profile_figure_has_box_then_shared_x_bars(stats_and_table):
    stats, t = stats_and_table
    profile = build_profiles(t, stats)[0]
    fig = profile_figure(profile, colors={"a": "#111111", "b": "#222222"})
    types = [d.type for d in fig.data]
    assert types == ["box", "bar", "bar", "bar"]
    assert fig.data[0].q1[0] <= fig.data[0].median[0] <= fig.data[0].q3[0]
    # every row of the grid follows one x axis
    assert fig.layout.xaxis.matches == fig.layout.xaxis2.matches == "x4"
    assert fig.layout.xaxis4.matches is None
    assert fig.data[2].marker.color == "#111111"
    assert len(fig.data[1].x) == 60


def test_categorical_profile_figure_has_one_bar_row_per_cluster(stats_and_table):
    stats, t = stats_and_table
    profile = build_profiles(t, stats)[1]
    fig = profile_figure(profile)
    assert [d.type for d in fig.data] == ["bar", "bar", "bar"]
    assert list(fig.data[0].x) == ["u", "v"]


def test_importance_figure_bars_in_percent():
    items = [
        FeatureImportance(feature="count", importance=70.0),
        FeatureImportance(feature="age", importance=30.0),
    ]
    (bar,) = importance_figure(items).data
    assert bar.type == "bar"
    assert bar.orientation == "h"
    assert sum(bar.x) == pytest.approx(100.0)
    assert list(bar.y) == ["count", "age"]


def test_elbow_figure_one_line_per_metric():
    points = [
        ElbowPoint(k=k, metric=metric, value=value)
        for metric, values in {"silhouette": [0.3, 0.5, 0.4], "inertia": [90.0, 50.0, 40.0]}.items()
        for k, value in zip([7, 3, 5], values, strict=True)
    ]
    fig = elbow_figure(points)
    assert [(d.type, d.name) for d in fig.data] == [
        ("scatter", "silhouette"),
        ("scatter", "inertia"),
    ]
    assert list(fig.data[0].x) == [3, 5, 7]
    assert list(fig.data[0].y) == [0.5, 0.4, 0.3]


def test_scatter_figure_one_trace_per_cluster_with_colors():
    points = pd.DataFrame(
        {
            "f0": [1.0, 2.0, 3.0],
            "f1": [4.0, 5.0, 6.0],
            "cluster": ["cluster_10", "cluster_2", "cluster_2"],
        }
    )
    fig = scatter_figure(points, "f0", "f1", {"cluster_2": "#00ff00", "cluster_10": "#ff0000"})
    assert [d.name for d in fig.data] == ["cluster_2", "cluster_10"]
    assert {d.type for d in fig.data} == {"scatter"}
    assert fig.data[0].marker.color == "#00ff00"
    assert list(fig.data[0].x) == [2.0, 3.0]
