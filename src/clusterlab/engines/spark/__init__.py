"""The Spark engine: the same recipes as the local engine, run by PySpark.

Importing this package does not import pyspark; the session starts on first use.

Examples
--------
>>> from clusterlab.engines.spark import SparkEngine, SparkSettings
>>> engine = SparkEngine(SparkSettings(master="local[2]"))
>>> engine.name, engine.capabilities.recipes["group"].supported
('spark', True)
"""

from clusterlab.engines.capabilities import Capability, EngineCapabilities
from clusterlab.engines.spark.capabilities import SPARK_CAPABILITIES
from clusterlab.engines.spark.engine import SparkEngine, SparkJobError
from clusterlab.engines.spark.session import SparkUnavailableError
from clusterlab.engines.spark.settings import SparkSettings

__all__ = [
    "SPARK_CAPABILITIES",
    "Capability",
    "EngineCapabilities",
    "SparkEngine",
    "SparkJobError",
    "SparkSettings",
    "SparkUnavailableError",
]
