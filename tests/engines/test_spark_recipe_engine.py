"""A recipe that names Spark runs on Spark in a build that names no engine, beside a
recipe on the project's local engine."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import clusterlab as cl
from tests.engines.conftest import SPARK_TEST_CONF

pytestmark = pytest.mark.spark


def test_a_recipe_on_spark_in_a_local_project(
    project: cl.Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("pyspark")
    monkeypatch.setenv("CLUSTERLAB_SPARK_MASTER", "local[2]")
    monkeypatch.setenv("CLUSTERLAB_SPARK_CONF", json.dumps(SPARK_TEST_CONF))
    project.create_dataset("views", pd.DataFrame({"visitor": ["a", "b", "a"], "n": [1, 2, 3]}))
    project.create_recipe(
        {"name": "copy", "type": "sync", "inputs": ["views"], "outputs": ["views_copy"]}
    )
    project.create_recipe(
        {
            "name": "by_visitor",
            "type": "group",
            "engine": "spark",
            "inputs": ["views_copy"],
            "outputs": ["visitors"],
            "params": {
                "keys": ["visitor"],
                "aggregations": [{"column": "n", "aggregations": ["sum"]}],
            },
        }
    )
    job = project.build("visitors")
    log = [line.message for line in project.workspace.runtime.logs(job.id)]
    assert any(line.endswith("on the local engine (the project's)") for line in log), log
    assert any(
        line.startswith("by_visitor: running")
        and line.endswith("on the spark engine (the recipe's)")
        for line in log
    ), log
    out = project.dataset("visitors").to_pandas().sort_values("visitor")
    assert out["n_sum"].tolist() == [4, 2]
