"""An apply recipe run on Spark through a real build job equals the local one."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import clusterlab as cl
from tests.engines.conftest import SPARK_TEST_CONF

pytestmark = pytest.mark.spark


def test_apply_on_spark_equals_local(project: cl.Project, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.setenv("CLUSTERLAB_SPARK_MASTER", "local[2]")
    monkeypatch.setenv("CLUSTERLAB_SPARK_CONF", json.dumps(SPARK_TEST_CONF))
    rng = np.random.default_rng(3)
    points = np.vstack([rng.normal(c, 0.4, (100, 2)) for c in ((0, 0), (5, 5), (0, 5))])
    frame = pd.DataFrame(points, columns=["x", "y"]).assign(id=range(300))
    project.create_dataset("points", frame)
    task = project.create_clustering_task("points")
    task.reject_feature("id")
    task.set_algorithm("kmeans", k=[3])
    task.train().models[0].deploy("segments")
    project.create_apply_recipe("points", "segments", "on_spark")
    project.create_apply_recipe("points", "segments", "on_local", name="apply_local")
    project.build("on_spark", engine="spark", upstream=False)
    project.build("on_local", upstream=False)
    spark = project.dataset("on_spark").to_pandas().sort_values("id", ignore_index=True)
    local = project.dataset("on_local").to_pandas().sort_values("id", ignore_index=True)
    pd.testing.assert_frame_equal(spark, local)
    runs = project.saved_model("segments").apply_runs()
    assert [r["engine"] for r in runs] == ["spark", "local"]
    assert runs[0]["run"]["counts"] == runs[1]["run"]["counts"]
