"""The Engine contract: what every execution engine (local DuckDB, Spark) provides.

Recipes are engine-neutral Ibis expressions (`clusterlab.flow`); an engine binds their
inputs to its own tables, runs them and writes the outputs into folders the caller
gives it. Publishing those folders (atomically, after every output succeeded) is the
caller's job, so no engine can leave a half-written dataset behind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd
import pyarrow as pa

from clusterlab.core.dataset import CsvOptions, DatasetKind, FileFormat
from clusterlab.core.recipes import RecipeSpec
from clusterlab.core.schema import Schema

Log = Callable[[str], None]


@dataclass(frozen=True)
class InputData:
    """Where an input dataset's rows are: a managed version folder or an external file."""

    name: str
    kind: DatasetKind
    path: Path
    format: FileFormat = FileFormat.PARQUET
    csv: CsvOptions = field(default_factory=CsvOptions)


@dataclass(frozen=True)
class OutputResult:
    """What an engine wrote for one output dataset."""

    rows: int
    schema: Schema


class Engine(Protocol):
    """Runs recipes and scores datasets; implemented by the local and Spark engines."""

    name: str

    def run_recipe(
        self,
        recipe: RecipeSpec,
        inputs: Mapping[str, InputData],
        outputs: Mapping[str, Path],
        log: Log,
    ) -> dict[str, OutputResult]:
        """Write each output of ``recipe`` as Parquet plus schema into its folder."""
        ...

    def preview(
        self,
        recipe: RecipeSpec,
        inputs: Mapping[str, InputData],
        *,
        upto_step: int | None = None,
        limit: int = 100,
    ) -> dict[str, pa.Table]:
        """The first ``limit`` rows of each output (after step ``upto_step`` of a prepare)."""
        ...

    def score(
        self,
        data: InputData,
        scorer: Callable[[pd.DataFrame], pd.DataFrame],
        output: Path,
        *,
        columns: Sequence[str] | None = None,
        batch_rows: int = 100_000,
        log: Log,
        progress: Callable[[int, int], None] | None = None,
    ) -> OutputResult:
        """Write ``data`` plus the columns ``scorer`` adds to each batch into ``output``."""
        ...
