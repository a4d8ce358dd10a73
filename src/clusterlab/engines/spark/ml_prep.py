"""The design's features handling as pyspark.ml.feature stages: one PipelineModel.

The stages mirror the local preprocessing (`clusterlab.ml.preprocess`):

1. A ``SQLTransformer`` casts each input feature (numbers to double, with text that is
   not a number and infinities made missing; categories to strings), fills a
   categorical feature's missing values (own level, constant, most frequent level) or a
   numeric one's constant, and sets ``__cl_kept``: false where a "drop rows" feature
   is missing. Such rows are not trained on, and get no label when scored.
2. ``Imputer`` (mean, median), then ``StandardScaler`` (with mean and std) or
   ``MinMaxScaler`` over the numeric features grouped by rescaling, so that each
   scaler is one pass over the data whatever the number of features.
3. ``StringIndexerModel`` built from the levels the cap keeps (the same caps as the
   local engine: max categories, cumulative proportion, min samples; ranked by count,
   ties by name), ``handleInvalid="keep"`` sending every other level to one extra
   index, and ``OneHotEncoder``: that index is the ``<feature>=other`` dummy when the
   cap left levels out, and is dropped otherwise (an unseen level is then all zeros,
   as on the local engine).
4. A ``VectorAssembler`` gathering everything into ``__cl_features``; optionally
   ``StandardScaler`` + ``PCA`` keeping the fewest components reaching the variance
   share, into ``__cl_factors``.

Every stage is a Spark ML stage, so the whole preprocessing is saved with Spark's own
writer as part of the model's PipelineModel. Spark's ``StandardScaler`` divides by the
sample standard deviation (scikit-learn by the population one): the matrices differ by
a factor sqrt(n / (n - 1)) per feature, which does not change which rows are close.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from clusterlab.core.errors import InvalidInputError, UnsupportedError
from clusterlab.core.mltask import CategoricalHandling, FeatureHandling, FeatureType
from clusterlab.ml.preprocess import OTHER_DUMMY, factor_names
from clusterlab.ml.report.inputs import MISSING_LEVEL

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

PREFIX = "__cl_"
"""Prefix of every column the stages add; scoring drops them from its output."""
KEPT_COLUMN = f"{PREFIX}kept"
FEATURES_COLUMN = f"{PREFIX}features"
FACTORS_COLUMN = f"{PREFIX}factors"


def sql_string(value: str) -> str:
    """``value`` as a Spark SQL string literal (backslash escapes are on by default).

    Examples
    --------
    >>> print(sql_string("it's a \\\\ test"))
    'it\\'s a \\\\ test'
    """
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def sql_name(name: str) -> str:
    """``name`` as a quoted Spark SQL identifier.

    Examples
    --------
    >>> sql_name("a`b")
    '`a``b`'
    """
    return "`" + name.replace("`", "``") + "`"


def _column(i: int) -> str:
    return f"{PREFIX}f{i}"


def _cast(feature: FeatureHandling) -> str:
    source = sql_name(feature.name)
    if feature.type is FeatureType.NUMERIC:
        # Spark orders NaN above every number, so this test also turns NaN into NULL.
        value = f"CAST({source} AS DOUBLE)"
        return f"CASE WHEN abs({value}) < double('inf') THEN {value} END"
    return f"CAST({source} AS STRING)"


def _fill(feature: FeatureHandling, expression: str, mode: str | None) -> str:
    if feature.type is FeatureType.NUMERIC:
        handling = feature.numeric
        if handling.missing == "constant":
            return f"coalesce({expression}, double({handling.constant!r}))"
        # A dropped row keeps a placeholder: it is scored (then unlabelled), never trained on.
        return f"coalesce({expression}, 0.0D)" if handling.missing == "drop" else expression
    categorical = feature.categorical
    fill = {"constant": categorical.constant, "most_frequent": mode}.get(categorical.missing)
    return f"coalesce({expression}, {sql_string(fill or MISSING_LEVEL)})"


def _mode(frame: DataFrame, expression: str) -> str | None:
    """The most frequent non-missing value of ``expression`` (ties by name)."""
    from pyspark.sql import functions as sf

    found = (
        frame.selectExpr(f"{expression} AS v")
        .where("v IS NOT NULL")
        .groupBy("v")
        .count()
        .orderBy(sf.desc("count"), sf.asc("v"))
        .first()
    )
    return None if found is None else str(found["v"])


def prepare_stage(frame: DataFrame, inputs: Sequence[FeatureHandling]) -> Any:
    """The ``SQLTransformer`` casting, filling and flagging the kept rows (step 1)."""
    from pyspark.ml.feature import SQLTransformer

    expressions, dropped = [], []
    for i, feature in enumerate(inputs):
        raw = _cast(feature)
        mode = None
        if feature.type is FeatureType.CATEGORICAL and feature.categorical.missing == (
            "most_frequent"
        ):
            mode = _mode(frame, raw)
        expressions.append(f"{_fill(feature, raw, mode)} AS {_column(i)}")
        if feature.drops_missing:
            dropped.append(f"({raw}) IS NOT NULL")
    kept = " AND ".join(dropped) or "true"
    statement = f"SELECT *, {', '.join(expressions)}, {kept} AS {KEPT_COLUMN} FROM __THIS__"
    return SQLTransformer(statement=statement)


def capped_levels(
    frame: DataFrame, column: str, handling: CategoricalHandling
) -> tuple[list[str], int]:
    """The levels of ``column`` the cap keeps, and its number of distinct levels.

    One Spark job: level counts ranked by count then name, with the running share of
    the rows before each level, as `clusterlab.ml.preprocess.capped_levels` ranks them.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as sf

    counts = frame.groupBy(sf.col(column).alias("level")).count()
    ranked = Window.orderBy(sf.desc("count"), sf.asc("level"))
    before = ranked.rowsBetween(Window.unboundedPreceding, -1)
    everything = Window.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    table = counts.select(
        "level",
        "count",
        sf.row_number().over(ranked).alias("rank"),
        sf.coalesce(sf.sum("count").over(before), sf.lit(0)).alias("before"),
        sf.sum("count").over(everything).alias("total"),
        sf.count("*").over(everything).alias("distinct"),
    )
    if handling.cap == "max_categories":
        table = table.where(sf.col("rank") <= handling.max_categories)
    elif handling.cap == "min_samples":
        table = table.where(sf.col("count") >= handling.min_samples)
    else:
        # The fewest levels covering the share: those whose preceding share falls short.
        share = sf.col("before") / sf.col("total")
        table = table.where(
            (share < handling.cumulative_proportion - 1e-12) | (sf.col("rank") == 1)
        )
    rows = table.collect()
    distinct = int(rows[0]["distinct"]) if rows else int(counts.count())
    return [str(r["level"]) for r in rows], distinct


@dataclass(frozen=True)
class SparkPreprocessing:
    """The fitted preprocessing: its PipelineModel and the matrix columns' names.

    ``model`` turns rows into ``__cl_features`` (and ``__cl_kept``); ``feature_names``
    name the vector's entries (``age``, ``country=fr``, ``country=other``, ...).
    """

    features: tuple[FeatureHandling, ...]
    model: Any
    feature_names: tuple[str, ...]


def check_inputs(
    frame: DataFrame, features: Sequence[FeatureHandling]
) -> tuple[FeatureHandling, ...]:
    """The input features, checked against the frame's columns and Spark's abilities."""
    inputs = tuple(f for f in features if f.is_input)
    if not inputs:
        raise InvalidInputError(
            "The design has no input feature: set the role of at least one column to input."
        )
    if absent := [f.name for f in inputs if f.name not in frame.columns]:
        raise InvalidInputError(
            f"Input feature(s) {', '.join(map(repr, absent))} are not columns of the data "
            f"(columns: {', '.join(frame.columns)}). Reject them in the design or add them."
        )
    if text := [f.name for f in inputs if f.type is FeatureType.TEXT]:
        raise UnsupportedError(
            f"Text feature(s) {', '.join(map(repr, text))} cannot be used on Spark (TF-IDF "
            "and SVD are not part of the Spark trainer): treat them as categorical, reject "
            "them, or train on the local engine."
        )
    return inputs


def fit_preprocessing(
    frame: DataFrame, features: Sequence[FeatureHandling]
) -> tuple[SparkPreprocessing, DataFrame]:
    """Fit the stages on ``frame``; return them and the kept rows, transformed (lazy).

    Runs one job per categorical feature (its level counts), one per imputing strategy
    and one per rescaling group.
    """
    from pyspark.ml import Pipeline, PipelineModel
    from pyspark.ml.feature import (
        Imputer,
        MinMaxScaler,
        OneHotEncoder,
        StandardScaler,
        StringIndexerModel,
        VectorAssembler,
    )

    inputs = check_inputs(frame, features)
    first = prepare_stage(frame, inputs)
    kept = first.transform(frame).where(KEPT_COLUMN)
    stages: list[Any] = []
    vectors: list[str] = []
    names: list[str] = []
    numeric = [(i, f) for i, f in enumerate(inputs) if f.type is FeatureType.NUMERIC]
    source = {i: _column(i) for i, _ in numeric}
    for strategy in ("mean", "median"):
        chosen = [i for i, f in numeric if f.numeric.missing == strategy]
        if chosen:
            outputs = [f"{_column(i)}_{strategy}" for i in chosen]
            stages.append(
                Imputer(
                    strategy=strategy, inputCols=[source[i] for i in chosen], outputCols=outputs
                )
            )
            source.update(zip(chosen, outputs, strict=True))
    for rescaling in ("standard", "minmax", "none"):
        chosen = [i for i, f in numeric if f.numeric.rescaling == rescaling]
        if not chosen:
            continue
        raw, scaled = f"{PREFIX}{rescaling}_raw", f"{PREFIX}{rescaling}"
        stages.append(VectorAssembler(inputCols=[source[i] for i in chosen], outputCol=raw))
        if rescaling == "standard":
            stages.append(StandardScaler(inputCol=raw, outputCol=scaled, withMean=True))
        elif rescaling == "minmax":
            stages.append(MinMaxScaler(inputCol=raw, outputCol=scaled))
        vectors.append(raw if rescaling == "none" else scaled)
        names += [inputs[i].name for i in chosen]
    for i, feature in enumerate(inputs):
        if feature.type is not FeatureType.CATEGORICAL:
            continue
        levels, distinct = capped_levels(kept, _column(i), feature.categorical)
        capped = len(levels) < distinct
        index, dummies = f"{_column(i)}_index", f"{_column(i)}_dummies"
        stages.append(
            StringIndexerModel.from_labels(
                sorted(levels), inputCol=_column(i), outputCol=index, handleInvalid="keep"
            )
        )
        # The extra "unknown" index is the other-levels dummy only when the cap applied.
        stages.append(OneHotEncoder(inputCols=[index], outputCols=[dummies], dropLast=not capped))
        vectors.append(dummies)
        names += [f"{feature.name}={level}" for level in sorted(levels)]
        names += [f"{feature.name}={OTHER_DUMMY}"] if capped else []
    stages.append(VectorAssembler(inputCols=vectors, outputCol=FEATURES_COLUMN))
    fitted = Pipeline(stages=stages).fit(kept)
    model = PipelineModel(stages=[first, *fitted.stages])
    return SparkPreprocessing(inputs, model, tuple(names)), fitted.transform(kept)


def fit_pca(frame: DataFrame, variance: float, width: int) -> tuple[Any, tuple[str, ...]]:
    """Standardize ``__cl_features``, keep the fewest components reaching ``variance``.

    Returns the fitted PipelineModel (into ``__cl_factors``) and the factor names.
    """
    import numpy as np
    from pyspark.ml import PipelineModel
    from pyspark.ml.feature import PCA, PCAModel, StandardScaler

    scaled = f"{PREFIX}pca_scaled"
    scaler = StandardScaler(inputCol=FEATURES_COLUMN, outputCol=scaled, withMean=True).fit(frame)
    standardized = scaler.transform(frame)
    full: PCAModel = PCA(k=width, inputCol=scaled, outputCol=FACTORS_COLUMN).fit(standardized)
    shares = np.cumsum(full.explainedVariance.toArray())
    k = width if variance >= 1 else int(np.searchsorted(shares, variance - 1e-12)) + 1
    k = max(1, min(k, width))
    pca = (
        full
        if k == width
        else PCA(k=k, inputCol=scaled, outputCol=FACTORS_COLUMN).fit(standardized)
    )
    return PipelineModel(stages=[scaler, pca]), factor_names(k)
