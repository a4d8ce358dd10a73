"""The engine conformance suite runs every recipe on every engine listed here.

Adding an engine is one line: put its name in ENGINES and teach `engine` to build it.
Spark runs in ``local[2]`` mode with one SparkSession per test process (per xdist
worker), kept small: 1 GiB of driver memory, two shuffle partitions, no UI.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from clusterlab.core.dataset import DatasetKind
from clusterlab.core.recipes import parse_recipe
from clusterlab.engines.base import Engine, InputData
from clusterlab.services.build import engine_for

ENGINES = ["local", pytest.param("spark", marks=pytest.mark.spark)]

SPARK_TEST_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    # Tiny data: no need for adaptive re-planning; generating and compiling Java code
    # per query and the JVM's optimising JIT cost far more than they save here.
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}


@pytest.fixture(scope="session")
def spark_engine() -> Iterator[Engine]:
    """One Spark engine (and JVM) for the whole test session."""
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed: pip install -e '.[dev]'")
    from clusterlab.engines.spark import SparkEngine, SparkSettings
    from clusterlab.engines.spark.session import stop_session

    settings = SparkSettings(master="local[2]", conf=SPARK_TEST_CONF, driver_memory="1g")
    engine = SparkEngine(settings)
    engine.session  # noqa: B018 - start the JVM once, up front
    yield engine
    stop_session()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Engine:
    if request.param == "spark":
        spark: Engine = request.getfixturevalue("spark_engine")
        return spark
    return engine_for(request.param)


def read_output(folder: Path) -> pd.DataFrame:
    """The rows an engine wrote into a version folder, in file order."""
    files = sorted(folder.glob("part-*.parquet"))
    assert files, f"no Parquet part files in {folder}"
    # A version holds its data files and schema.json and nothing else (no Spark _SUCCESS).
    extra = {p.name for p in folder.iterdir()} - {f.name for f in files} - {"schema.json"}
    assert not extra, f"unexpected files in a version folder: {sorted(extra)}"
    frames = [pd.read_parquet(f) for f in files]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


class RecipeRunner:
    """Run one recipe on pandas inputs with a real engine; return outputs as pandas."""

    def __init__(self, engine: Engine, root: Path) -> None:
        self.engine = engine
        self.root = root
        self.log: list[str] = []

    def __call__(self, recipe: dict[str, Any], **frames: pd.DataFrame) -> dict[str, pd.DataFrame]:
        spec = parse_recipe(recipe)
        inputs = {}
        for name, frame in frames.items():
            folder = self.root / "in" / name
            folder.mkdir(parents=True)
            frame.to_parquet(folder / "part-0.parquet", index=False)
            inputs[name] = InputData(name, DatasetKind.MANAGED, folder)
        outputs = {}
        for name in spec.outputs:
            outputs[name] = self.root / "out" / name
            outputs[name].mkdir(parents=True)
        self.engine.run_recipe(spec, inputs, outputs, self.log.append)
        return {n: read_output(f) for n, f in outputs.items()}


@pytest.fixture
def run(engine: Engine, tmp_path: Path) -> RecipeRunner:
    return RecipeRunner(engine, tmp_path)
