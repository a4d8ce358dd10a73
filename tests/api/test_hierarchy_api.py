"""Set a two-step node as a cluster through the API; the page offers the form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from fastapi.testclient import TestClient

import clusterlab as cl
from clusterlab.web import create_app


def test_set_cluster_node_through_the_api(tmp_path: Path) -> None:
    ws = cl.Workspace(tmp_path / "home")
    p = ws.create_project("TREE")
    rng = np.random.default_rng(1)
    points = np.vstack([rng.normal(c, 0.4, (60, 2)) for c in ((0, 0), (6, 0), (0, 6))])
    p.create_dataset("points", pd.DataFrame(points, columns=["x", "y"]))
    task = p.create_clustering_task("points")
    task.disable_algorithm("kmeans")
    task.set_algorithm("two_step", k=2, pre_k=10)
    model = task.train().models[0]
    tree = model.report.data.hierarchy
    assert tree is not None
    child = tree.node(tree.cluster_nodes[0]).children[0]
    url = f"/api/projects/TREE/tasks/{task.id}/sessions/1/models/{model.id}"
    client = TestClient(create_app(ws), base_url="http://127.0.0.1")
    page = client.get(f"/projects/TREE/lab/{task.id}/sessions/1/models/{model.id}?panel=hierarchy")
    assert "hierarchy/cluster-node" in page.text
    done = client.post(url + "/hierarchy/cluster-node", json={"node": child})
    assert done.status_code == 200, done.text
    assert done.json()["metrics"]["n_clusters"] == 3
    assert f"node_{child}" in {c["id"] for c in done.json()["clusters"]}
    bad = client.post(url + "/hierarchy/cluster-node", json={"node": 10_000})
    assert bad.status_code in (400, 422)
    assert "node" in bad.json()["error"].lower()
