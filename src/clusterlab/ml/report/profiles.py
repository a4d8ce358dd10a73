"""The cluster profiles panel: each feature's distribution overall and per cluster.

Numeric features are cut into 60 equal-width bins between the global min and max;
every row of the panel (the "Overall distribution" and one per cluster) uses the same
bins, so the x axis is shared. Bars are shares of that row's rows; rows without a
value are reported as ``missing_share`` so bars plus missing add up to 1.
Categorical features show their top 30 levels (missing values are a level, and the
remaining levels are gathered in one "(other values)" bar).

Box statistics (p9, p25, median, p75, p91) are exact quantiles, one multi-quantile
per feature. Counts, means, standard deviations and missing shares come from the
report's statistics over every row; bins and box statistics may be read from a
uniform sample of the rows (``sample``), which keeps the panel's cost bounded: its
shares then split each row's non-missing share in the proportions the sample shows.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import ibis
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from clusterlab.core.errors import NotFoundError
from clusterlab.ml.report.inputs import OTHER_LEVEL, FeatureInfo
from clusterlab.ml.report.queries import query_arrow
from clusterlab.ml.report.stats import (
    CLUSTER,
    DEFAULT_MAX_LEVELS,
    NumericSummary,
    ReportStats,
    prepared_table,
)

OVERALL = "Overall distribution"
DEFAULT_BINS = 60
BOX_QUANTILES = (0.09, 0.25, 0.5, 0.75, 0.91)


class BoxStats(BaseModel):
    """Whiskers at p9/p91, box from p25 to p75, and the median."""

    model_config = ConfigDict(frozen=True)

    p9: float
    p25: float
    median: float
    p75: float
    p91: float


class DistributionRow(BaseModel):
    """One row of a profile: the overall distribution or one cluster's."""

    model_config = ConfigDict(frozen=True)

    name: str
    count: int
    shares: list[float]
    missing_share: float = 0.0
    mean: float | None = None
    std: float | None = None
    median: float | None = None
    box: BoxStats | None = None


class FeatureProfile(BaseModel):
    """The distributions of one feature, on bins (numeric) or levels (categorical)."""

    model_config = ConfigDict(frozen=True)

    feature: str
    is_numeric: bool
    bin_edges: list[float] = []
    levels: list[str] = []
    overall: DistributionRow
    clusters: list[DistributionRow]

    @property
    def rows(self) -> list[DistributionRow]:
        """The overall row followed by one row per cluster."""
        return [self.overall, *self.clusters]

    @property
    def x(self) -> list[float] | list[str]:
        """Bar positions: bin centers for numeric features, levels for categorical ones."""
        if not self.is_numeric:
            return list(self.levels)
        edges = self.bin_edges
        return [(a + b) / 2 for a, b in itertools.pairwise(edges)]


def profile_for(profiles: Sequence[FeatureProfile], feature: str) -> FeatureProfile:
    """Pick the profile of ``feature`` (the panel's feature picker)."""
    for profile in profiles:
        if profile.feature == feature:
            return profile
    names = ", ".join(p.feature for p in profiles)
    raise NotFoundError(f"No profile for feature {feature!r}; the features are: {names}.")


def _bin_layout(summary: NumericSummary, bins: int) -> tuple[list[float], float]:
    """Bin edges and width; a constant feature gets one unit-wide bin around its value."""
    lo, hi = summary.minimum, summary.maximum
    if lo is None or hi is None:
        return [], 0.0
    if hi == lo:
        return [lo - 0.5, lo + 0.5], 0.0
    width = (hi - lo) / bins
    return [lo + k * width for k in range(bins)] + [hi], width


Layout = tuple[int, float, float, int]
"""A numeric feature's histogram: its position, minimum, bin width and number of bins."""


def _histogram_query(
    table: Any, features: tuple[FeatureInfo, ...], cluster_column: str, layouts: tuple[Layout, ...]
) -> Any:
    base = prepared_table(table, features, cluster_column)
    parts = []
    for i, minimum, width, n_bins in layouts:
        col = base[f"_f{i}"]
        if width > 0:
            # floor((x - min) / width), the max itself falling in the last bin. Plain
            # least/greatest: clip() compiles to CASEs that recompute the floor four
            # times per row, and null values are filtered out below anyway.
            raw = ((col - minimum) / width).floor()
            index = ibis.greatest(ibis.least(raw, n_bins - 1), 0)
        else:
            index = ibis.literal(0)
        parts.append(
            base.filter(col.notnull()).select(
                CLUSTER, _feature=ibis.literal(i, type="int64"), _bin=index.cast("int64")
            )
        )
    stacked = ibis.union(*parts)
    return stacked.group_by([CLUSTER, "_feature", "_bin"]).aggregate(_n=stacked.count())


def _quantile_query(
    table: Any,
    features: tuple[FeatureInfo, ...],
    cluster_column: str,
    indices: tuple[int, ...],
    per_cluster: bool,
) -> Any:
    base = prepared_table(table, features, cluster_column)
    # One exact multi-quantile per feature: measured on 1M rows x 15 features, 7x faster
    # than five approximate quantiles each, and the same figures on every engine.
    metrics = {f"_q{i}": base[f"_f{i}"].quantile(list(BOX_QUANTILES)) for i in indices}
    return base.group_by(CLUSTER).aggregate(**metrics) if per_cluster else base.aggregate(**metrics)


def _box(row: pd.Series, i: int) -> BoxStats | None:
    found = row[f"_q{i}"]
    # A feature with no value in a cluster gives a missing value, not a list.
    values = list(found) if isinstance(found, list | tuple | np.ndarray) else []
    if len(values) != len(BOX_QUANTILES) or any(v is None or pd.isna(v) for v in values):
        return None
    p9, p25, median, p75, p91 = (float(v) for v in values)
    return BoxStats(p9=p9, p25=p25, median=median, p75=p75, p91=p91)


def _numeric_row(
    name: str,
    size: int,
    counts: Sequence[float],
    summary: NumericSummary,
    box: BoxStats | None,
) -> DistributionRow:
    # counts/counted x count/size: counts/size when counted over every row; from a
    # sample, the sample's proportions of the exact non-missing share.
    counted = sum(counts)
    scale = summary.count / size / counted if size and counted else 0.0
    return DistributionRow(
        name=name,
        count=size,
        shares=[c * scale for c in counts],
        missing_share=(size - summary.count) / size if size else 0.0,
        mean=summary.mean,
        std=summary.std if summary.count else None,
        median=box.median if box else None,
        box=box,
    )


def _bin_counts(
    hist: pd.DataFrame, feature: int, clusters: Sequence[str], n_bins: int
) -> dict[str, list[int]]:
    """Rows per (cluster, bin) of one feature, zeros where the query found none."""
    grid = np.zeros((len(clusters), n_bins), dtype=np.int64)
    if not hist.empty:
        part = hist[hist["_feature"] == feature]
        position = {c: k for k, c in enumerate(clusters)}
        rows = part[CLUSTER].astype(str).map(position).to_numpy(dtype=np.int64)
        bins = part["_bin"].to_numpy(dtype=np.int64)
        np.add.at(grid, (rows, bins), part["_n"].to_numpy(dtype=np.int64))
    return {c: grid[k].tolist() for k, c in enumerate(clusters)}


def _overall_counts(
    counts: dict[str, list[int]], summaries: dict[str, NumericSummary]
) -> list[float]:
    """The overall row's bins: each cluster's bins weighted to its non-missing count.

    Counted over every row this is their plain sum; from a sample stratified on the
    clusters, it undoes the sample's over-representation of small clusters.
    """
    totals = np.zeros(len(next(iter(counts.values()), [])))
    for cluster, row in counts.items():
        counted = sum(row)
        if counted:
            totals += np.asarray(row, dtype=np.float64) * (summaries[cluster].count / counted)
    return totals.tolist()


def _numeric_profiles(
    table: Any, stats: ReportStats, indices: list[int], bins: int
) -> dict[int, FeatureProfile]:
    """The numeric features' profiles, from three queries on ``table`` (`query_arrow`:
    on DuckDB each compiled once per process, not at every model's first view)."""
    columns = (stats.features, stats.cluster_column)
    layouts: list[Layout] = []
    edges: dict[int, list[float]] = {}
    n_bins: dict[int, int] = {}
    for i in indices:
        summary = stats.numeric_global[stats.features[i].name]
        edges[i], width = _bin_layout(summary, bins)
        n_bins[i] = max(len(edges[i]) - 1, 0)
        if n_bins[i] > 0:
            layouts.append((i, float(summary.minimum or 0.0), width, n_bins[i]))
    hist = pd.DataFrame()
    if layouts:
        hist = query_arrow(table, _histogram_query, *columns, tuple(layouts)).to_pandas()
    wanted = tuple(indices)
    per_cluster = query_arrow(table, _quantile_query, *columns, wanted, True).to_pandas()
    overall_q = query_arrow(table, _quantile_query, *columns, wanted, False).to_pandas().iloc[0]
    quantiles = {str(r[CLUSTER]): r for _, r in per_cluster.iterrows()}
    result = {}
    for i in indices:
        name = stats.features[i].name
        counts = _bin_counts(hist, i, stats.clusters, n_bins[i])
        totals = _overall_counts(counts, stats.numeric[name])
        rows = [
            _numeric_row(
                c, stats.sizes[c], counts[c], stats.numeric[name][c], _box(quantiles[c], i)
            )
            for c in stats.clusters
        ]
        overall = _numeric_row(
            OVERALL, stats.n_rows, totals, stats.numeric_global[name], _box(overall_q, i)
        )
        result[i] = FeatureProfile(
            feature=name, is_numeric=True, bin_edges=edges[i], overall=overall, clusters=rows
        )
    return result


def _level_row(name: str, size: int, counts: list[int], with_other: bool) -> DistributionRow:
    values = [*counts, size - sum(counts)] if with_other else counts
    return DistributionRow(
        name=name, count=size, shares=[v / size if size else 0.0 for v in values]
    )


def _categorical_profile(stats: ReportStats, feature: str, max_levels: int) -> FeatureProfile:
    levels = list(stats.levels[feature][:max_levels])
    totals = [stats.level_totals[feature][lvl] for lvl in levels]
    # Levels beyond the top ones still are rows of the cluster: one bar keeps shares whole.
    with_other = stats.n_rows > sum(totals)
    clusters = [
        _level_row(
            c, stats.sizes[c], [stats.level_count(feature, lvl, c) for lvl in levels], with_other
        )
        for c in stats.clusters
    ]
    return FeatureProfile(
        feature=feature,
        is_numeric=False,
        levels=[*levels, OTHER_LEVEL] if with_other else levels,
        overall=_level_row(OVERALL, stats.n_rows, totals, with_other),
        clusters=clusters,
    )


def build_profiles(
    table: Any,
    stats: ReportStats,
    *,
    bins: int = DEFAULT_BINS,
    max_levels: int = DEFAULT_MAX_LEVELS,
    sample: Any = None,
) -> list[FeatureProfile]:
    """Build one profile per feature, in the order of ``stats.features``.

    Runs three grouped queries whatever the number of numeric features (histograms,
    per-cluster quantiles, global quantiles); categorical profiles reuse ``stats``.

    Parameters
    ----------
    table : ibis.Table
        The scored table ``stats`` was computed from.
    stats : ReportStats
        From `clusterlab.ml.report.stats.compute_stats` (gives min, max, means, levels).
    bins : int
        Equal-width bins between the global min and max of a numeric feature.
    max_levels : int
        Most frequent levels shown for a categorical feature.
    sample : ibis.Table, optional
        A uniform sample of ``table``'s rows (same columns) to read the numeric bins
        and box statistics from, instead of every row.

    Examples
    --------
    >>> import ibis
    >>> from clusterlab.ml.report.inputs import FeatureInfo
    >>> from clusterlab.ml.report.stats import compute_stats
    >>> t = ibis.memtable({"x": [0.0, 1.0, 2.0, 6.0], "cluster": ["a", "a", "b", "b"]})
    >>> stats = compute_stats(t, [FeatureInfo.numeric("x")])
    >>> p = build_profiles(t, stats, bins=3)[0]
    >>> p.bin_edges, p.clusters[0].shares, p.overall.shares
    ([0.0, 2.0, 4.0, 6.0], [1.0, 0.0, 0.0], [0.5, 0.25, 0.25])
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins}.")
    numeric = [i for i, f in enumerate(stats.features) if f.is_numeric]
    built: dict[int, FeatureProfile] = {}
    if numeric:
        built = _numeric_profiles(table if sample is None else sample, stats, numeric, bins)
    return [
        built[i] if f.is_numeric else _categorical_profile(stats, f.name, max_levels)
        for i, f in enumerate(stats.features)
    ]
