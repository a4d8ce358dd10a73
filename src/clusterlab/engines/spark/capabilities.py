"""What the Spark engine can run: its declared capability tables for recipes and ML.

Every recipe type, prepare processor, group aggregation, input file format, clustering
algorithm and ML design option has an entry saying whether Spark runs it and, if not
(or with a caveat), why. The engine refuses a recipe that uses anything unsupported
*before* starting a Spark job, and the UI greys an option out with the same reason.
Entries are declared, not probed: a processor added to `clusterlab.flow` is refused on
Spark until it has been checked by the conformance suite (``tests/engines``) and listed
here. The table's types live in `clusterlab.engines.capabilities`, beside the local
engine's; this module never imports pyspark.

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

from clusterlab.core.recipes import RecipeSpec
from clusterlab.engines.base import InputData
from clusterlab.engines.capabilities import YES, Capability, EngineCapabilities

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
    # The notes name no algorithm: messages put the algorithm's label before them.
    **dict.fromkeys(
        ["agglomerative", "spectral", "dbscan", "hdbscan"], Capability(False, _NO_PREDICT)
    ),
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
            True,
            "a scikit-learn saved model scores in the executors, in Arrow batches; a Spark "
            "one through its PipelineModel (its cluster_distance is left empty)",
        ),
        **dict.fromkeys(
            ["train", "cluster"],
            Capability(
                True,
                "trained with pyspark.ml (the Spark trainer): the design's algorithm must be "
                "one Spark trains; a train recipe makes a saved-model version of flavor 'spark'",
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
