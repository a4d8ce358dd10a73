"""Plotly figures of the web UI that the report builders do not make: dataset charts,
the elbow chart of a session, and the report figures with the analyst's cluster names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.explore import RowQuery
from clusterlab.services.dataset import Dataset

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from clusterlab.services.lab import Session

CHART_KINDS = ("bar", "histogram", "scatter")
CHART_SAMPLE_ROWS = 10_000
BAR_LEVELS = 30
ELBOW_METRICS = ("silhouette", "inertia", "davies_bouldin", "calinski_harabasz")


def _sample(dataset: Dataset, columns: list[str]) -> pd.DataFrame:
    schema = dataset.schema
    for column in columns:
        schema.column(column)
    table, _ = dataset.page(RowQuery(limit=CHART_SAMPLE_ROWS))
    frame: pd.DataFrame = table.select(columns).to_pandas()
    return frame


def dataset_chart(dataset: Dataset, kind: str, x: str, y: str | None = None) -> go.Figure:
    """A bar chart (top values), histogram or scatter plot of a dataset's first rows.

    Charts read the first 10,000 rows, as a quick look; the figure's title says so.
    """
    import plotly.graph_objects as go

    if kind not in CHART_KINDS:
        raise InvalidInputError(f"Unknown chart {kind!r}: choose one of {', '.join(CHART_KINDS)}.")
    if kind == "scatter" and not y:
        raise InvalidInputError("A scatter plot needs a column for the y axis too.")
    frame = _sample(dataset, [x] if kind != "scatter" else list(dict.fromkeys([x, y or x])))
    if kind == "bar":
        counts = frame[x].astype("string").fillna("(empty)").value_counts().head(BAR_LEVELS)
        fig = go.Figure(go.Bar(x=counts.index.tolist(), y=counts.tolist(), marker_color="#2171b5"))
        fig.update_layout(xaxis={"type": "category"}, yaxis_title="rows")
    elif kind == "histogram":
        fig = go.Figure(go.Histogram(x=frame[x].tolist(), marker_color="#2171b5"))
        fig.update_layout(yaxis_title="rows")
    else:
        fig = go.Figure(
            go.Scattergl(
                x=frame[x].tolist(),
                y=frame[y].tolist(),
                mode="markers",
                marker={"size": 5, "opacity": 0.6, "color": "#2171b5"},
            )
        )
        fig.update_layout(yaxis_title=y)
    fig.update_layout(
        xaxis_title=x,
        title={"text": f"{kind.title()} of {x} (first {len(frame):,} rows)", "font": {"size": 13}},
        margin={"l": 50, "r": 10, "t": 40, "b": 50},
    )
    return fig


def elbow_points(session: Session) -> list[Any]:
    """Points of the elbow chart: the models of the session's first algorithm taking a k.

    One algorithm and one PCA variant only, so each k has one value per metric (models
    without PCA are preferred when the design trained both).
    """
    from clusterlab.ml.report import ElbowPoint

    candidates = [
        m for m in session.models if m.error is None and isinstance(m.params.get("k"), int)
    ]
    if not candidates:
        return []
    algorithm = candidates[0].algorithm
    pca = all(m.summary.pca for m in candidates)
    points = []
    for model in candidates:
        if model.algorithm != algorithm or model.summary.pca != pca:
            continue
        for metric in ELBOW_METRICS:
            value = model.metrics.get(metric)
            if isinstance(value, int | float):
                points.append(ElbowPoint(k=model.params["k"], metric=metric, value=float(value)))
    return points


def elbow_chart(session: Session) -> go.Figure | None:
    """Metric against k across the session's models; ``None`` below two values of k."""
    from clusterlab.ml.report import elbow_figure

    points = elbow_points(session)
    if len({p.k for p in points}) < 2:
        return None
    return elbow_figure(points)
