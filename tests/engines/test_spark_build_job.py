"""A build job run on Spark through the public API: `p.build(..., engine="spark")`."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import clusterlab as cl
from tests.engines.conftest import SPARK_TEST_CONF

pytestmark = pytest.mark.spark


def test_build_on_spark_equals_local(project: cl.Project, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.setenv("CLUSTERLAB_SPARK_MASTER", "local[2]")
    monkeypatch.setenv("CLUSTERLAB_SPARK_CONF", json.dumps(SPARK_TEST_CONF))
    views = pd.DataFrame({"visitor": ["a", "b", "a", "c", "a"], "n": [1, 2, 3, 4, 5]})
    project.create_dataset("views", views)
    recipe = {
        "name": "by_visitor",
        "type": "group",
        "inputs": ["views"],
        "params": {"keys": ["visitor"], "aggregations": [{"column": "n", "aggregations": ["sum"]}]},
    }
    project.create_recipe({**recipe, "outputs": ["spark_out"]})
    project.create_recipe({**recipe, "name": "by_visitor_local", "outputs": ["local_out"]})
    job = project.build("spark_out", engine="spark")
    assert job.status.value == "succeeded"
    project.build("local_out")
    spark = project.dataset("spark_out").to_pandas().sort_values("visitor")
    local = project.dataset("local_out").to_pandas().sort_values("visitor")
    pd.testing.assert_frame_equal(spark.reset_index(drop=True), local.reset_index(drop=True))
    assert spark["n_sum"].tolist() == [9, 2, 4]
