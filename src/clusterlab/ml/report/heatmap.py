"""The heatmap panel: how far each cluster sits from the whole population, per feature.

Rows are the raw numeric features and each categorical level (``feature=level``);
columns are clusters. A cell holds the "relative importance", a two-sample
z-like statistic as in DSS:

- numeric: ``(m_c - m_g) / sqrt(s_c² / n_c + s_g² / n_g)``
- level:   ``(p_c - p_g) / sqrt(p_c (1 - p_c) / n_c + p_g (1 - p_g) / n_g)``

and ±100 (the sign of the numerator; 0 when it is 0) when the denominator is 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from clusterlab.core.errors import NotFoundError
from clusterlab.ml.report.formatting import format_number, format_percent
from clusterlab.ml.report.stats import DEFAULT_MAX_LEVELS, ReportStats

SATURATED = 100.0
"""Value of a cell whose denominator is 0 (a difference with no spread at all)."""
NUMERIC_ONLY_ABOVE = 100
"""Above this many rows the heatmap opens on numeric features only, as in DSS."""
EXPORT_COLUMNS = (
    "cluster_label",
    "feature",
    "is_numeric_feature",
    "global_mean",
    "mean",
    "global_std",
    "std",
    "proportion",
    "global_proportion",
    "relative_importance",
)


def _ratio(numerator: float, variance: float, same: bool) -> float:
    if variance > 0:
        return numerator / math.sqrt(variance)
    # Means computed by different aggregations may differ in the last bits: equal
    # within rounding counts as equal, not as a saturated ±100.
    if same or numerator == 0:
        return 0.0
    return math.copysign(SATURATED, numerator)


def relative_importance_numeric(
    mean: float, std: float, count: int, global_mean: float, global_std: float, global_count: int
) -> float:
    """Relative importance of a cluster mean against the global mean.

    Examples
    --------
    >>> round(relative_importance_numeric(5.0, 1.0, 4, 3.0, 2.0, 16), 6)
    2.828427
    >>> relative_importance_numeric(5.0, 0.0, 4, 3.0, 0.0, 16)
    100.0
    """
    variance = (std**2 / count if count else 0.0) + (
        global_std**2 / global_count if global_count else 0.0
    )
    same = math.isclose(mean, global_mean, rel_tol=1e-9, abs_tol=1e-12)
    return _ratio(mean - global_mean, variance, same)


def relative_importance_level(
    proportion: float, count: int, global_proportion: float, global_count: int
) -> float:
    """Relative importance of a level's share in a cluster against its global share.

    Examples
    --------
    >>> round(relative_importance_level(0.5, 20, 0.25, 80), 6)
    2.051957
    >>> relative_importance_level(0.0, 20, 1.0, 80)
    -100.0
    """
    p_c, p_g = proportion, global_proportion
    variance = (p_c * (1 - p_c) / count if count else 0.0) + (
        p_g * (1 - p_g) / global_count if global_count else 0.0
    )
    same = math.isclose(p_c, p_g, rel_tol=1e-9, abs_tol=1e-12)
    return _ratio(p_c - p_g, variance, same)


class HeatmapCell(BaseModel):
    """One (feature row, cluster) cell; ``count`` is the n used in the formula."""

    model_config = ConfigDict(frozen=True)

    cluster: str
    value: float
    count: int
    mean: float | None = None
    std: float | None = None
    proportion: float | None = None


class HeatmapRow(BaseModel):
    """A numeric feature or a categorical level, with one cell per cluster."""

    model_config = ConfigDict(frozen=True)

    label: str
    feature: str
    level: str | None = None
    is_numeric: bool
    global_mean: float | None = None
    global_std: float | None = None
    global_proportion: float | None = None
    cells: list[HeatmapCell]

    def cell(self, cluster: str) -> HeatmapCell:
        """Return the cell of ``cluster`` or raise `NotFoundError`."""
        for cell in self.cells:
            if cell.cluster == cluster:
                return cell
        raise NotFoundError(f"No cluster {cluster!r} in heatmap row {self.label!r}.")

    def hover_text(self, cell: HeatmapCell) -> str:
        """Hover text of a cell: average (global, ±%) and std, or the shares."""
        head = f"<b>{cell.cluster}</b> · {self.label}"
        if not self.is_numeric:
            share = format_percent(100 * (cell.proportion or 0.0))
            overall = format_percent(100 * (self.global_proportion or 0.0))
            lines = [head, f"Share: {share}% (global {overall}%)"]
        elif cell.mean is None or self.global_mean is None:
            lines = [head, "Average: no value in this cluster"]
        else:
            change = ""
            if self.global_mean != 0:
                pct = 100 * (cell.mean - self.global_mean) / abs(self.global_mean)
                change = f", {'+' if pct >= 0 else '-'}{format_percent(abs(pct))}%"
            lines = [
                head,
                f"Average: {format_number(cell.mean)} "
                f"(global {format_number(self.global_mean)}{change})",
                f"Std: {format_number(cell.std or 0.0)} "
                f"(global {format_number(self.global_std or 0.0)})",
            ]
        lines.append(f"Relative importance: {format_number(cell.value)}")
        return "<br>".join(lines)


class Heatmap(BaseModel):
    """Relative importances of every feature row (rows) for every cluster (columns).

    Examples
    --------
    >>> import ibis
    >>> from clusterlab.ml.report.inputs import features_of
    >>> from clusterlab.ml.report.stats import compute_stats
    >>> t = ibis.memtable({"x": [1.0, 2.0, 8.0, 9.0], "c": ["u", "u", "v", "u"],
    ...                    "cluster": ["a", "a", "b", "b"]})
    >>> h = build_heatmap(compute_stats(t, features_of(["x"], ["c"])))
    >>> [r.label for r in h.rows], h.clusters
    (['x', 'c=u', 'c=v'], ['a', 'b'])
    >>> [r.label for r in h.sorted_by_cluster("a").rows][0]
    'x'
    """

    model_config = ConfigDict(frozen=True)

    clusters: list[str]
    rows: list[HeatmapRow]

    @property
    def labels(self) -> list[str]:
        """Row labels, top to bottom."""
        return [r.label for r in self.rows]

    def values(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The matrix of relative importances, rows × clusters."""
        return np.array([[c.value for c in r.cells] for r in self.rows], dtype=np.float64).reshape(
            len(self.rows), len(self.clusters)
        )

    def row(self, label: str) -> HeatmapRow:
        """Return the row called ``label`` (``feature`` or ``feature=level``)."""
        for row in self.rows:
            if row.label == label:
                return row
        raise NotFoundError(f"No heatmap row {label!r}; the rows are: {', '.join(self.labels)}.")

    def sorted_by_cluster(self, cluster: str) -> Heatmap:
        """Rows reordered by |value| in ``cluster``, largest first (a click on a column)."""
        if cluster not in self.clusters:
            raise NotFoundError(f"No cluster {cluster!r}; the clusters are: {self.clusters}.")
        rows = sorted(self.rows, key=lambda r: abs(r.cell(cluster).value), reverse=True)
        return Heatmap(clusters=self.clusters, rows=rows)

    def sorted_by_feature(self, label: str) -> Heatmap:
        """Clusters reordered by their value on row ``label``, highest first (a click on a row)."""
        key = self.row(label)
        order = sorted(self.clusters, key=lambda c: key.cell(c).value, reverse=True)
        rows = [r.model_copy(update={"cells": [r.cell(c) for c in order]}) for r in self.rows]
        return Heatmap(clusters=order, rows=rows)

    def filtered(self, *, numeric_only: bool = False, feature: str | None = None) -> Heatmap:
        """Keep all rows (default), the numeric ones, or the levels of one categorical feature."""
        if feature is not None:
            rows = [r for r in self.rows if r.feature == feature and not r.is_numeric]
            if not rows:
                raise NotFoundError(
                    f"No categorical feature {feature!r} in the heatmap; "
                    f"choose one of: {', '.join(self.categorical_features)}."
                )
        elif numeric_only:
            rows = [r for r in self.rows if r.is_numeric]
        else:
            rows = list(self.rows)
        return Heatmap(clusters=self.clusters, rows=rows)

    @property
    def categorical_features(self) -> list[str]:
        """Categorical features with at least one level row, for the filter picker."""
        return list(dict.fromkeys(r.feature for r in self.rows if not r.is_numeric))

    def default_view(self) -> Heatmap:
        """What the panel opens on: numeric rows only when there are more than 100 rows."""
        return self.filtered(numeric_only=len(self.rows) > NUMERIC_ONLY_ABOVE)

    def to_table(self) -> pd.DataFrame:
        """Export: one line per (cluster, row) with the columns of `EXPORT_COLUMNS`."""
        records = [
            (
                cell.cluster,
                row.label,
                row.is_numeric,
                row.global_mean,
                cell.mean,
                row.global_std,
                cell.std,
                cell.proportion,
                row.global_proportion,
                cell.value,
            )
            for row in self.rows
            for cell in row.cells
        ]
        table = pd.DataFrame.from_records(records, columns=list(EXPORT_COLUMNS))
        # Missing values (mean of a level, share of a number) export as NaN in float columns.
        floats = {c: "float64" for c in EXPORT_COLUMNS[3:]}
        return table.astype(floats | {"is_numeric_feature": "bool"})


def _numeric_row(stats: ReportStats, feature: str) -> HeatmapRow:
    overall = stats.numeric_global[feature]
    cells = []
    for cluster in stats.clusters:
        s = stats.numeric[feature][cluster]
        value = 0.0
        if s.mean is not None and overall.mean is not None:
            value = relative_importance_numeric(
                s.mean, s.std, s.count, overall.mean, overall.std, overall.count
            )
        std = s.std if s.count else None
        cells.append(HeatmapCell(cluster=cluster, value=value, count=s.count, mean=s.mean, std=std))
    return HeatmapRow(
        label=feature,
        feature=feature,
        is_numeric=True,
        global_mean=overall.mean,
        global_std=overall.std if overall.count else None,
        cells=cells,
    )


def _level_row(stats: ReportStats, feature: str, level: str) -> HeatmapRow:
    n = stats.n_rows
    p_g = stats.level_totals[feature][level] / n
    cells = []
    for cluster in stats.clusters:
        size = stats.sizes[cluster]
        p_c = stats.level_count(feature, level, cluster) / size
        value = relative_importance_level(p_c, size, p_g, n)
        cells.append(HeatmapCell(cluster=cluster, value=value, count=size, proportion=p_c))
    return HeatmapRow(
        label=f"{feature}={level}",
        feature=feature,
        level=level,
        is_numeric=False,
        global_proportion=p_g,
        cells=cells,
    )


def build_heatmap(stats: ReportStats, *, max_levels: int = DEFAULT_MAX_LEVELS) -> Heatmap:
    """Build the heatmap: numeric features first, then the top levels of each categorical one.

    Parameters
    ----------
    stats : ReportStats
        From `clusterlab.ml.report.stats.compute_stats`.
    max_levels : int
        Most frequent levels shown per categorical feature (missing values are a level).

    Examples
    --------
    >>> import ibis
    >>> from clusterlab.ml.report.inputs import FeatureInfo
    >>> from clusterlab.ml.report.stats import compute_stats
    >>> t = ibis.memtable({"x": [1.0, 3.0, 5.0, 7.0], "cluster": ["a", "a", "b", "b"]})
    >>> h = build_heatmap(compute_stats(t, [FeatureInfo.numeric("x")]))
    >>> h.values().round(3).tolist()
    [[-1.225, 1.225]]
    """
    rows = [_numeric_row(stats, f) for f in stats.numeric_features]
    for feature in stats.categorical_features:
        rows.extend(_level_row(stats, feature, lvl) for lvl in stats.levels[feature][:max_levels])
    return Heatmap(clusters=list(stats.clusters), rows=rows)
