"""Every algorithm can be deployed and applied; those without predict are marked approximate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clusterlab as cl

# (algorithm, its params, whether new rows are labelled by an assignment rule)
CASES = [
    ("kmeans", {"k": [3]}, False),
    ("agglomerative", {"k": [3]}, True),
    ("spectral", {"k": [3]}, True),
    ("dbscan", {"eps": [0.5], "min_sample_ratio": 0.02}, True),
    ("hdbscan", {"min_cluster_ratio": [0.1]}, True),
    ("isolation_forest", {}, False),
]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> cl.Project:
    rng = np.random.default_rng(4)
    points = np.vstack([rng.normal(c, 0.3, (80, 2)) for c in ((0, 0), (5, 5), (0, 5))])
    ws = cl.Workspace(tmp_path_factory.mktemp("ws"))
    p = ws.create_project("ALGOS")
    p.create_dataset("points", pd.DataFrame(points, columns=["x", "y"]))
    task = p.create_clustering_task("points")
    task.disable_algorithm("kmeans")
    for name, params, _ in CASES:
        task.set_algorithm(name, **params)
    session = task.train()
    by_algorithm = {m.algorithm: m for m in session.models}
    for name, _, _ in CASES:
        assert by_algorithm[name].error is None, by_algorithm[name].error
        by_algorithm[name].deploy(f"m_{name}")
        p.create_apply_recipe("points", f"m_{name}", f"scored_{name}")
    p.build_all()
    return p


@pytest.mark.parametrize(("algorithm", "approximate"), [(c[0], c[2]) for c in CASES])
def test_deploy_and_apply(trained: cl.Project, algorithm: str, approximate: bool) -> None:
    saved = trained.saved_model(f"m_{algorithm}")
    assert saved.active.info.approximate is approximate
    scored = trained.dataset(f"scored_{algorithm}").to_pandas()
    assert len(scored) == 240
    labels = scored["cluster_labels"]
    assert labels.notna().all()
    names = {c.name for c in saved.active.clusters} | {"noise"}
    assert set(labels) <= names
    if algorithm == "isolation_forest":
        assert set(labels) <= {"regular", "anomalies"}
        assert scored["anomaly_score"].notna().all()
    elif algorithm != "dbscan":
        # Well-separated blobs: each blob gets one label, approximate rule or not.
        blob = np.repeat([0, 1, 2], 80)
        assert all(labels[blob == b].nunique() == 1 for b in range(3))
    expected = saved.predict(trained.dataset("points").to_pandas())
    assert labels.tolist() == expected["cluster_labels"].tolist()
