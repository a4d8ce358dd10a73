"""Dataset pages: explore (paged, sorted, filtered rows), schema, charts, and import."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from clusterlab.core.explore import RowQuery
from clusterlab.core.schema import Meaning
from clusterlab.web import deps
from clusterlab.web.charts import CHART_KINDS
from clusterlab.web.serialize import plain
from clusterlab.web.templating import render

router = APIRouter()
TABS = ("explore", "schema", "charts")
PAGE_ROWS = 50


@router.get("/projects/{key}/import-dataset")
def import_page(request: Request, key: str) -> Response:
    """Upload a file as a new dataset, with upload progress."""
    project = deps.project(request, key)
    crumbs = [("Projects", "/"), (project.name, f"/projects/{key}/flow"), ("New dataset", None)]
    return render(
        request,
        "dataset_import.html",
        {"project": project, "section": "flow", "crumbs": crumbs},
    )


@router.get("/projects/{key}/datasets/{name}")
def dataset_page(request: Request, key: str, name: str, tab: str = Query("explore")) -> Response:
    """A dataset: its rows with column headers (type, meaning, missing, histogram)."""
    project = deps.project(request, key)
    dataset = project.dataset(name)
    tab = tab if tab in TABS else "explore"
    context = {
        "project": project,
        "section": "flow",
        "crumbs": [("Projects", "/"), (project.name, f"/projects/{key}/flow"), (name, None)],
        "dataset": dataset,
        "tab": tab,
        "tabs": TABS,
        "has_data": dataset.has_data(),
        "meanings": [m.value for m in Meaning],
        "chart_kinds": CHART_KINDS,
        "producer": project.flow().producer.get(name),
    }
    if context["has_data"]:
        table, total = dataset.page(RowQuery(limit=PAGE_ROWS))
        context["stats"] = dataset.stats()
        context["schema"] = dataset.schema
        context["rows"] = [[plain(v) for v in row.values()] for row in table.to_pylist()]
        context["total"] = total
        context["page_rows"] = PAGE_ROWS
    return render(request, "dataset.html", context)
