"""Where and how the Spark engine runs: master URL and extra Spark configuration.

Read from ``CLUSTERLAB_SPARK_*`` environment variables by `SparkSettings.from_env`, or
built directly (tests, the Python API). Nothing here imports pyspark.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from clusterlab.core.errors import InvalidInputError

# Schemes a master URL may start with, besides the bare words below.
_MASTER_PREFIXES = ("local[", "spark://", "k8s://", "mesos://", "sc://")
_MASTER_WORDS = {"local", "yarn"}

# Defaults that keep a local session small: one machine, few cores, tiny test data.
_LOCAL_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",
}


@dataclass(frozen=True)
class SparkSettings:
    """How to reach Spark.

    Attributes
    ----------
    master : str
        ``CLUSTERLAB_SPARK_MASTER``: ``local[*]`` (default, this machine), ``local[2]``,
        ``spark://host:7077`` (standalone), ``yarn``, ``k8s://https://host:443``, or a
        Spark Connect URL ``sc://host:15002``.
    conf : dict of str to str
        ``CLUSTERLAB_SPARK_CONF``: extra Spark properties, as a JSON object
        (``{"spark.executor.memory": "4g"}``) or ``key=value`` pairs separated by ``;``.
    app_name : str
        The application name shown in the cluster's UI (``CLUSTERLAB_SPARK_APP_NAME``).
    driver_memory : str
        Heap of the driver JVM (``CLUSTERLAB_SPARK_DRIVER_MEMORY``, default ``1g``); in
        local mode the executors share it.

    Examples
    --------
    >>> s = SparkSettings(master="local[2]", conf={"spark.sql.shuffle.partitions": "2"})
    >>> s.is_local, s.is_connect
    (True, False)
    >>> s.spark_conf()["spark.sql.shuffle.partitions"]
    '2'
    """

    master: str = "local[*]"
    conf: Mapping[str, str] = field(default_factory=dict)
    app_name: str = "clusterlab"
    driver_memory: str = "1g"

    def __post_init__(self) -> None:
        master = self.master.strip()
        if master not in _MASTER_WORDS and not master.startswith(_MASTER_PREFIXES):
            raise InvalidInputError(
                f"CLUSTERLAB_SPARK_MASTER={self.master!r} is not a Spark master URL: use "
                "local[*], local[2], spark://host:7077, yarn, k8s://https://host:443 or a "
                "Spark Connect URL sc://host:15002."
            )
        object.__setattr__(self, "master", master)
        object.__setattr__(self, "conf", {str(k): str(v) for k, v in self.conf.items()})

    @property
    def is_local(self) -> bool:
        """Whether Spark runs inside this machine (driver and executors in one JVM)."""
        return self.master == "local" or self.master.startswith("local[")

    @property
    def is_connect(self) -> bool:
        """Whether the session is a Spark Connect client of a remote server."""
        return self.master.startswith("sc://")

    def spark_conf(self) -> dict[str, str]:
        """Every Spark property the session is built with (the user's win over ours)."""
        conf: dict[str, str] = {}
        if self.is_local:
            conf.update(_LOCAL_DEFAULTS)
        if not self.is_connect:
            conf["spark.driver.memory"] = self.driver_memory
        # Naive timestamps stay naive, and are written as Parquet micro-seconds that
        # DuckDB, pandas and pyarrow read back as the same wall-clock values.
        conf["spark.sql.session.timeZone"] = "UTC"
        conf["spark.sql.parquet.outputTimestampType"] = "TIMESTAMP_MICROS"
        # Spark 4 defaults to ANSI mode, where an out-of-range array index or a bad cast
        # fails the whole job; recipes expect an empty cell, as on DuckDB (Ibis's
        # PySpark compiler assumes the non-ANSI behaviour too).
        conf["spark.sql.ansi.enabled"] = "false"
        conf.update(self.conf)
        return conf

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SparkSettings:
        """Settings from ``CLUSTERLAB_SPARK_*`` variables (``environ`` defaults to os.environ).

        Examples
        --------
        >>> env = {"CLUSTERLAB_SPARK_MASTER": "yarn",
        ...        "CLUSTERLAB_SPARK_CONF": "spark.executor.memory=4g; spark.executor.cores=2"}
        >>> s = SparkSettings.from_env(env)
        >>> s.master, s.conf["spark.executor.cores"]
        ('yarn', '2')
        """
        env = os.environ if environ is None else environ
        base = cls()
        return cls(
            master=env.get("CLUSTERLAB_SPARK_MASTER") or base.master,
            conf=parse_conf(env.get("CLUSTERLAB_SPARK_CONF", "")),
            app_name=env.get("CLUSTERLAB_SPARK_APP_NAME") or base.app_name,
            driver_memory=env.get("CLUSTERLAB_SPARK_DRIVER_MEMORY") or base.driver_memory,
        )


def parse_conf(text: str) -> dict[str, str]:
    """Spark properties from a JSON object or ``key=value;key=value`` text.

    Examples
    --------
    >>> parse_conf('{"spark.executor.memory": "4g"}')
    {'spark.executor.memory': '4g'}
    >>> parse_conf("spark.a=1; spark.b = x=y")
    {'spark.a': '1', 'spark.b': 'x=y'}
    """
    text = text.strip()
    if not text:
        return {}
    if text.startswith(("{", "[")):
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(
                f"CLUSTERLAB_SPARK_CONF is not valid JSON ({exc.msg} at character {exc.pos}): "
                'write it as {"spark.key": "value"} or as spark.key=value;spark.other=value.'
            ) from None
        if not isinstance(loaded, dict):
            raise InvalidInputError(
                "CLUSTERLAB_SPARK_CONF must be a JSON object of Spark properties, "
                'e.g. {"spark.executor.memory": "4g"}.'
            )
        return {str(k): str(v) for k, v in loaded.items()}
    conf: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(
                f"CLUSTERLAB_SPARK_CONF: {part!r} is not key=value; separate properties "
                "with ';', e.g. spark.executor.memory=4g;spark.executor.cores=2."
            )
        conf[key.strip()] = value.strip()
    return conf
