"""Spark settings from the environment, and the configuration a session gets."""

from __future__ import annotations

import pytest

from clusterlab.core.errors import InvalidInputError
from clusterlab.engines.spark.settings import SparkSettings, parse_conf


def test_defaults_run_locally_with_small_footprint() -> None:
    settings = SparkSettings.from_env({})
    assert settings.master == "local[*]"
    assert settings.is_local
    assert not settings.is_connect
    conf = settings.spark_conf()
    assert conf["spark.ui.enabled"] == "false"
    assert conf["spark.driver.memory"] == "1g"
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.sql.parquet.outputTimestampType"] == "TIMESTAMP_MICROS"
    assert conf["spark.sql.ansi.enabled"] == "false"


@pytest.mark.parametrize(
    ("master", "local", "connect"),
    [
        ("local[2]", True, False),
        ("local", True, False),
        ("spark://head:7077", False, False),
        ("yarn", False, False),
        ("k8s://https://api.example:443", False, False),
        ("sc://spark-connect:15002", False, True),
    ],
)
def test_master_kinds(master: str, local: bool, connect: bool) -> None:
    settings = SparkSettings.from_env({"CLUSTERLAB_SPARK_MASTER": master})
    assert (settings.is_local, settings.is_connect) == (local, connect)
    conf = settings.spark_conf()
    # A cluster keeps its own UI and partitioning; a Connect client sets no driver memory.
    assert ("spark.ui.enabled" in conf) == local
    assert ("spark.driver.memory" in conf) == (not connect)


def test_user_conf_wins_over_defaults() -> None:
    env = {
        "CLUSTERLAB_SPARK_MASTER": "local[2]",
        "CLUSTERLAB_SPARK_CONF": '{"spark.sql.shuffle.partitions": 2, "spark.ui.enabled": "true"}',
        "CLUSTERLAB_SPARK_DRIVER_MEMORY": "2g",
        "CLUSTERLAB_SPARK_APP_NAME": "segments",
    }
    settings = SparkSettings.from_env(env)
    conf = settings.spark_conf()
    assert conf["spark.sql.shuffle.partitions"] == "2"
    assert conf["spark.ui.enabled"] == "true"
    assert conf["spark.driver.memory"] == "2g"
    assert settings.app_name == "segments"


def test_conf_as_pairs() -> None:
    text = " spark.executor.memory=4g ;spark.executor.cores= 2;; spark.x=a=b "
    assert parse_conf(text) == {
        "spark.executor.memory": "4g",
        "spark.executor.cores": "2",
        "spark.x": "a=b",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ("spark.executor.memory", "is not key=value"),
        ("=4g", "is not key=value"),
    ],
)
def test_bad_conf_says_how_to_write_it(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message) as info:
        parse_conf(text)
    assert "spark." in str(info.value)


def test_bad_master_is_refused_with_examples() -> None:
    with pytest.raises(InvalidInputError, match="not a Spark master URL") as info:
        SparkSettings(master="http://head:7077")
    assert "spark://host:7077" in str(info.value)
