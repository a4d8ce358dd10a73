"""Data of the anomalies panel of Isolation Forest models.

The panel lists the top N rows of the ``anomalies`` cluster by anomaly score (higher
is odder), each with a **strength** from 1 to 5, its feature values and, for numeric
features, its z-score against the whole training sample so the UI can color the
values that make the row odd. Ten ``regular`` rows follow for comparison: the
regular rows with the *lowest* anomaly scores, i.e. the most typical rows.

Strength
    Quintile band of the row's score among the scores of *every* row of the
    ``anomalies`` cluster: with ``q20, q40, q60, q80`` their 20th, …, 80th
    percentiles (linear interpolation), strength is 1 when ``score <= q20``, 2 when
    ``q20 < score <= q40``, …, 5 when ``score > q80``. A strength-5 anomaly is odder
    than 80% of the anomalies. Regular rows have no strength.

Z-score
    ``(value - mean) / std`` with the mean and sample standard deviation (n − 1) of
    the feature over every row having an anomaly score; None when the value is
    missing or the feature is constant.

Everything is computed through Ibis on the scored table (five small queries), so
the same builder runs on DuckDB and Spark.

Examples
--------
>>> import ibis
>>> from clusterlab.ml.report.inputs import features_of
>>> t = ibis.memtable({"x": [1.0, 2.0, 3.0, 50.0, 90.0],
...                    "cluster": ["regular"] * 3 + ["anomalies"] * 2,
...                    "anomaly_score": [0.3, 0.35, 0.4, 0.7, 0.8]})
>>> panel = build_anomalies(t, features_of(["x"]), top=10)
>>> [(r.score, r.strength, r.values["x"]) for r in panel.anomalies]
[(0.8, 5, 90.0), (0.7, 1, 50.0)]
>>> [r.values["x"] for r in panel.regular]
[1.0, 2.0, 3.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import ibis
import pandas as pd
from pydantic import BaseModel, ConfigDict

from clusterlab.core.errors import InvalidInputError
from clusterlab.ml.report.inputs import DEFAULT_CLUSTER_COLUMN, FeatureInfo, check_columns

ANOMALIES = "anomalies"
REGULAR = "regular"
SCORE_COLUMN = "anomaly_score"
DEFAULT_TOP_ANOMALIES = 100
"""Anomalies listed when the caller does not say (the design's default "anomalies to display")."""
REGULAR_ROWS = 10
"""Regular rows shown under the anomalies, for comparison."""
STRENGTH_QUANTILES = (0.2, 0.4, 0.6, 0.8)
"""Percentiles of the anomalies' scores separating strengths 1 to 5."""

Value = float | str | None


class FeatureMoments(BaseModel):
    """Mean and sample std of one numeric feature over the whole training sample."""

    model_config = ConfigDict(frozen=True)

    feature: str
    mean: float | None
    std: float | None


class AnomalyRow(BaseModel):
    """One row of the panel: its cluster, score, strength, values and z-scores."""

    model_config = ConfigDict(frozen=True)

    cluster: str
    score: float
    strength: int | None = None
    values: dict[str, Value]
    z_scores: dict[str, float | None]


class AnomaliesPanel(BaseModel):
    """The top anomalies and a few regular rows of an Isolation Forest model.

    ``strength_bounds`` are the score percentiles of `STRENGTH_QUANTILES` among all
    anomalies (empty when there is none); ``n_rows`` counts the rows having a score.
    """

    model_config = ConfigDict(frozen=True)

    score_column: str = SCORE_COLUMN
    cluster_column: str = DEFAULT_CLUSTER_COLUMN
    features: list[FeatureInfo]
    n_rows: int
    n_anomalies: int
    top: int
    strength_bounds: list[float]
    moments: list[FeatureMoments]
    anomalies: list[AnomalyRow]
    regular: list[AnomalyRow]

    def table(self) -> pd.DataFrame:
        """Anomalies then regular rows as one table: cluster, score, strength, features.

        Examples
        --------
        >>> row = AnomalyRow(cluster="anomalies", score=0.7, strength=5, values={"x": 9.0},
        ...                  z_scores={"x": 2.0})
        >>> panel = AnomaliesPanel(features=[FeatureInfo.numeric("x")], n_rows=9,
        ...     n_anomalies=1, top=10, strength_bounds=[0.7] * 4, moments=[],
        ...     anomalies=[row], regular=[])
        >>> panel.table().columns.tolist()
        ['cluster', 'anomaly_score', 'strength', 'x']
        """
        rows = [
            {
                "cluster": r.cluster,
                self.score_column: r.score,
                "strength": r.strength,
                **{f.name: r.values.get(f.name) for f in self.features},
            }
            for r in [*self.anomalies, *self.regular]
        ]
        columns = ["cluster", self.score_column, "strength", *(f.name for f in self.features)]
        return pd.DataFrame(rows, columns=columns)


def anomaly_strength(score: float, bounds: Sequence[float]) -> int:
    """Strength 1–5 of an anomaly: 1 + the number of ``bounds`` its score exceeds.

    Examples
    --------
    >>> [anomaly_strength(s, [0.6, 0.65, 0.7, 0.75]) for s in (0.55, 0.6, 0.61, 0.9)]
    [1, 1, 2, 5]
    """
    return 1 + sum(1 for bound in bounds if score > bound)


def z_score(value: Value, moments: FeatureMoments) -> float | None:
    """How many standard deviations ``value`` is from the feature's mean.

    Examples
    --------
    >>> z_score(7.0, FeatureMoments(feature="x", mean=5.0, std=2.0))
    1.0
    >>> z_score(7.0, FeatureMoments(feature="x", mean=5.0, std=0.0)) is None
    True
    """
    if value is None or isinstance(value, str) or moments.mean is None:
        return None
    if not moments.std or math.isnan(value):
        return None
    return (float(value) - moments.mean) / moments.std


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _value(value: Any, feature: FeatureInfo) -> Value:
    if value is None or pd.isna(value):
        return None
    return float(value) if feature.is_numeric else str(value)


def _rows(
    frame: pd.DataFrame,
    features: Sequence[FeatureInfo],
    moments: dict[str, FeatureMoments],
    bounds: Sequence[float] | None,
) -> list[AnomalyRow]:
    out = []
    for _, raw in frame.iterrows():
        values = {f.name: _value(raw[f"_f{i}"], f) for i, f in enumerate(features)}
        score = float(raw["_score"])
        out.append(
            AnomalyRow(
                cluster=str(raw["_cluster"]),
                score=score,
                strength=None if bounds is None else anomaly_strength(score, bounds),
                values=values,
                z_scores={n: z_score(values[n], m) for n, m in moments.items()},
            )
        )
    return out


def build_anomalies(
    table: Any,
    features: Sequence[FeatureInfo],
    *,
    score_column: str = SCORE_COLUMN,
    cluster_column: str = DEFAULT_CLUSTER_COLUMN,
    top: int = DEFAULT_TOP_ANOMALIES,
    regular: int = REGULAR_ROWS,
) -> AnomaliesPanel:
    """Build the anomalies panel from the scored training table of an Isolation Forest.

    Parameters
    ----------
    table : ibis.Table
        Feature columns, the cluster column (``regular`` / ``anomalies``) and the
        anomaly score column.
    features : sequence of FeatureInfo
        Features whose values are shown; numeric ones also get z-scores.
    score_column, cluster_column : str
        Columns holding the anomaly score and the cluster name.
    top : int
        Anomalies to list, highest score first (the design's "anomalies to display").
    regular : int
        Regular rows listed for comparison, lowest score first.
    """
    check_columns(list(table.columns), features, cluster_column)
    if score_column not in table.columns or score_column in {f.name for f in features}:
        raise InvalidInputError(
            f"The scored table needs the anomaly score column {score_column!r} apart from the "
            f"features (columns: {', '.join(table.columns)}); score it with an Isolation "
            "Forest model or pass score_column=."
        )
    if top < 1 or regular < 0:
        raise InvalidInputError(
            f"Anomalies to display must be at least 1 (got {top}) and regular rows at least "
            f"0 (got {regular})."
        )
    columns: dict[str, Any] = {
        "_cluster": table[cluster_column].cast("string"),
        "_score": table[score_column].cast("float64"),
    }
    for i, f in enumerate(features):
        col = table[f.name]
        columns[f"_f{i}"] = col.cast("float64") if f.is_numeric else col.cast("string")
    base = table.select(**columns)
    base = base.filter(base["_score"].notnull())
    numeric = [(i, f) for i, f in enumerate(features) if f.is_numeric]
    aggregates: dict[str, Any] = {
        "_n": base.count(),
        "_anomalies": (base["_cluster"] == ANOMALIES).cast("int64").sum(),
    }
    for i, _ in numeric:
        aggregates[f"_m{i}"] = base[f"_f{i}"].mean()
        aggregates[f"_s{i}"] = base[f"_f{i}"].std()
    summary = base.aggregate(**aggregates).to_pandas().iloc[0]
    moments = {
        f.name: FeatureMoments(
            feature=f.name, mean=_number(summary[f"_m{i}"]), std=_number(summary[f"_s{i}"])
        )
        for i, f in numeric
    }
    odd = base.filter(base["_cluster"] == ANOMALIES)
    n_anomalies = int(_number(summary["_anomalies"]) or 0)
    bounds: list[float] = []
    if n_anomalies:
        quantiles = {f"_q{k}": odd["_score"].quantile(q) for k, q in enumerate(STRENGTH_QUANTILES)}
        found = odd.aggregate(**quantiles).to_pandas().iloc[0]
        bounds = [float(found[f"_q{k}"]) for k in range(len(STRENGTH_QUANTILES))]
    top_rows = odd.order_by(ibis.desc("_score")).limit(top).to_pandas()
    typical = base.filter(base["_cluster"] == REGULAR).order_by("_score").limit(regular)
    regular_rows = typical.to_pandas()
    return AnomaliesPanel(
        score_column=score_column,
        cluster_column=cluster_column,
        features=list(features),
        n_rows=int(summary["_n"]),
        n_anomalies=n_anomalies,
        top=top,
        strength_bounds=bounds,
        moments=list(moments.values()),
        anomalies=_rows(top_rows, features, moments, bounds),
        regular=_rows(regular_rows, features, moments, None),
    )
