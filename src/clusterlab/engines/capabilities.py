"""What each engine can run: declared capability tables, readable without pyspark.

Every engine declares, for each recipe type, prepare processor, group aggregation,
input file format, clustering algorithm and ML design option, whether it runs it and,
if not (or with a caveat), why. Builds refuse a recipe its engine cannot run before
anything runs, and the UI greys the same options out with the same reasons.

The tables are plain data: `capabilities_for` reads the Spark one without importing
pyspark, so the web app can show it on a machine without Spark.

Examples
--------
>>> capabilities_for("local").algorithm("dbscan").supported
True
>>> capabilities_for("spark").algorithm("dbscan").supported
False
>>> capabilities_for("spark").as_dict()["recipes"]["group"]
{'supported': True, 'note': ''}
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from clusterlab.core.dataset import DatasetKind, EngineName, FileFormat
from clusterlab.core.errors import InvalidInputError, UnsupportedError
from clusterlab.core.ml_recipes import ClusterParams, TrainParams
from clusterlab.core.mltask import (
    ALGORITHM_LABELS,
    AlgorithmType,
    CovarianceType,
    FeatureType,
    TaskDesign,
)
from clusterlab.core.recipes import Aggregation, GroupSpec, PrepareSpec, RecipeSpec, RecipeType
from clusterlab.core.recipes import Step as _Step
from clusterlab.engines.base import InputData

ENGINE_NAMES: tuple[str, ...] = typing.get_args(EngineName)
"""Every engine a project, recipe, Lab task or build can name."""


@dataclass(frozen=True)
class Capability:
    """Whether an engine supports one thing, and a note: why not, or a caveat."""

    supported: bool
    note: str = ""


YES = Capability(True)


@dataclass(frozen=True)
class EngineCapabilities:
    """The declared capabilities of one engine.

    Attributes
    ----------
    engine : str
        The engine's name.
    recipes, processors, aggregations, input_formats : mapping of str to Capability
        By recipe type, prepare step type, group aggregation and external file format.
        A name missing from a table is unsupported ("not verified on this engine").
    algorithms : mapping of str to Capability
        By clustering algorithm (`AlgorithmType` value, or an engine-only one).
    ml_options : mapping of str to Capability
        ML design options an engine may lack: ``text_features``, ``outliers``, and
        ``gmm_covariance:<type>`` per Gaussian mixture covariance type.
    """

    engine: str
    recipes: Mapping[str, Capability] = field(default_factory=dict)
    processors: Mapping[str, Capability] = field(default_factory=dict)
    aggregations: Mapping[str, Capability] = field(default_factory=dict)
    input_formats: Mapping[str, Capability] = field(default_factory=dict)
    algorithms: Mapping[str, Capability] = field(default_factory=dict)
    ml_options: Mapping[str, Capability] = field(default_factory=dict)

    def _lookup(self, table: Mapping[str, Capability], name: str) -> Capability:
        return table.get(name) or Capability(False, f"not verified on the {self.engine} engine")

    def recipe(self, recipe_type: str) -> Capability:
        """Whether this engine runs recipes of ``recipe_type`` at all, and why not."""
        return self._lookup(self.recipes, recipe_type)

    def problems(
        self, recipe: RecipeSpec, inputs: Mapping[str, InputData] | None = None
    ) -> list[str]:
        """Why ``recipe`` (reading ``inputs``) cannot run on this engine; empty if it can."""
        found: list[str] = []
        kind = self.recipe(recipe.type)
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
        if isinstance(params, TrainParams | ClusterParams):
            found.extend(f"model {item}" for item in self.design_problems(params.design))
        for name, data in (inputs or {}).items():
            if data.kind is DatasetKind.EXTERNAL:
                cap = self._lookup(self.input_formats, data.format.value)
                if not cap.supported:
                    found.append(f"input {name} ({data.format.value} file): {cap.note}")
        return found

    def algorithm(self, name: str) -> Capability:
        """Whether this engine trains algorithm ``name``, and why not (or a caveat)."""
        return self._lookup(self.algorithms, name)

    def option(self, name: str) -> Capability:
        """Whether this engine offers ML design option ``name`` (see ``ml_options``)."""
        return self._lookup(self.ml_options, name)

    def design_problems(self, design: TaskDesign) -> list[str]:
        """Why models of ``design`` cannot train on this engine; empty if all can.

        Examples
        --------
        >>> from clusterlab.core.mltask import DBSCANSpec, KMeansSpec
        >>> spark = capabilities_for("spark")
        >>> spark.design_problems(TaskDesign(algorithms=(KMeansSpec(),)))
        []
        >>> spark.design_problems(TaskDesign(algorithms=(DBSCANSpec(),)))[0][:7]
        'DBSCAN:'
        """
        found: list[str] = []
        for spec in design.algorithms:
            cap = self.algorithm(spec.type)
            if spec.enabled and not cap.supported:
                found.append(f"{ALGORITHM_LABELS[AlgorithmType(spec.type)]}: {cap.note}")
            for covariance in getattr(spec, "covariance_types", ()):
                cap = self.option(f"gmm_covariance:{covariance}")
                if spec.enabled and not cap.supported:
                    found.append(f"Gaussian mixture, {covariance} covariance: {cap.note}")
        text = [f.name for f in design.inputs if f.type is FeatureType.TEXT]
        if text and not (cap := self.option("text_features")).supported:
            found.append(f"text features ({', '.join(text)}): {cap.note}")
        outliers = self.option("outliers")
        if design.outliers.method != "none" and not outliers.supported:
            found.append(f"outliers detection: {outliers.note}")
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

    def as_dict(self) -> dict[str, Any]:
        """The whole table as JSON-ready data: ``{table: {name: {supported, note}}}``."""
        return asdict(self)


def step_types() -> list[str]:
    """Every prepare step type the recipe specs accept, read from the specs themselves."""
    found: list[str] = []
    for cls in typing.get_args(typing.get_args(_Step)[0]):
        found.extend(typing.get_args(cls.model_fields["type"].annotation))
    return sorted(found)


def _everything(names: typing.Iterable[str]) -> dict[str, Capability]:
    return dict.fromkeys(names, YES)


# The local engine runs whatever the specs allow: recipe compilers, processors and
# trainers are written for it first, and the conformance suite measures Spark against it.
LOCAL_CAPABILITIES = EngineCapabilities(
    engine="local",
    recipes=_everything(typing.get_args(RecipeType)),
    processors=_everything(step_types()),
    aggregations=_everything(a.value for a in Aggregation),
    input_formats=_everything(f.value for f in FileFormat),
    algorithms=_everything(a.value for a in AlgorithmType),
    ml_options=_everything(
        [
            *(f"gmm_covariance:{kind}" for kind in typing.get_args(CovarianceType)),
            "text_features",
            "outliers",
        ]
    ),
)


def engine_name(value: str) -> str:
    """``value`` if it names an engine, else `InvalidInputError` listing the engines.

    Examples
    --------
    >>> engine_name("spark")
    'spark'
    """
    if value not in ENGINE_NAMES:
        raise InvalidInputError(
            f"Unknown engine {value!r}: choose one of {', '.join(ENGINE_NAMES)}."
        )
    return value


def capabilities_for(engine: str) -> EngineCapabilities:
    """The declared capability table of ``engine`` (``local`` or ``spark``)."""
    if engine_name(engine) == "spark":
        # The Spark package imports pyspark only when a session starts, not here.
        from clusterlab.engines.spark.capabilities import SPARK_CAPABILITIES

        return SPARK_CAPABILITIES
    return LOCAL_CAPABILITIES
