"""Engine pickers in the pages, and what the chosen engine cannot run greyed out with
its reason: the Lab design on Spark, a recipe reading an Excel file, the Flow panel."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

import clusterlab as cl
from clusterlab.engines.capabilities import capabilities_for
from clusterlab.services.lab import ClusteringTask
from tests.web.builders import customers_frame

SPARK = capabilities_for("spark")


@pytest.fixture(scope="module")
def web_ws(tmp_path_factory: pytest.TempPathFactory) -> cl.Workspace:
    ws = cl.Workspace(tmp_path_factory.mktemp("engines") / "home")
    project = ws.create_project("SHOP")
    project.create_dataset("customers", customers_frame())
    book = tmp_path_factory.mktemp("xlsx") / "plans.xlsx"
    pd.DataFrame({"id": ["c1"], "plan": ["gold"]}).to_excel(book, index=False)
    project.import_dataset("plans", Path(book), external=True)
    project.create_recipe(
        {
            "name": "prep_plans",
            "type": "prepare",
            "inputs": ["plans"],
            "outputs": ["plans_prepared"],
            "params": {"steps": [{"type": "upper", "columns": ["plan"]}]},
        }
    )
    return ws


@pytest.fixture(scope="module")
def spark_task(web_ws: cl.Workspace, client: TestClient) -> ClusteringTask:
    task = web_ws.project("SHOP").create_clustering_task("customers")
    client.put(f"/api/projects/SHOP/tasks/{task.id}/engine", json={"engine": "spark"})
    return task


def tag(page: str, pattern: str) -> str:
    """The one HTML tag matching ``pattern``, entities decoded."""
    found = re.findall(pattern, page)
    assert len(found) == 1, found
    return html.unescape(found[0])


def test_dbscan_is_greyed_out_on_spark_with_the_reason(
    client: TestClient, spark_task: ClusteringTask
) -> None:
    page = client.get(f"/projects/SHOP/lab/{spark_task.id}?panel=algorithms").text
    note = SPARK.algorithm("dbscan").note
    index = [a.type for a in spark_task.design.algorithms].index("dbscan")
    box = tag(page, rf'<input type="checkbox" data-path="algorithms\.{index}\.enabled"[^>]*>')
    assert " disabled" in box
    assert f'title="{note}"' in box
    assert f"Not on spark: {note}" in html.unescape(page)
    kmeans = [a.type for a in spark_task.design.algorithms].index("kmeans")
    box = tag(page, rf'<input type="checkbox" data-path="algorithms\.{kmeans}\.enabled"[^>]*>')
    assert "disabled" not in box
    assert re.search(r'<option value="spark" selected>', page)
    outliers = client.get(f"/projects/SHOP/lab/{spark_task.id}?panel=outliers").text
    drop = tag(outliers, r'<option value="drop"[^>]*>')
    assert "disabled" in drop
    assert SPARK.option("outliers").note in drop


def test_the_local_engine_greys_nothing_out(client: TestClient, web_ws: cl.Workspace) -> None:
    task = web_ws.project("SHOP").create_clustering_task("customers")
    page = client.get(f"/projects/SHOP/lab/{task.id}?panel=algorithms").text
    assert "unsupported" not in page
    assert "Not on local" not in page


def test_a_recipe_editor_says_what_its_engine_cannot_run(
    client: TestClient, web_ws: cl.Workspace
) -> None:
    page = client.get("/projects/SHOP/recipes/prep_plans").text
    assert tag(page, r'<option value="" [^>]*>') == '<option value="" selected>'
    assert "On local" not in page
    web_ws.project("SHOP").set_engine("spark")
    try:
        page = html.unescape(client.get("/projects/SHOP/recipes/prep_plans").text)
        assert "Project's engine (spark)" in page
        assert f"On spark: input plans (xlsx file): {SPARK.input_formats['xlsx'].note}" in page
        upper = tag(page, r'<button type="button" data-add-step="upper"[^>]*>')
        assert "disabled" not in upper  # Spark runs every processor the specs allow
        flow = client.get("/projects/SHOP/flow").text
        assert tag(flow, r'<option value="spark"[^>]*>') == '<option value="spark" selected>'
        assert "prep_plans cannot run on spark: input plans (xlsx file)" in html.unescape(flow)
    finally:
        web_ws.project("SHOP").set_engine("local")
