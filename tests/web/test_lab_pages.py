"""Lab pages over a real trained task: create, Design panels, Result with the elbow chart,
and the model report (Summary with rename, Heatmap, Profiles, Importance, Scatter)."""

from __future__ import annotations

import html
import io

import pandas as pd
import pytest
from fastapi.testclient import TestClient

import clusterlab as cl
from clusterlab.services.lab import ClusteringTask


@pytest.fixture(scope="module")
def web_ws(tmp_path_factory: pytest.TempPathFactory) -> cl.Workspace:
    # The Lab pages need a trained task only, not the starter's Flow.
    return cl.Workspace(tmp_path_factory.mktemp("lab") / "home")


PANELS = ("general", "debugging", "features", "algorithms", "reduction", "outliers", "runtime")


def best(task: ClusteringTask):
    return task.sessions()[-1].best("silhouette")


def report_url(task: ClusteringTask, api: bool = False) -> str:
    model = best(task)
    if api:
        return f"/api/projects/SHOP/tasks/{task.id}/sessions/1/models/{model.id}"
    return f"/projects/SHOP/lab/{task.id}/sessions/1/models/{model.id}"


def test_create_task_from_a_dataset_guesses_the_design(
    client: TestClient, task: ClusteringTask
) -> None:
    created = client.post(
        "/api/projects/SHOP/tasks", json={"dataset": "customers", "preset": "anomaly"}
    )
    assert created.status_code == 201
    new = created.json()
    enabled = [a["type"] for a in new["design"]["algorithms"] if a["enabled"]]
    assert enabled == ["isolation_forest"]
    roles = {f["name"]: f["role"] for f in new["design"]["features"]}
    assert roles["id"] == "reject"
    lab = client.get("/projects/SHOP/lab").text
    assert f'href="/projects/SHOP/lab/{new["id"]}"' in lab


def test_every_design_panel_renders_with_its_fields(
    client: TestClient, task: ClusteringTask
) -> None:
    for panel in PANELS:
        page = client.get(f"/projects/SHOP/lab/{task.id}", params={"panel": panel})
        assert page.status_code == 200, panel
    features = client.get(f"/projects/SHOP/lab/{task.id}?panel=features").text
    assert 'data-path="features.0.role"' in features
    assert "Rejected: unique ID" in features
    algorithms = client.get(f"/projects/SHOP/lab/{task.id}?panel=algorithms").text
    assert 'data-path="algorithms.0.k" data-kind="intlist" value="2, 3, 4"' in algorithms
    assert "Isolation Forest" in algorithms


def test_design_saved_from_the_page_changes_the_task(
    client: TestClient, task: ClusteringTask
) -> None:
    design = task.design.model_dump(mode="json")
    design["reduction"]["mode"] = "both"
    saved = client.put(f"/api/projects/SHOP/tasks/{task.id}/design", json=design)
    assert saved.status_code == 200
    reopened = task.project.clustering_task(task.id)
    assert reopened.design.reduction.mode == "both"
    design["algorithms"][0]["k"] = [1]
    refused = client.put(f"/api/projects/SHOP/tasks/{task.id}/design", json=design)
    assert refused.status_code == 422
    assert "algorithms.0.kmeans.k.0" in refused.json()["error"]
    design["reduction"]["mode"] = "off"
    design["algorithms"][0]["k"] = [2, 3, 4]
    assert client.put(f"/api/projects/SHOP/tasks/{task.id}/design", json=design).status_code == 200


def test_result_tab_sorts_models_by_metric_and_draws_the_elbow(
    client: TestClient, task: ClusteringTask
) -> None:
    page = client.get(f"/projects/SHOP/lab/{task.id}", params={"tab": "result"}).text
    labels = [m.summary.label for m in task.sessions()[-1].models]
    order = [page.index(f">{label}</a>") for label in labels]
    # Highest silhouette first: k = 3 fits the three groups.
    assert min(order) == page.index(">K-means (k=3)</a>")
    by_inertia = client.get(f"/projects/SHOP/lab/{task.id}?tab=result&sort=inertia").text
    assert by_inertia.index(">K-means (k=4)</a>") < by_inertia.index(">K-means (k=2)</a>")
    assert 'data-star="' in page
    elbow = client.get(f"/api/projects/SHOP/tasks/{task.id}/sessions/1/elbow").json()
    silhouette = next(t for t in elbow["data"] if t["name"] == "silhouette")
    assert silhouette["x"] == [2, 3, 4]
    assert max(silhouette["y"]) == silhouette["y"][1]


def test_summary_shows_clusters_and_renaming_changes_the_model(
    client: TestClient, task: ClusteringTask
) -> None:
    page = html.unescape(client.get(report_url(task)).text)
    sizes = [c.size_text for c in best(task).report.data.clusters]
    for size in sizes:
        assert size in page
    assert 'id="deploy-form"' in page
    assert "Deploy a retrainable model to the Flow" in page
    renamed = client.put(
        f"{report_url(task, api=True)}/clusters/cluster_1",
        json={"name": "Big spenders", "description": "High spend, many visits"},
    )
    assert renamed.status_code == 200
    clusters = {c.id: c for c in best(task).clusters}
    assert clusters["cluster_1"].name == "Big spenders"
    assert clusters["cluster_1"].description == "High spend, many visits"
    # The shown name works as well as the id, and names stay unique.
    again = client.put(
        f"{report_url(task, api=True)}/clusters/Big spenders", json={"name": "cluster_0"}
    )
    assert again.status_code == 400
    assert "already named 'cluster_0'" in again.json()["error"]
    assert "Big spenders" in client.get(report_url(task)).text
    cluster_url = f"{report_url(task, api=True)}/clusters/cluster_1"
    recolored = client.put(cluster_url, json={"color": "#123abc"})
    assert recolored.json()["color"] == "#123abc"
    assert {c.id: c for c in best(task).clusters}["cluster_1"].name == "Big spenders"
    assert 'data-color value="#123abc"' in client.get(report_url(task)).text
    bad_color = client.put(cluster_url, json={"color": "red"})
    assert bad_color.status_code == 422
    assert "#RRGGBB" in bad_color.json()["error"]


def test_heatmap_sorts_filters_and_exports(client: TestClient, task: ClusteringTask) -> None:
    api = report_url(task, api=True)
    assert "Export CSV" in client.get(f"{report_url(task)}?panel=heatmap").text
    full = client.get(f"{api}/heatmap", params={"show": "all"}).json()
    assert "country=France" in full["rows"]
    assert "spend" in full["rows"]
    numeric = client.get(f"{api}/heatmap", params={"show": "numeric"}).json()
    assert numeric["rows"] == ["spend", "visits"]
    levels = client.get(f"{api}/heatmap", params={"show": "country"}).json()
    assert all(r.startswith("country=") for r in levels["rows"])
    by_feature = client.get(f"{api}/heatmap", params={"show": "all", "sort_feature": "spend"})
    cells = best(task).report.data.heatmap.row("spend").cells
    expected = [c.cluster for c in sorted(cells, key=lambda c: c.value, reverse=True)]
    assert by_feature.json()["clusters"] == expected
    table = pd.read_csv(io.StringIO(client.get(f"{api}/heatmap.csv").text))
    assert list(table.columns[:3]) == ["cluster_label", "feature", "is_numeric_feature"]
    assert len(table) == len(full["rows"]) * len(full["clusters"])


def test_profiles_importance_and_scatter(client: TestClient, task: ClusteringTask) -> None:
    api = report_url(task, api=True)
    profile = client.get(f"{api}/profiles/spend").json()
    bars = [t for t in profile["data"] if t["type"] == "bar"]
    assert len(bars) == 1 + len(best(task).clusters)
    importance = client.get(f"{api}/importance").json()
    assert abs(sum(i["importance"] for i in importance["importances"]) - 100) < 1e-6
    scatter = client.get(f"{api}/scatter", params={"x": "spend", "y": "visits"}).json()
    assert sum(len(t["x"]) for t in scatter["data"]) == 180
    names = {c.name for c in best(task).clusters}
    assert {t["name"] for t in scatter["data"]} == names
    bad = client.get(f"{api}/scatter", params={"x": "country", "y": "visits"})
    assert bad.status_code == 422
    for panel in (
        "profiles",
        "importance",
        "scatter",
        "hierarchy",
        "anomalies",
        "metrics",
        "training",
    ):
        assert client.get(f"{report_url(task)}?panel={panel}").status_code == 200
    model = best(task)
    rules = html.unescape(client.get(f"{report_url(task)}?panel=rules").text)
    shown = {c.id: c.name for c in model.clusters}
    for group in model.report.data.rules:
        assert group.rules, f"no rule for {group.cluster}"
        assert group.rules[0].text in rules
        assert shown[group.cluster] in rules
    metrics = client.get(f"{report_url(task)}?panel=metrics").text
    assert "<th>Silhouette</th>" in metrics
    assert "higher is better" in metrics
    for size in model.report.data.detailed_metrics.clusters:
        assert size.size_text in metrics
    training = html.unescape(client.get(f"{report_url(task)}?panel=training").text)
    info = model.report.data.training_info
    assert f"<td>{info.algorithm}</td>" in training
    assert "rescaling standard" in training
    # The stored sample offers the 2-D projection of every feature as axes too.
    page = client.get(f"{report_url(task)}?panel=scatter").text
    assert "<option>projection_x</option>" in page
    projected = client.get(f"{api}/scatter", params={"x": "projection_x", "y": "projection_y"})
    points = model.report.scatter_points()
    assert sorted(x for t in projected.json()["data"] for x in t["x"]) == sorted(
        points["projection_x"].tolist()
    )
