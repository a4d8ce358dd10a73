"""The model report's panels as JSON, for a Lab model and for a saved model version alike.

Both have the same report, so the same endpoints are added under two prefixes, each
with the dependency that finds its report owner in the URL.

No ``from __future__ import annotations`` here: FastAPI reads the endpoint signatures,
and their ``Depends(resolve)`` must be a real object, not a string naming a local.
"""

import io
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from clusterlab.core.errors import NotFoundError
from clusterlab.web.reports import (
    anomalies_view,
    cluster_rows,
    heatmap_view,
    hierarchy_chart,
    importance_chart,
    profile_chart,
    scatter_chart,
)


def figure_json(fig: Any) -> dict[str, Any]:
    """A Plotly figure as the JSON Plotly.js draws (NaN already written as null)."""
    data: dict[str, Any] = json.loads(fig.to_json())
    return data


def csv_response(frame: Any, filename: str) -> Response:
    """A table as a CSV download."""
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return Response(
        buffer.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def add_panel_routes(router: APIRouter, prefix: str, resolve: Callable[..., Any]) -> None:
    """Add the report panel endpoints under ``prefix`` to ``router``.

    ``resolve`` is a FastAPI dependency taking the prefix's path parameters and
    returning a Lab model or a saved model version (anything with ``report`` and
    ``clusters``).
    """
    Owner = Annotated[Any, Depends(resolve)]

    @router.get(prefix + "/summary")
    def get_summary(owner: Owner) -> dict[str, Any]:
        """The Summary panel: clusters with sizes, names, descriptions and observations."""
        report = owner.report.summary
        return {
            "rows": report.n_rows,
            "clusters": cluster_rows(owner),
            "overall": [o.text for o in report.observations.overall],
        }

    @router.get(prefix + "/heatmap")
    def get_heatmap(
        owner: Owner,
        show: str | None = Query(None, description="all, numeric, or a categorical feature."),
        sort_cluster: str | None = Query(None, description="Sort features by this cluster."),
        sort_feature: str | None = Query(None, description="Sort clusters by this row label."),
    ) -> dict[str, Any]:
        """The heatmap figure, filtered and sorted, with its row labels and filter choices."""
        fig, heatmap = heatmap_view(
            owner, sort_cluster=sort_cluster, sort_feature=sort_feature, show=show
        )
        return {
            "figure": figure_json(fig),
            "rows": heatmap.labels,
            "clusters": heatmap.clusters,
            "categorical_features": owner.report.summary.heatmap.categorical_features,
        }

    @router.get(prefix + "/heatmap.csv", response_class=Response)
    def export_heatmap(owner: Owner) -> Response:
        """The heatmap as a table: cluster_label, feature, means, shares, relative_importance."""
        return csv_response(owner.report.heatmap_table(), "heatmap.csv")

    @router.get(prefix + "/profiles/{feature}")
    def get_profile(owner: Owner, feature: str) -> dict[str, Any]:
        """Cluster profiles of one feature as a Plotly figure."""
        return figure_json(profile_chart(owner, feature))

    @router.get(prefix + "/importance")
    def get_importance(owner: Owner) -> dict[str, Any]:
        """Variables importance as a Plotly figure, and the values in %."""
        fig = importance_chart(owner)
        if fig is None:
            raise NotFoundError("This model's report has no variables importance.")
        values = [i.model_dump() for i in owner.report.data.importances]
        return {"figure": figure_json(fig), "importances": values}

    @router.get(prefix + "/importance.csv", response_class=Response)
    def export_importance(owner: Owner) -> Response:
        """Variables importance as CSV (feature, importance in %)."""
        return csv_response(owner.report.importance_table(), "importance.csv")

    @router.get(prefix + "/scatter")
    def get_scatter(
        owner: Owner,
        x: str = Query(..., description="Axis: a numeric feature, factor_N or projection_x/y."),
        y: str = Query(..., description="Axis of the y direction, same choices."),
        outliers: bool = Query(True, description="Show rows of cluster_outliers."),
    ) -> dict[str, Any]:
        """The report's balanced sample of rows on two axes, colored by cluster."""
        return figure_json(scatter_chart(owner, x, y, outliers))

    @router.get(prefix + "/hierarchy")
    def get_hierarchy(owner: Owner) -> dict[str, Any]:
        """Two-step: the dendrogram of the pre-clusters as a Plotly figure."""
        return figure_json(hierarchy_chart(owner))

    @router.get(prefix + "/anomalies")
    def get_anomalies(owner: Owner) -> dict[str, Any]:
        """Isolation Forest: the top anomalies, then regular rows, with scores and z-scores."""
        return anomalies_view(owner)
