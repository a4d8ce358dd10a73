"""What the Spark engine can run: its declared capability table for recipes.

Every recipe type, prepare processor, group aggregation and input file format has an
entry saying whether Spark runs it and, if not (or with a caveat), why. The engine
refuses a recipe that uses anything unsupported *before* starting a Spark job, and a
UI can grey an option out with the same reason. Entries are declared, not probed: a
processor added to `clusterlab.flow` is refused on Spark until it has been checked by
the conformance suite (``tests/engines``) and listed here.

Examples
--------
>>> from clusterlab.core.recipes import parse_recipe
>>> recipe = parse_recipe({"name": "g", "type": "group", "inputs": ["a"], "outputs": ["b"],
...     "params": {"keys": ["k"], "aggregations": [{"column": "v", "aggregations": ["sum"]}]}})
>>> SPARK_CAPABILITIES.problems(recipe)
[]
>>> SPARK_CAPABILITIES.input_formats["xlsx"].supported
False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from clusterlab.core.dataset import DatasetKind
from clusterlab.core.errors import UnsupportedError
from clusterlab.core.recipes import GroupSpec, PrepareSpec, RecipeSpec
from clusterlab.engines.base import InputData


@dataclass(frozen=True)
class Capability:
    """Whether an engine supports one thing, and a note: why not, or a caveat."""

    supported: bool
    note: str = ""


YES = Capability(True)


@dataclass(frozen=True)
class EngineCapabilities:
    """The declared capabilities of one engine for recipes.

    Attributes
    ----------
    engine : str
        The engine's name.
    recipes, processors, aggregations, input_formats : mapping of str to Capability
        By recipe type, prepare step type, group aggregation and external file format.
        A name missing from a table is unsupported ("not verified on this engine").
    """

    engine: str
    recipes: Mapping[str, Capability] = field(default_factory=dict)
    processors: Mapping[str, Capability] = field(default_factory=dict)
    aggregations: Mapping[str, Capability] = field(default_factory=dict)
    input_formats: Mapping[str, Capability] = field(default_factory=dict)

    def _lookup(self, table: Mapping[str, Capability], name: str) -> Capability:
        return table.get(name) or Capability(False, f"not verified on the {self.engine} engine")

    def problems(
        self, recipe: RecipeSpec, inputs: Mapping[str, InputData] | None = None
    ) -> list[str]:
        """Why ``recipe`` (reading ``inputs``) cannot run on this engine; empty if it can."""
        found: list[str] = []
        kind = self._lookup(self.recipes, recipe.type)
        if not kind.supported:
            found.append(f"{recipe.type} recipes: {kind.note}")
        params = recipe.params
        if isinstance(params, PrepareSpec):
            for i, step in enumerate(params.steps):
                cap = self._lookup(self.processors, step.type)
                if step.enabled and not cap.supported:
                    found.append(f"step {i + 1} ({step.type}): {cap.note}")
        if isinstance(params, GroupSpec):
            for column in params.aggregations:
                for agg in column.aggregations:
                    cap = self._lookup(self.aggregations, agg.value)
                    if not cap.supported:
                        found.append(f"{agg.value} of {column.column}: {cap.note}")
        for name, data in (inputs or {}).items():
            if data.kind is DatasetKind.EXTERNAL:
                cap = self._lookup(self.input_formats, data.format.value)
                if not cap.supported:
                    found.append(f"input {name} ({data.format.value} file): {cap.note}")
        return found

    def check(self, recipe: RecipeSpec, inputs: Mapping[str, InputData] | None = None) -> None:
        """Raise `UnsupportedError` listing every problem `problems` finds."""
        found = self.problems(recipe, inputs)
        if found:
            raise UnsupportedError(
                f"Recipe {recipe.name} cannot run on the {self.engine} engine: "
                + "; ".join(found)
                + ". Run it on the local engine, or change the recipe."
            )


_ROW_WISE = (
    "runs as a Python pandas UDF on the executors: clusterlab (with its lookup data) "
    "must be installed in the executors' Python"
)

SPARK_CAPABILITIES = EngineCapabilities(
    engine="spark",
    recipes={
        "prepare": YES,
        "group": YES,
        "join": YES,
        "split": Capability(
            True,
            "random splits draw rows from Spark's hash, so the rows each output gets differ "
            "from the local engine's (the shares and the determinism are the same)",
        ),
        "sync": YES,
        "stack": YES,
        **dict.fromkeys(
            ["train", "apply", "cluster"],
            Capability(
                False,
                "ML recipes need the Spark trainer (pyspark.ml), which is not part of the "
                "Spark engine yet",
            ),
        ),
    },
    processors={
        **dict.fromkeys(
            [
                "remove_columns",
                "keep_columns",
                "rename_columns",
                "reorder_columns",
                "clear_invalid",
                "fill_empty",
                "filter_rows",
                "formula",
                "cast",
                "parse_date",
                "extract_date_parts",
                "split_url",
                "flag_url_sections",
                "split_column",
                "concat_columns",
                "lower",
                "upper",
                "trim",
                "bin_numbers",
            ],
            YES,
        ),
        "geoip": Capability(True, _ROW_WISE),
        "classify_user_agent": Capability(True, _ROW_WISE),
    },
    aggregations=dict.fromkeys(
        [
            "count",
            "distinct",
            "first",
            "last",
            "min",
            "max",
            "sum",
            "avg",
            "std",
            "median",
            "concat_distinct",
        ],
        YES,
    ),
    input_formats={
        "parquet": YES,
        "csv": Capability(
            True,
            "read by Spark's CSV reader: the delimiter, header and encoding come from the "
            "dataset's CSV options (default: comma, header, UTF-8), not from sniffing",
        ),
        "jsonl": YES,
        "xlsx": Capability(
            False,
            "Spark has no Excel reader; import the workbook as a managed dataset first",
        ),
    },
)


def check_recipe(recipe: RecipeSpec, inputs: Mapping[str, InputData] | None = None) -> None:
    """Refuse, before any Spark job starts, a recipe the Spark engine cannot run."""
    SPARK_CAPABILITIES.check(recipe, inputs)
