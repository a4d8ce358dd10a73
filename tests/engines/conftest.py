"""The engine conformance suite runs every recipe on every engine listed here.

Adding an engine is one line: put its name in ENGINES and teach `make_engine` to build it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from clusterlab.core.dataset import DatasetKind
from clusterlab.core.recipes import parse_recipe
from clusterlab.engines.base import Engine, InputData
from clusterlab.services.build import engine_for

ENGINES = ["local"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Engine:
    return engine_for(request.param)


class RecipeRunner:
    """Run one recipe on pandas inputs with a real engine; return outputs as pandas."""

    def __init__(self, engine: Engine, root: Path) -> None:
        self.engine = engine
        self.root = root

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
        self.engine.run_recipe(spec, inputs, outputs, lambda _msg: None)
        return {n: pd.read_parquet(f / "part-0.parquet") for n, f in outputs.items()}


@pytest.fixture
def run(engine: Engine, tmp_path: Path) -> RecipeRunner:
    return RecipeRunner(engine, tmp_path)
