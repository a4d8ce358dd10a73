"""The JSON API: projects, zip export/import, uploads, builds and training as jobs,
errors as plain 4xx messages, and the OpenAPI document."""

from __future__ import annotations

import time

import pandas as pd
from fastapi.testclient import TestClient

import clusterlab as cl
from tests.web.builders import customers_frame


def wait(client: TestClient, job_id: str) -> dict:
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["finished"]:
            return job
        time.sleep(0.2)


def with_customers(ws: cl.Workspace, key: str) -> cl.Project:
    """A project of its own for a test (xdist may run the module's tests anywhere)."""
    project = ws.create_project(key)
    project.create_dataset("customers", customers_frame())
    return project


def test_projects_create_list_and_errors(client: TestClient) -> None:
    assert "SHOP" not in [p["key"] for p in client.get("/api/projects").json()]
    created = client.post("/api/projects", json={"key": "SHOP", "name": "Shop"})
    assert created.status_code == 201
    assert created.json()["name"] == "Shop"
    assert "SHOP" in [p["key"] for p in client.get("/api/projects").json()]
    taken = client.post("/api/projects", json={"key": "SHOP"})
    assert taken.status_code == 409
    assert "already exists" in taken.json()["error"]
    bad = client.post("/api/projects", json={"key": "bad key"})
    assert bad.status_code == 400
    missing = client.get("/api/projects/NOPE")
    assert missing.status_code == 404
    assert missing.json() == {"error": missing.json()["error"], "status": 404}
    assert "No project NOPE" in missing.json()["error"]
    invalid = client.post("/api/projects", json={"name": "no key"})
    assert invalid.status_code == 422
    assert invalid.json()["error"].startswith("The request is not valid: key")
    assert client.get("/api/starters").json() == [
        {"id": "weblogs", "name": "Clustering (web logs)"}
    ]


def test_upload_a_csv_then_read_rows_and_stats(client: TestClient, api_ws: cl.Workspace) -> None:
    api_ws.create_project("UPLOAD")
    csv = customers_frame().to_csv(index=False).encode()
    uploaded = client.post(
        "/api/projects/UPLOAD/datasets",
        data={"name": "customers"},
        files={"file": ("../../customers.csv", csv, "text/csv")},
    )
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["has_data"] is True
    info = client.get("/api/projects/UPLOAD/datasets/customers").json()
    assert info["rows"] == 180
    assert [c["name"] for c in info["schema"]] == ["id", "spend", "visits", "country"]
    stats = client.get("/api/projects/UPLOAD/datasets/customers/stats").json()
    spend = next(c for c in stats["columns"] if c["name"] == "spend")
    assert spend["missing_share"] == 0
    assert sum(b["count"] for b in spend["histogram"]) == 180
    again = client.post(
        "/api/projects/UPLOAD/datasets",
        data={"name": "customers"},
        files={"file": ("customers.csv", csv, "text/csv")},
    )
    assert again.status_code == 409
    empty = client.post(
        "/api/projects/UPLOAD/datasets",
        data={"name": "nothing"},
        files={"file": ("nothing.csv", b"", "text/csv")},
    )
    assert empty.status_code == 422
    assert "is empty" in empty.json()["error"]
    assert not api_ws.project("UPLOAD").has_dataset("nothing")
    bad_filter = client.get("/api/projects/UPLOAD/datasets/customers/rows", params={"filters": "{"})
    assert bad_filter.status_code == 422
    assert "filters must be a JSON list" in bad_filter.text


def test_export_and_import_a_project_zip(client: TestClient, api_ws: cl.Workspace) -> None:
    with_customers(api_ws, "EXPORT")
    exported = client.get("/api/projects/EXPORT/export")
    assert exported.status_code == 200
    assert exported.headers["content-type"] == "application/zip"
    imported = client.post(
        "/api/projects/import",
        data={"key": "EXPORT_COPY"},
        files={"file": ("EXPORT.zip", exported.content, "application/zip")},
    )
    assert imported.status_code == 201, imported.text
    copy = api_ws.project("EXPORT_COPY").dataset("customers").to_pandas()
    pd.testing.assert_frame_equal(copy, api_ws.project("EXPORT").dataset("customers").to_pandas())
    junk = client.post(
        "/api/projects/import", files={"file": ("junk.zip", b"not a zip", "application/zip")}
    )
    assert 400 <= junk.status_code < 500
    assert "Traceback" not in junk.text


def test_build_job_log_and_flow(client: TestClient, api_ws: cl.Workspace) -> None:
    with_customers(api_ws, "BUILD")
    with_customers(api_ws, "PLAIN")
    recipe = {"type": "sync", "inputs": ["customers"], "outputs": ["customers_copy"]}
    assert client.put("/api/projects/BUILD/recipes/copy", json=recipe).status_code == 200
    flow = client.get("/api/projects/BUILD/flow").json()
    assert {n["id"] for n in flow["nodes"]} == {
        "dataset:customers",
        "dataset:customers_copy",
        "recipe:copy",
    }
    started = client.post("/api/projects/BUILD/build", json={"datasets": ["customers_copy"]})
    assert started.status_code == 202
    job = wait(client, started.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    assert api_ws.project("BUILD").dataset("customers_copy").rows == 180
    log = client.get(f"/api/jobs/{job['id']}/log", params={"after": 1}).json()["lines"]
    assert log
    assert all(line["seq"] > 1 for line in log)
    assert any(j["id"] == job["id"] for j in client.get("/api/projects/BUILD/jobs").json())
    assert client.post(f"/api/jobs/{job['id']}/cancel").json()["status"] == "succeeded"
    assert client.get("/api/jobs/nope").status_code == 404
    nothing = client.post("/api/projects/PLAIN/build", json={})
    assert nothing.status_code == 422
    assert "nothing to build" in nothing.json()["error"]


def test_train_as_a_job_then_read_session_models_and_report(
    client: TestClient, api_ws: cl.Workspace
) -> None:
    with_customers(api_ws, "TRAIN")
    task = client.post("/api/projects/TRAIN/tasks", json={"dataset": "customers"}).json()
    design = task["design"]
    design["algorithms"][0]["k"] = [2, 3]
    assert (
        client.put(f"/api/projects/TRAIN/tasks/{task['id']}/design", json=design).status_code == 200
    )
    started = client.post(f"/api/projects/TRAIN/tasks/{task['id']}/train")
    assert started.status_code == 202
    job = wait(client, started.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    session = client.get(f"/api/projects/TRAIN/tasks/{task['id']}/sessions/1").json()
    assert [m["params"]["k"] for m in session["models"]] == [2, 3]
    model = session["models"][1]
    base = f"/api/projects/TRAIN/tasks/{task['id']}/sessions/1/models/{model['id']}"
    summary = client.get(f"{base}/summary").json()
    assert sum(c["size"] for c in summary["clusters"]) == summary["rows"] == 180
    assert client.get(f"{base}/profiles/nope").status_code == 404
    for field in design["features"]:
        field["role"] = "reject"
    client.put(f"/api/projects/TRAIN/tasks/{task['id']}/design", json=design)
    refused = client.post(f"/api/projects/TRAIN/tasks/{task['id']}/train")
    assert refused.status_code == 422
    assert "Every column is rejected" in refused.json()["error"]


def test_openapi_documents_the_endpoints_and_foreign_hosts_are_refused(
    client: TestClient,
) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    for path in (
        "/api/projects",
        "/api/projects/{key}/flow",
        "/api/jobs/{job_id}",
        "/api/projects/{key}/tasks/{task_id}/train",
    ):
        assert path in paths
    assert not any(p.startswith("/projects") for p in paths)
    foreign = client.get("/api/projects", headers={"host": "evil.example"})
    assert foreign.status_code == 403
    cross_site = client.post(
        "/api/projects", json={"key": "X"}, headers={"origin": "http://evil.example"}
    )
    assert cross_site.status_code == 403
