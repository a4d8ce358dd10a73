"""Small real workspaces for the web and API tests: a starter project and a trained task."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import clusterlab as cl
from clusterlab.services.build import run_build
from clusterlab.services.lab import ClusteringTask, run_training

STARTER_ROWS = 1_000


def starter_workspace(home: Path) -> cl.Workspace:
    """The web-logs starter (1,000 page views), built in this process (no job start-up)."""
    ws = cl.Workspace(home)
    project = ws.create_project("CLUSTERING", starter="weblogs", rows=STARTER_ROWS)
    run_build(project, None)
    return ws


def customers_frame() -> pd.DataFrame:
    """Three well-separated groups of customers: k = 3 is the right answer."""
    rng = np.random.default_rng(3)
    centers = np.array([[0.0, 0.0], [8.0, 8.0], [0.0, 8.0]])
    points = np.vstack([rng.normal(c, 0.5, (60, 2)) for c in centers])
    return pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(180)],
            "spend": points[:, 0],
            "visits": points[:, 1],
            "country": np.repeat(["France", "Spain", "Italy"], 60),
        }
    )


def trained_task(ws: cl.Workspace, key: str = "SHOP") -> ClusteringTask:
    """A project with a customers dataset and a K-means task (k = 2, 3, 4) trained once."""
    project = ws.create_project(key)
    project.create_dataset("customers", customers_frame())
    task = project.create_clustering_task("customers")
    task.set_algorithm("kmeans", k=[2, 3, 4])
    run_training(project, task.id, lambda _fraction, _text: None, lambda _line: None)
    return project.clustering_task(task.id)
