"""Engines in the JSON API: capability tables, and the engine of a project, a recipe, a
build and a Lab task; what an engine cannot run is refused with its reason."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

import clusterlab as cl
from tests.web.builders import customers_frame


@pytest.fixture(scope="module")
def shop(api_ws: cl.Workspace, tmp_path_factory: pytest.TempPathFactory) -> cl.Project:
    project = api_ws.create_project("ENGINES")
    project.create_dataset("customers", customers_frame())
    project.create_recipe(
        {"name": "copy", "type": "sync", "inputs": ["customers"], "outputs": ["customers_copy"]}
    )
    book = Path(tmp_path_factory.mktemp("xlsx")) / "plans.xlsx"
    pd.DataFrame({"id": ["c1"], "plan": ["gold"]}).to_excel(book, index=False)
    project.import_dataset("plans", book, external=True)
    project.create_recipe(
        {"name": "copy_plans", "type": "sync", "inputs": ["plans"], "outputs": ["plans_copy"]}
    )
    return project


def test_capability_tables_of_every_engine(client: TestClient, shop: cl.Project) -> None:
    answer = client.get("/api/projects/ENGINES/engines").json()
    assert answer["engine"] == "local"
    spark, local = answer["engines"]["spark"], answer["engines"]["local"]
    assert spark["algorithms"]["dbscan"]["supported"] is False
    assert "pairwise distances" in spark["algorithms"]["dbscan"]["note"]
    assert spark["input_formats"]["xlsx"] == {
        "supported": False,
        "note": "Spark has no Excel reader; import the workbook as a managed dataset first",
    }
    assert local["algorithms"]["dbscan"] == {"supported": True, "note": ""}
    assert set(local["processors"]) == set(spark["processors"])
    assert {r["name"]: r["runs_on"] for r in answer["recipes"]} == {
        "copy": "local",
        "copy_plans": "local",
    }
    assert client.get("/api/projects/NOPE/engines").status_code == 404


def test_set_the_project_and_recipe_engines(client: TestClient, shop: cl.Project) -> None:
    answer = client.put("/api/projects/ENGINES/engine", json={"engine": "spark"}).json()
    assert answer["engine"] == "spark"
    assert client.get("/api/projects/ENGINES").json()["engine"] == "spark"
    recipes = {r["name"]: r for r in answer["recipes"]}
    assert recipes["copy"]["problems"] == []
    assert "input plans (xlsx file)" in recipes["copy_plans"]["problems"][0]
    bad = client.put("/api/projects/ENGINES/engine", json={"engine": "dask"})
    assert bad.status_code == 422

    own = client.put("/api/projects/ENGINES/recipes/copy_plans/engine", json={"engine": "local"})
    assert own.json()["engine"] == "local"
    assert client.get("/api/projects/ENGINES/recipes/copy_plans").json()["engine"] == "local"
    refused = client.put(
        "/api/projects/ENGINES/recipes/copy_plans/engine", json={"engine": "spark"}
    )
    assert refused.status_code == 422
    assert "Spark has no Excel reader" in refused.json()["error"]
    reset = client.put("/api/projects/ENGINES/recipes/copy_plans/engine", json={"engine": None})
    assert reset.json()["engine"] is None
    client.put("/api/projects/ENGINES/engine", json={"engine": "local"})


def test_a_build_runs_on_the_engine_it_names(client: TestClient, shop: cl.Project) -> None:
    client.put("/api/projects/ENGINES/engine", json={"engine": "spark"})
    try:
        started = client.post(
            "/api/projects/ENGINES/build", json={"datasets": ["plans_copy"], "engine": "local"}
        )
        assert started.status_code == 202
        job_id = started.json()["id"]
        while not (job := client.get(f"/api/jobs/{job_id}").json())["finished"]:
            time.sleep(0.2)
        assert job["status"] == "succeeded", job
        log = [line["message"] for line in client.get(f"/api/jobs/{job_id}/log").json()["lines"]]
        assert any(line.endswith("on the local engine (the build's)") for line in log), log
    finally:
        client.put("/api/projects/ENGINES/engine", json={"engine": "local"})


def test_a_lab_task_on_spark_refuses_a_design_spark_cannot_train(
    client: TestClient, shop: cl.Project
) -> None:
    task = client.post("/api/projects/ENGINES/tasks", json={"dataset": "customers"}).json()
    url = f"/api/projects/ENGINES/tasks/{task['id']}"
    assert (task["engine"], task["runs_on"]) == (None, "local")
    on_spark = client.put(f"{url}/engine", json={"engine": "spark"}).json()
    assert (on_spark["engine"], on_spark["runs_on"]) == ("spark", "spark")
    design = on_spark["design"]
    for algorithm in design["algorithms"]:
        if algorithm["type"] == "dbscan":
            algorithm["enabled"] = True
    refused = client.put(f"{url}/design", json=design)
    assert refused.status_code == 422
    assert refused.json()["error"].startswith("The spark engine cannot train this design: DBSCAN")
    assert "pairwise distances" in refused.json()["error"]
    # On the project's (local) engine, the same design is saved; back to Spark is then
    # refused while DBSCAN is enabled, with the reason.
    assert client.put(f"{url}/engine", json={"engine": None}).json()["runs_on"] == "local"
    assert client.put(f"{url}/design", json=design).status_code == 200
    back = client.put(f"{url}/engine", json={"engine": "spark"})
    assert back.status_code == 422
    assert "DBSCAN" in back.json()["error"]
    assert client.get(url).json()["runs_on"] == "local"
