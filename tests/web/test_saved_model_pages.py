"""Saved model pages over a real deployed, applied and retrained model: versions with
changes and drift, version reports, the Flow's diamonds, and the report panels of
two-step (hierarchy) and Isolation Forest (anomalies) models."""

from __future__ import annotations

import html

import pytest
from fastapi.testclient import TestClient

import clusterlab as cl
from clusterlab.services.build import run_build
from clusterlab.services.lab import ClusteringTask, run_training

PAGE = "/projects/SHOP/saved-models/shop_segments"


@pytest.fixture(scope="module")
def web_ws(tmp_path_factory: pytest.TempPathFactory) -> cl.Workspace:
    return cl.Workspace(tmp_path_factory.mktemp("saved") / "home")


@pytest.fixture(scope="module")
def project(web_ws: cl.Workspace, task: ClusteringTask) -> cl.Project:
    """k = 3 deployed and applied to the customers, then retrained once (v2)."""
    project = web_ws.project("SHOP")
    model = next(m for m in task.sessions()[-1].models if m.params.get("k") == 3)
    model.update_cluster("cluster_2", name="Explorers")
    model.deploy("shop_segments", name="Shop segments")
    project.create_apply_recipe("customers", "shop_segments", "customers_scored")
    run_build(project, ["customers_scored"])
    run_build(project, ["shop_segments"], force=True, upstream=False)
    return project


def train_one(
    project: cl.Project, preset: str, algorithm: str | None = None, **params: object
) -> str:
    """Train a new task on the customers; the URL of its first model's report."""
    task = project.create_clustering_task("customers", preset)
    if algorithm:
        task.disable_algorithm("kmeans")
        task.set_algorithm(algorithm, **params)
    run_training(project, task.id, lambda _f, _t: None, lambda _l: None)
    model = project.clustering_task(task.id).sessions()[-1].models[0]
    return f"/projects/SHOP/lab/{task.id}/sessions/1/models/{model.id}"


def test_saved_model_page_lists_versions_changes_and_drift(
    client: TestClient, project: cl.Project, task: ClusteringTask
) -> None:
    saved = project.saved_model("shop_segments")
    assert [v.id for v in saved.versions] == ["v1", "v2"]
    page = html.unescape(client.get(PAGE).text)
    assert "Shop segments" in page
    assert page.index('data-version="v2"') < page.index('data-version="v1"')
    assert 'data-activate="v1"' in page
    assert 'data-activate="v2"' not in page
    assert "data-rollback" in page
    # v1 came from the Lab model, v2 from the train recipe; v2 continues v1's clusters.
    assert f"/projects/SHOP/lab/{task.id}/sessions/1/models/" in page
    assert 'href="/projects/SHOP/recipes/train_shop_segments"' in page
    assert "3 continue" in page
    assert "Explorers continues Explorers." in page
    # The apply run recorded its rows and shares under the version's names.
    (run,) = saved.apply_runs()
    assert f"<td>{run['rows']}</td>" in page
    assert "Explorers " in page.split('id="apply-runs"')[1]
    assert "customers_scored" in page


def test_activate_then_the_page_shows_the_older_version_active(
    client: TestClient, project: cl.Project
) -> None:
    client.post(f"/api{PAGE}/activate", json={"version": "v1"})
    page = client.get(PAGE).text
    assert 'data-activate="v2"' in page
    assert "data-rollback" not in page  # v1 is the first version
    client.post(f"/api{PAGE}/activate", json={"version": "v2"})
    assert project.saved_model("shop_segments").spec.active == "v2"


def test_version_report_is_read_only_with_every_panel(
    client: TestClient, project: cl.Project
) -> None:
    url = f"{PAGE}/versions/v2"
    page = client.get(url).text
    assert "Explorers" in page
    assert "data-rename" not in page
    assert "deploy-dialog" not in page
    for panel in ("heatmap", "profiles", "scatter", "metrics", "training", "importance"):
        assert client.get(url, params={"panel": panel}).status_code == 200, panel
    heat = client.get(f"/api{url}/heatmap", params={"show": "numeric"}).json()
    assert heat["rows"] == ["spend", "visits"]
    scatter = client.get(f"/api{url}/scatter", params={"x": "spend", "y": "visits"}).json()
    assert "Explorers" in {t["name"] for t in scatter["data"]}


def test_flow_draws_the_saved_model_between_train_and_apply(
    client: TestClient, project: cl.Project
) -> None:
    svg = client.get("/projects/SHOP/flow").text
    assert 'class="node node-saved_model" data-kind="saved_model" data-name="shop_segments"' in svg
    assert ">Shop segments</text>" in svg
    assert 'data-name="train_shop_segments" data-subtype="train"' in svg
    assert 'data-subtype="apply"' in svg
    flow = client.get("/api/projects/SHOP/flow").json()
    apply_recipe = next(n["id"] for n in flow["nodes"] if n["type"] == "apply")
    assert {"from": "saved_model:shop_segments", "to": apply_recipe} in flow["edges"]
    assert {"from": apply_recipe, "to": "dataset:customers_scored"} in flow["edges"]


def test_deploy_dialog_offers_to_update_an_existing_saved_model(
    client: TestClient, project: cl.Project, task: ClusteringTask
) -> None:
    model = task.sessions()[-1].models[0]
    page = client.get(f"/projects/SHOP/lab/{task.id}/sessions/1/models/{model.id}").text
    assert '<option value="shop_segments">Shop segments (shop_segments)</option>' in page
    assert 'value="customers_model"' in page


def test_hierarchy_and_anomalies_panels(client: TestClient, project: cl.Project) -> None:
    two_step = train_one(project, "kmeans", "two_step", pre_k=12, k=3)
    page = client.get(two_step, params={"panel": "hierarchy"}).text
    assert "Set as cluster and re-score" in page
    figure = client.get(f"/api{two_step.replace('/lab/', '/tasks/')}/hierarchy").json()
    nodes = next(t for t in figure["data"] if t["name"] == "nodes")
    assert len(nodes["x"]) == 2 * 12 - 1  # every pre-cluster and every merge
    forest = train_one(project, "anomaly")
    page = html.unescape(client.get(forest, params={"panel": "anomalies"}).text)
    assert 'id="anomalies"' in page
    assert "<th>Anomaly score</th>" in page
    no_tree = client.get(f"/api{forest.replace('/lab/', '/tasks/')}/hierarchy")
    assert no_tree.status_code == 404
