"""Plotly figures of the model report panels, built from the panel data.

The web UI renders them with the Plotly.js served from the installed ``plotly``
package (``fig.to_json()``), so figures carry their hover text and colors. Plotly
is imported inside the functions: the report data can be built without it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import BaseModel, ConfigDict

from clusterlab.ml.report.anomalies import AnomaliesPanel, AnomalyRow
from clusterlab.ml.report.formatting import format_number
from clusterlab.ml.report.heatmap import SATURATED, Heatmap
from clusterlab.ml.report.hierarchy import HierarchyNode, HierarchyPanel
from clusterlab.ml.report.importance import FeatureImportance
from clusterlab.ml.report.profiles import FeatureProfile

if TYPE_CHECKING:
    import plotly.graph_objects as go

HEATMAP_BREAKS = (2.0, 10.0)
"""Relative importances where the heatmap colors change pace (as DSS): ±2 and ±10."""

# The color axis runs over a piecewise-linear stretch of the values (`heatmap_position`)
# so that ±2 and ±10 sit at visible places of the bar instead of near its middle.
HEATMAP_COLORSCALE: list[tuple[float, str]] = [
    (0.0, "#08306b"),
    (1 / 6, "#2171b5"),
    (1 / 3, "#c6dbef"),
    (0.5, "#ffffff"),
    (2 / 3, "#fcbba1"),
    (5 / 6, "#cb181d"),
    (1.0, "#67000d"),
]
_KNOTS = (0.0, *HEATMAP_BREAKS, SATURATED)


class ElbowPoint(BaseModel):
    """One model of a session for the elbow chart: its k and one metric value."""

    model_config = ConfigDict(frozen=True)

    k: int
    metric: str
    value: float


def heatmap_position(value: float) -> float:
    """Map a relative importance to the color axis [-1, 1]: 0, ±2, ±10, ±100 → 0, ±1/3, ±2/3, ±1.

    Examples
    --------
    >>> [round(heatmap_position(v), 3) for v in (0, 1, 2, -10, 55, 1000)]
    [0.0, 0.167, 0.333, -0.667, 0.833, 1.0]
    """
    magnitude = min(abs(value), SATURATED)
    step = 1 / (len(_KNOTS) - 1)
    position = 1.0
    for k in range(len(_KNOTS) - 1):
        lo, hi = _KNOTS[k], _KNOTS[k + 1]
        if magnitude <= hi:
            position = step * (k + (magnitude - lo) / (hi - lo))
            break
    return math.copysign(position, value) if value else 0.0


def cluster_colors(clusters: Sequence[str]) -> dict[str, str]:
    """Default colors of the clusters (Plotly's qualitative palette, cycled).

    Examples
    --------
    >>> cluster_colors(["cluster_0", "cluster_1"])
    {'cluster_0': '#636EFA', 'cluster_1': '#EF553B'}
    """
    from plotly.colors import qualitative

    palette = list(qualitative.Plotly)
    return {c: palette[i % len(palette)] for i, c in enumerate(clusters)}


def heatmap_figure(heatmap: Heatmap) -> go.Figure:
    """Heatmap of relative importances, features as rows and clusters as columns.

    Examples
    --------
    >>> from clusterlab.ml.report.heatmap import HeatmapCell, HeatmapRow
    >>> row = HeatmapRow(label="x", feature="x", is_numeric=True, global_mean=1.0,
    ...                  global_std=1.0, cells=[HeatmapCell(cluster="a", value=3.0, count=5,
    ...                  mean=2.0, std=0.5)])
    >>> heatmap_figure(Heatmap(clusters=["a"], rows=[row])).data[0].type
    'heatmap'
    """
    import plotly.graph_objects as go

    z = [[heatmap_position(c.value) for c in r.cells] for r in heatmap.rows]
    text = [[r.hover_text(c) for c in r.cells] for r in heatmap.rows]
    ticks = [-SATURATED, -10.0, -2.0, 0.0, 2.0, 10.0, SATURATED]
    trace = go.Heatmap(
        z=z,
        x=list(heatmap.clusters),
        y=heatmap.labels,
        text=text,
        hovertemplate="%{text}<extra></extra>",
        colorscale=[list(stop) for stop in HEATMAP_COLORSCALE],
        zmin=-1.0,
        zmax=1.0,
        xgap=1,
        ygap=1,
        colorbar={
            "title": {"text": "Relative importance"},
            "tickvals": [heatmap_position(t) for t in ticks],
            "ticktext": [f"{t:g}" for t in ticks],
        },
    )
    fig = go.Figure(trace)
    fig.update_layout(
        xaxis={"side": "top", "type": "category"},
        yaxis={"autorange": "reversed", "type": "category"},
        height=max(300, 40 + 22 * len(heatmap.rows)),
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
    )
    return fig


def _row_title(row: Any) -> str:
    parts = [row.name]
    for label, value in (("mean", row.mean), ("std", row.std), ("median", row.median)):
        if value is not None:
            parts.append(f"{label} {format_number(value)}")
    return " · ".join(parts)


def profile_figure(profile: FeatureProfile, colors: Mapping[str, str] | None = None) -> go.Figure:
    """Overall distribution and one row per cluster, all on the same x axis.

    Numeric profiles get a first row with the overall box (whiskers p9–p91).

    Examples
    --------
    >>> from clusterlab.ml.report.profiles import DistributionRow
    >>> row = DistributionRow(name="Overall distribution", count=2, shares=[0.5, 0.5])
    >>> p = FeatureProfile(feature="c", is_numeric=False, levels=["u", "v"], overall=row,
    ...                    clusters=[row.model_copy(update={"name": "a"})])
    >>> [t.type for t in profile_figure(p).data]
    ['bar', 'bar']
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    colors = dict(colors or cluster_colors([r.name for r in profile.clusters]))
    box = profile.overall.box if profile.is_numeric else None
    rows = profile.rows
    titles = ([f"{profile.feature}: box (p9, p25, median, p75, p91)"] if box else []) + [
        _row_title(r) for r in rows
    ]
    n = len(titles)
    fig = make_subplots(
        rows=n,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=min(0.04, 0.3 / n),
        subplot_titles=titles,
    )
    first = 1
    if box is not None:
        fig.add_trace(
            go.Box(
                y=["Overall"],
                q1=[box.p25],
                median=[box.median],
                q3=[box.p75],
                lowerfence=[box.p9],
                upperfence=[box.p91],
                orientation="h",
                marker_color="#555555",
                name="Overall box",
                showlegend=False,
            ),
            row=1,
            col=1,
        )
        first = 2
    edges = profile.bin_edges
    width = [b - a for a, b in itertools.pairwise(edges)] if profile.is_numeric else None
    for offset, row in enumerate(rows):
        fig.add_trace(
            go.Bar(
                x=profile.x,
                y=row.shares,
                width=width,
                name=row.name,
                showlegend=False,
                marker_color=colors.get(row.name, "#888888"),
                hovertemplate="%{x}: %{y:.1%}<extra>" + row.name + "</extra>",
            ),
            row=first + offset,
            col=1,
        )
        fig.update_yaxes(tickformat=".0%", row=first + offset, col=1)
    fig.update_layout(
        height=max(300, 120 * n), bargap=0.05, margin={"l": 10, "r": 10, "t": 40, "b": 10}
    )
    return fig


def importance_figure(importances: Sequence[FeatureImportance]) -> go.Figure:
    """Horizontal bars of variables importance in %, the largest at the top.

    Examples
    --------
    >>> fig = importance_figure([FeatureImportance(feature="age", importance=100.0)])
    >>> fig.data[0].orientation
    'h'
    """
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Bar(
            x=[i.importance for i in importances],
            y=[i.feature for i in importances],
            orientation="h",
            texttemplate="%{x:.1f}%",
            hovertemplate="%{y}: %{x:.2f}%<extra></extra>",
            marker_color="#2171b5",
        )
    )
    fig.update_layout(
        xaxis={"title": {"text": "Importance (%)"}, "ticksuffix": "%"},
        yaxis={"autorange": "reversed", "type": "category"},
        height=max(250, 40 + 24 * len(importances)),
    )
    return fig


def elbow_figure(points: Sequence[ElbowPoint]) -> go.Figure:
    """Metric against k, one line per metric, each on its own stacked y axis.

    Metrics live on unrelated scales (silhouette in [-1, 1], inertia in the millions),
    so each gets its own row sharing the k axis.

    Examples
    --------
    >>> pts = [ElbowPoint(k=k, metric=m, value=v) for k, m, v in
    ...        [(3, "silhouette", 0.4), (5, "silhouette", 0.5), (3, "inertia", 90.0)]]
    >>> [t.name for t in elbow_figure(pts).data]
    ['silhouette', 'inertia']
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    metrics = list(dict.fromkeys(p.metric for p in points)) or ["metric"]
    fig = make_subplots(rows=len(metrics), cols=1, shared_xaxes=True, vertical_spacing=0.08)
    for r, metric in enumerate(metrics, start=1):
        series = sorted((p for p in points if p.metric == metric), key=lambda p: p.k)
        fig.add_trace(
            go.Scatter(
                x=[p.k for p in series],
                y=[p.value for p in series],
                mode="lines+markers",
                name=metric,
            ),
            row=r,
            col=1,
        )
        fig.update_yaxes(title_text=metric, row=r, col=1)
    fig.update_xaxes(title_text="k (number of clusters)", dtick=1, row=len(metrics), col=1)
    fig.update_layout(height=max(300, 220 * len(metrics)))
    return fig


def scatter_figure(
    points: pd.DataFrame,
    x: str,
    y: str,
    colors: Mapping[str, str] | None = None,
    *,
    cluster_column: str = "cluster",
) -> go.Figure:
    """Scatter plot of sampled rows, one trace (and color) per cluster.

    Examples
    --------
    >>> import pandas as pd
    >>> pts = pd.DataFrame({"a": [1, 2], "b": [3, 4], "cluster": ["c0", "c1"]})
    >>> [t.name for t in scatter_figure(pts, "a", "b").data]
    ['c0', 'c1']
    """
    import plotly.graph_objects as go

    from clusterlab.ml.report.inputs import cluster_sort_key

    labels = sorted({str(v) for v in points[cluster_column].dropna()}, key=cluster_sort_key)
    palette = dict(colors) if colors is not None else cluster_colors(labels)
    fig = go.Figure()
    as_text = points[cluster_column].astype(str)
    for label in labels:
        part = points[as_text == label]
        fig.add_trace(
            go.Scatter(
                x=part[x].tolist(),
                y=part[y].tolist(),
                mode="markers",
                name=label,
                marker={"color": palette.get(label, "#888888"), "size": 6, "opacity": 0.8},
            )
        )
    fig.update_layout(xaxis_title=x, yaxis_title=y, legend_title_text="Cluster")
    return fig


Z_SCORE_SATURATION = 3.0
"""|z-score| at which an anomalies table cell reaches the darkest color."""
_STRENGTH_COLORS = ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")
_REGULAR_COLOR = "#9e9e9e"


def z_score_color(z: float | None) -> str:
    """Cell color of a z-score: white near 0, blue below, red above (saturating at ±3).

    Examples
    --------
    >>> z_score_color(None), z_score_color(0.0)
    ('#ffffff', 'rgb(247, 247, 247)')
    """
    if z is None or math.isnan(z):
        return "#ffffff"
    from plotly.colors import sample_colorscale

    position = 0.5 + max(-1.0, min(1.0, z / Z_SCORE_SATURATION)) / 2
    return str(sample_colorscale("RdBu_r", [position])[0])


def _cell(row: AnomalyRow, feature: str) -> str:
    value = row.values.get(feature)
    if value is None:
        return ""
    return value if isinstance(value, str) else format_number(value)


def anomalies_figure(panel: AnomaliesPanel) -> go.Figure:
    """Table of the top anomalies then the regular rows, values colored by z-score.

    Examples
    --------
    >>> from clusterlab.ml.report.inputs import FeatureInfo
    >>> row = AnomalyRow(cluster="anomalies", score=0.71, strength=5, values={"x": 9.0},
    ...                  z_scores={"x": 2.5})
    >>> panel = AnomaliesPanel(features=[FeatureInfo.numeric("x")], n_rows=50,
    ...     n_anomalies=1, top=10, strength_bounds=[0.71] * 4, moments=[],
    ...     anomalies=[row], regular=[])
    >>> fig = anomalies_figure(panel)
    >>> fig.data[0].type, list(fig.data[0].header.values)
    ('table', ['cluster', 'anomaly score', 'strength', 'x'])
    """
    import plotly.graph_objects as go

    rows = [*panel.anomalies, *panel.regular]
    names = [f.name for f in panel.features]
    base_fill = [_STRENGTH_COLORS[r.strength - 1] if r.strength else "#f5f5f5" for r in rows]
    values: list[list[str]] = [
        [r.cluster for r in rows],
        [f"{r.score:.4f}" for r in rows],
        [str(r.strength) if r.strength else "" for r in rows],
    ]
    fills: list[list[str]] = [base_fill, base_fill, base_fill]
    for name in names:
        values.append([_cell(r, name) for r in rows])
        fills.append([z_score_color(r.z_scores.get(name)) for r in rows])
    trace = go.Table(
        header={
            "values": ["cluster", "anomaly score", "strength", *names],
            "fill_color": "#e0e0e0",
            "align": "left",
        },
        cells={"values": values, "fill_color": fills, "align": "left"},
    )
    fig = go.Figure(trace)
    fig.update_layout(
        height=max(250, 60 + 28 * len(rows)), margin={"l": 10, "r": 10, "t": 10, "b": 10}
    )
    return fig


def anomaly_scores_figure(panel: AnomaliesPanel) -> go.Figure:
    """Bars of the anomaly scores: the top anomalies colored by strength, then regular rows.

    Examples
    --------
    >>> from clusterlab.ml.report.inputs import FeatureInfo
    >>> rows = [AnomalyRow(cluster="anomalies", score=s, strength=k, values={}, z_scores={})
    ...         for s, k in ((0.8, 5), (0.7, 3))]
    >>> reg = [AnomalyRow(cluster="regular", score=0.4, values={}, z_scores={})]
    >>> panel = AnomaliesPanel(features=[], n_rows=9, n_anomalies=2, top=2,
    ...     strength_bounds=[0.7] * 4, moments=[], anomalies=rows, regular=reg)
    >>> [(t.name, list(t.y)) for t in anomaly_scores_figure(panel).data]
    [('anomalies', [0.8, 0.7]), ('regular', [0.4])]
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    groups = (("anomalies", panel.anomalies, "#"), ("regular", panel.regular, "regular #"))
    for name, rows, prefix in groups:
        if not rows:
            continue
        fig.add_trace(
            go.Bar(
                x=[f"{prefix}{i}" for i in range(1, len(rows) + 1)],
                y=[r.score for r in rows],
                name=name,
                marker_color=[
                    _STRENGTH_COLORS[r.strength - 1] if r.strength else _REGULAR_COLOR for r in rows
                ],
                customdata=[r.strength or "" for r in rows],
                hovertemplate="%{x}: score %{y:.4f}, strength %{customdata}<extra></extra>",
            )
        )
    fig.update_layout(
        xaxis={"type": "category"},
        yaxis={"title": {"text": "Anomaly score"}},
        legend_title_text="Cluster",
    )
    return fig


def _node_hover(node: HierarchyNode) -> str:
    lines = [f"<b>{node.name}</b> · {node.size:,} rows" + (" (cluster)" if node.is_cluster else "")]
    for feature, mean in node.averages.items():
        if mean is None:
            continue
        diff = node.diff_to_parent.get(feature)
        delta = (
            "" if diff is None else f" ({'+' if diff >= 0 else ''}{format_number(diff)} vs parent)"
        )
        lines.append(f"{feature}: {format_number(mean)}{delta}")
    return "<br>".join(lines)


def _cluster_of_nodes(panel: HierarchyPanel) -> dict[int, int | None]:
    """The current cluster above (or at) every node; None above the cut."""
    owner: dict[int, int | None] = {}
    for node in sorted(panel.nodes, key=lambda n: -n.id):
        parent = owner.get(node.parent) if node.parent is not None else None
        owner[node.id] = node.id if node.is_cluster else parent
    return owner


def dendrogram_figure(panel: HierarchyPanel, colors: Mapping[str, str] | None = None) -> go.Figure:
    """Dendrogram of the two-step tree: links colored by cluster, one marker per node.

    Links under a cluster take its color, links above the cut are grey; node markers
    carry their id in ``customdata`` (to set a clicked node as a cluster) and hover
    with the node size and feature averages against the parent.

    Examples
    --------
    >>> node = lambda i, parent, children, cluster, x, h: HierarchyNode(id=i,
    ...     name=f"node_{i}", parent=parent, children=children, height=h, size=1,
    ...     is_cluster=cluster, x=x, averages={}, diff_to_parent={})
    >>> leaves = [node(0, 2, [], False, 0, 0), node(1, 2, [], False, 1, 0)]
    >>> panel = HierarchyPanel(features=[], n_preclusters=2, root=2, cluster_nodes=[2],
    ...     nodes=[*leaves, node(2, None, [0, 1], True, 0.5, 3.0)])
    >>> [(t.name, list(t.y)) for t in dendrogram_figure(panel).data]
    [('node_2', [0.0, 3.0, 3.0, 0.0, None]), ('nodes', [0.0, 0.0, 3.0])]
    """
    import plotly.graph_objects as go

    names = [panel.node(n).name for n in panel.cluster_nodes]
    palette = dict(colors) if colors is not None else cluster_colors(names)
    owner = _cluster_of_nodes(panel)
    segments: dict[int | None, tuple[list[float | None], list[float | None]]] = {}
    for node in panel.nodes:
        if node.is_leaf:
            continue
        # The link from each child up to this node's height, then across between them.
        xs, ys = segments.setdefault(owner[node.id], ([], []))
        a, b = (panel.node(c) for c in node.children)
        xs += [a.x, a.x, b.x, b.x, None]
        ys += [a.height, node.height, node.height, b.height, None]
    fig = go.Figure()
    for cluster in [*panel.cluster_nodes, None]:
        if cluster not in segments:
            continue
        name = panel.node(cluster).name if cluster is not None else "above the clusters"
        xs, ys = segments[cluster]
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                mode="lines",
                name=name,
                hoverinfo="skip",
                line={"color": palette.get(name, "#9e9e9e") if cluster is not None else "#9e9e9e"},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=[n.x for n in panel.nodes],
            y=[n.height for n in panel.nodes],
            mode="markers",
            name="nodes",
            customdata=[n.id for n in panel.nodes],
            text=[_node_hover(n) for n in panel.nodes],
            hovertemplate="%{text}<extra></extra>",
            marker={
                "size": [12 if n.is_cluster else 6 for n in panel.nodes],
                "color": [
                    palette.get(n.name, "#555555") if n.is_cluster else "#555555"
                    for n in panel.nodes
                ],
                "line": {"width": 1, "color": "#ffffff"},
            },
            showlegend=False,
        )
    )
    fig.update_layout(
        xaxis={"showticklabels": False, "title": {"text": "Pre-clusters"}},
        yaxis={"title": {"text": "Merge distance (Ward)"}},
        legend_title_text="Cluster",
    )
    return fig
