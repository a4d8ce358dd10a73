"""The cluster recipe re-clusters its input at every run (default names)."""

from __future__ import annotations

import numpy as np
import pandas as pd

import clusterlab as cl
from clusterlab.core.mltask import ModelParams


def test_cluster_recipe_labels_every_row(project: cl.Project) -> None:
    rng = np.random.default_rng(2)
    points = np.vstack([rng.normal(c, 0.3, (50, 2)) for c in ((0, 0), (6, 6))])
    project.create_dataset("points", pd.DataFrame(points, columns=["x", "y"]))
    task = project.create_clustering_task("points")
    design = task.design.for_models(ModelParams(algorithm="kmeans", params={"k": 2, "seed": 0}))
    project.create_recipe(
        {
            "name": "recluster",
            "type": "cluster",
            "inputs": ["points"],
            "outputs": ["points_clustered"],
            "params": {"design": design.model_dump(mode="json")},
        }
    )
    project.build("points_clustered")
    out = project.dataset("points_clustered").to_pandas()
    assert out.columns.tolist() == ["x", "y", "cluster_labels"]
    assert sorted(out["cluster_labels"].value_counts().tolist()) == [50, 50]
    assert set(out["cluster_labels"]) == {"cluster_0", "cluster_1"}
    blob = np.repeat([0, 1], 50)
    assert all(out["cluster_labels"][blob == b].nunique() == 1 for b in (0, 1))
