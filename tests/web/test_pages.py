"""Pages over the web-logs starter: Home, Flow SVG, Build all with job polling, datasets,
jobs, recipe editors. Real workspace, DuckDB and Parquet; the app runs in-process."""

from __future__ import annotations

import html
import re
import time

from fastapi.testclient import TestClient

import clusterlab as cl
from clusterlab.web.app import PLOTLY_JS

STARTER_DATASETS = ("crm", "weblogs", "weblogs_prepared", "weblogs_prepared_by_visitor_id")


def wait(client: TestClient, job_id: str) -> dict:
    # Polls like the page script does; bounded by the test timeout, not by a clock.
    while True:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["finished"]:
            return job
        time.sleep(0.2)


def test_home_lists_projects_with_export_and_forms(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert 'href="/projects/CLUSTERING/flow"' in page.text
    assert "Clustering (web logs)" in page.text
    assert 'href="/api/projects/CLUSTERING/export"' in page.text
    assert '<option value="weblogs">Clustering (web logs)</option>' in page.text
    assert 'data-api="/api/projects/import"' in page.text


def test_flow_svg_shows_every_dataset_and_recipe_left_to_right(client: TestClient) -> None:
    page = client.get("/projects/CLUSTERING")
    assert page.url.path == "/projects/CLUSTERING/flow"
    svg = re.search(r"<svg class=\"flow\".*?</svg>", page.text, re.S).group(0)
    for name in STARTER_DATASETS:
        assert f'data-kind="dataset" data-name="{name}"' in svg
    assert 'data-kind="recipe" data-name="compute_weblogs_prepared"' in svg
    assert 'data-subtype="group"' in svg
    assert 'href="/projects/CLUSTERING/datasets/weblogs_prepared"' in svg
    flow = client.get("/api/projects/CLUSTERING/flow").json()
    columns = {n["name"]: n["column"] for n in flow["nodes"]}
    assert columns["weblogs"] < columns["compute_weblogs_prepared"] < columns["weblogs_prepared"]
    assert columns["weblogs_prepared"] < columns["weblogs_prepared_by_visitor_id"]
    assert {"from": "dataset:weblogs", "to": "recipe:compute_weblogs_prepared"} in flow["edges"]
    # Built datasets are drawn solid; the starter was built by the fixture.
    assert "unbuilt" not in svg
    assert "Build all" in page.text


def test_build_all_runs_a_job_whose_progress_the_page_polls(client: TestClient) -> None:
    started = client.post("/api/projects/CLUSTERING/build", json={"datasets": None})
    assert started.status_code == 202
    job = wait(client, started.json()["id"])
    assert job["status"] == "succeeded", job["error"]
    assert job["progress"] == 1.0
    log = client.get(f"/api/jobs/{job['id']}/log").json()["lines"]
    # Nothing changed since the fixture built the Flow: the smart build skips both recipes.
    assert any("up to date, skipped" in line["message"] for line in log)
    jobs_page = client.get("/projects/CLUSTERING/jobs").text
    assert job["id"] in jobs_page
    assert "succeeded" in jobs_page
    job_page = client.get(f"/projects/CLUSTERING/jobs/{job['id']}").text
    assert "Done: 0 ran, 2 skipped" in job_page


def test_dataset_explore_shows_column_headers_and_rows(
    client: TestClient, web_ws: cl.Workspace
) -> None:
    dataset = web_ws.project("CLUSTERING").dataset("weblogs_prepared_by_visitor_id")
    page = client.get("/projects/CLUSTERING/datasets/weblogs_prepared_by_visitor_id")
    assert page.status_code == 200
    assert f"{dataset.rows:,} rows" in page.text
    assert '<th data-column="count"' in page.text
    assert 'integer · <span class="meaning">integer</span>' in page.text
    assert "% missing" in page.text
    assert '<svg class="spark"' in page.text
    first = dataset.head(1)["visitor_id"].iloc[0]
    assert f"<td>{first}</td>" in page.text


def test_rows_endpoint_sorts_filters_and_pages(client: TestClient, web_ws: cl.Workspace) -> None:
    frame = web_ws.project("CLUSTERING").dataset("weblogs_prepared_by_visitor_id").to_pandas()
    url = "/api/projects/CLUSTERING/datasets/weblogs_prepared_by_visitor_id/rows"
    filters = '[{"column": "count", "op": "ge", "value": 5}]'
    data = client.get(
        url, params={"sort": "count", "descending": "true", "filters": filters, "limit": 3}
    ).json()
    count = data["columns"].index("count")
    assert data["total"] == int((frame["count"] >= 5).sum())
    assert [r[count] for r in data["rows"]] == sorted(frame["count"], reverse=True)[:3]
    second = client.get(url, params={"offset": 3, "limit": 3}).json()
    assert second["rows"][0][0] == frame.iloc[3, 0]


def test_schema_editor_changes_a_meaning(client: TestClient, web_ws: cl.Workspace) -> None:
    page = client.get("/projects/CLUSTERING/datasets/crm?tab=schema")
    assert 'data-meaning="visitor_id"' in page.text
    column = web_ws.project("CLUSTERING").dataset("crm").schema.names[-1]
    changed = client.put(
        f"/api/projects/CLUSTERING/datasets/crm/schema/{column}", json={"meaning": "text"}
    )
    assert changed.status_code == 200
    assert web_ws.project("CLUSTERING").dataset("crm").schema.column(column).meaning == "text"
    bad = client.put(
        f"/api/projects/CLUSTERING/datasets/crm/schema/{column}", json={"meaning": "shoe size"}
    )
    assert bad.status_code == 422
    assert "Unknown meaning 'shoe size'" in bad.json()["error"]


def test_charts_tab_and_chart_endpoint(client: TestClient) -> None:
    page = client.get("/projects/CLUSTERING/datasets/weblogs?tab=charts")
    assert '<script src="/vendor/plotly.min.js"></script>' in page.text
    figure = client.get(
        "/api/projects/CLUSTERING/datasets/weblogs/chart", params={"kind": "bar", "x": "br_lang"}
    ).json()
    assert figure["data"][0]["type"] == "bar"
    assert sum(figure["data"][0]["y"]) <= 1_000
    assert figure["data"][0]["y"][0] > 0
    scatter = client.get(
        "/api/projects/CLUSTERING/datasets/weblogs/chart",
        params={"kind": "scatter", "x": "br_width", "y": "br_height"},
    )
    assert scatter.json()["data"][0]["type"] == "scattergl"


def test_plotly_is_served_from_the_installed_package(client: TestClient) -> None:
    served = client.get("/vendor/plotly.min.js")
    assert served.status_code == 200
    assert served.content == PLOTLY_JS.read_bytes()
    assert client.get("/static/app.js").status_code == 200
    for path in ("/", "/projects/CLUSTERING/flow", "/projects/CLUSTERING/datasets/weblogs"):
        # Nothing is loaded from another host: the UI works offline.
        assert not re.search(r"(src|href)=\"(https?:)?//", client.get(path).text)


def test_prepare_editor_lists_steps_processors_and_previews(client: TestClient) -> None:
    page = client.get("/projects/CLUSTERING/recipes/compute_weblogs_prepared")
    assert page.status_code == 200
    assert 'data-add-step="rename_columns"' in page.text
    assert "classify_user_agent" in page.text
    recipe = client.get("/api/projects/CLUSTERING/recipes/compute_weblogs_prepared").json()
    recipe["params"]["steps"] = recipe["params"]["steps"][:2]
    preview = client.post("/api/projects/CLUSTERING/recipes/preview", json={"recipe": recipe})
    assert preview.status_code == 200
    columns = preview.json()["weblogs_prepared"]["columns"]
    assert "ip_address" in columns
    assert "client_addr" not in columns
    assert "br_width" not in columns
    group = client.get("/projects/CLUSTERING/recipes/compute_weblogs_prepared_by_visitor_id")
    assert "&#34;keys&#34;" in group.text
    assert "visitor_id" in group.text


def test_new_recipe_saved_from_the_editor_appears_in_the_flow(client: TestClient) -> None:
    assert client.get("/projects/CLUSTERING/new-recipe").status_code == 200
    recipe = {"type": "sync", "inputs": ["crm"], "outputs": ["crm_copy"], "params": {}}
    saved = client.put("/api/projects/CLUSTERING/recipes/copy_crm", json=recipe)
    assert saved.status_code == 200, saved.text
    svg = client.get("/api/projects/CLUSTERING/flow.svg").text
    assert 'data-name="copy_crm"' in svg
    assert 'class="node node-dataset unbuilt"' in svg
    cycle = {"type": "sync", "inputs": ["crm_copy"], "outputs": ["crm"], "params": {}}
    refused = client.put("/api/projects/CLUSTERING/recipes/loop", json=cycle)
    assert refused.status_code == 422
    assert "written by two recipes" in refused.json()["error"] or "cycle" in refused.json()["error"]


def test_errors_are_plain_pages_not_stack_traces(client: TestClient) -> None:
    missing = client.get("/projects/CLUSTERING/datasets/nope")
    assert missing.status_code == 404
    text = html.unescape(missing.text)
    assert "has no dataset 'nope'" in text
    assert "Traceback" not in text
    assert client.get("/projects/NOPE/flow").status_code == 404
    assert client.get("/no/such/page").status_code == 404
    # A dataset of its own: tests of this module may run on other workers, in any order.
    recipe = {"type": "sync", "inputs": ["crm"], "outputs": ["crm_unbuilt"], "params": {}}
    saved = client.put("/api/projects/CLUSTERING/recipes/copy_crm_unbuilt", json=recipe)
    assert saved.status_code == 200, saved.text
    empty = client.get("/projects/CLUSTERING/datasets/crm_unbuilt")
    assert "has no data yet" in empty.text or "no data yet" in empty.text
