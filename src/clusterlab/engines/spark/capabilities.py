"""What the Spark engine can run: its declared capability tables for recipes and ML.

Every recipe type, prepare processor, group aggregation, input file format, clustering
algorithm and ML design option has an entry saying whether Spark runs it and, if not
(or with a caveat), why. The engine
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
>>> SPARK_CAPABILITIES.algorithm("dbscan").supported
False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from clusterlab.core.dataset import DatasetKind
from clusterlab.core.errors import UnsupportedError
from clusterlab.core.mltask import FeatureType, TaskDesign
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

    def algorithm(self, name: str) -> Capability:
        """Whether this engine trains algorithm ``name``, and why not (or a caveat)."""
        return self._lookup(self.algorithms, name)

    def design_problems(self, design: TaskDesign) -> list[str]:
        """Why models of ``design`` cannot train on this engine; empty if all can.

        Examples
        --------
        >>> from clusterlab.core.mltask import DBSCANSpec, KMeansSpec
        >>> SPARK_CAPABILITIES.design_problems(TaskDesign(algorithms=(KMeansSpec(),)))
        []
        >>> SPARK_CAPABILITIES.design_problems(TaskDesign(algorithms=(DBSCANSpec(),)))[0][:7]
        'DBSCAN:'
        """
        from clusterlab.core.mltask import ALGORITHM_LABELS, AlgorithmType

        found: list[str] = []
        for spec in design.algorithms:
            cap = self.algorithm(spec.type)
            if spec.enabled and not cap.supported:
                found.append(f"{ALGORITHM_LABELS[AlgorithmType(spec.type)]}: {cap.note}")
            for covariance in getattr(spec, "covariance_types", ()):
                cap = self._lookup(self.ml_options, f"gmm_covariance:{covariance}")
                if spec.enabled and not cap.supported:
                    found.append(f"Gaussian mixture, {covariance} covariance: {cap.note}")
        text = [f.name for f in design.inputs if f.type is FeatureType.TEXT]
        if text and not (cap := self._lookup(self.ml_options, "text_features")).supported:
            found.append(f"text features ({', '.join(text)}): {cap.note}")
        outliers = self._lookup(self.ml_options, "outliers")
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


_ROW_WISE = (
    "runs as a Python pandas UDF on the executors: clusterlab (with its lookup data) "
    "must be installed in the executors' Python"
)

_NO_PREDICT = (
    "Spark has no distributed version; it needs all pairwise distances or a "
    "neighbourhood graph on one machine: train it on the local engine (on a sample)"
)

_ALGORITHMS = {
    "kmeans": Capability(
        True,
        "pyspark.ml K-means with k-means|| initialisation; n_init restarts with "
        "seeds seed, seed + 1, ... keep the lowest cost",
    ),
    "minibatch_kmeans": Capability(
        True,
        "trained as Spark's full K-means (distributed, so no mini-batches are needed); "
        "the batch size is ignored",
    ),
    "bisecting_kmeans": Capability(True, "Spark only (pyspark.ml BisectingKMeans)"),
    "gmm": Capability(True, "pyspark.ml Gaussian mixture: full covariances only"),
    "two_step": Capability(
        True,
        "K-means pre-clusters on Spark; the Ward tree over them is built on the driver",
    ),
    "agglomerative": Capability(False, f"agglomerative (Ward) clustering: {_NO_PREDICT}"),
    "spectral": Capability(False, f"spectral clustering: {_NO_PREDICT}"),
    "dbscan": Capability(False, f"DBSCAN: {_NO_PREDICT}"),
    "hdbscan": Capability(False, f"HDBSCAN: {_NO_PREDICT}"),
    "isolation_forest": Capability(
        False, "pyspark.ml has no Isolation Forest: train it on the local engine"
    ),
    "custom": Capability(
        False,
        "custom models are scikit-learn code run on one machine: train them on the "
        "local engine (a saved scikit-learn model can still score on Spark)",
    ),
}

_ML_OPTIONS = {
    "gmm_covariance:full": YES,
    **{
        f"gmm_covariance:{kind}": Capability(
            False, "Spark's Gaussian mixture has full covariances only"
        )
        for kind in ("tied", "diag", "spherical")
    },
    "text_features": Capability(
        False,
        "TF-IDF and SVD are not part of the Spark trainer; treat the column as "
        "categorical or reject it",
    ),
    "outliers": Capability(
        False, "mini-cluster outliers detection is not part of the Spark trainer yet"
    ),
}

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
        "apply": Capability(
            True, "the saved model (scikit-learn) scores in the executors, in Arrow batches"
        ),
        **dict.fromkeys(
            ["train", "cluster"],
            Capability(
                False,
                "train and cluster recipes run on the embedded engine (scikit-learn) even in "
                "a Spark build: the pyspark.ml trainer is not yet routed from builds",
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
    algorithms=_ALGORITHMS,
    ml_options=_ML_OPTIONS,
)


def check_recipe(recipe: RecipeSpec, inputs: Mapping[str, InputData] | None = None) -> None:
    """Refuse, before any Spark job starts, a recipe the Spark engine cannot run."""
    SPARK_CAPABILITIES.check(recipe, inputs)
