"""Summary observations: the sentences shown under each cluster, ranked by |diff|.

Wording and rules reproduce DSS so that its users read the same facts:

- numeric feature, cluster mean ``m`` and global mean ``g`` of the same sign:
  ``<feature> is in average <d>% <greater|smaller> : mean of <m> against <g> globally``
  with ``d = |m - g| * 100 / |g|`` and "(in absolute value)" after greater/smaller
  when ``g < 0``; otherwise ``The mean of <feature> is <m> against <g> across all
  clusters``. ``diff = (m - g) / global std``; features with a global std of 0 are
  skipped.
- categorical feature: among its 10 most frequent levels, those with
  ``count * (1 - share) > 10``; per cluster the smoothed share
  ``s = (n_level_in_cluster + 10 q) / (n_cluster + 10)`` must reach 0.3; the sentence
  is ``<p>% of the cluster has <level> for <feature> (against <q>% globally)``,
  prefixed by "Only " when ``p < q``; ``diff = (q - s) / q``.

Numbers are formatted by `clusterlab.ml.report.formatting`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

from pydantic import BaseModel, ConfigDict

from clusterlab.core.errors import NotFoundError
from clusterlab.ml.report.formatting import format_number, format_percent
from clusterlab.ml.report.inputs import MISSING_LEVEL, FeatureKind
from clusterlab.ml.report.stats import ReportStats

TOP_LEVELS = 10
"""Most frequent levels of a categorical feature considered for observations."""
MIN_OTHER_ROWS = 10
"""A level needs ``count * (1 - share)`` above this: enough rows do *not* have it."""
SMOOTHING_ROWS = 10
"""Pseudo-rows pulling a cluster's share towards the global share (small clusters)."""
MIN_SMOOTHED_SHARE = 0.3
"""Smallest smoothed cluster share for which a level is worth a sentence."""
MAX_NAME_LENGTH = 60


class Observation(BaseModel):
    """One ranked fact about a cluster.

    ``cluster_value`` and ``global_value`` are means for a numeric feature and shares
    (0–1) for a categorical level.
    """

    model_config = ConfigDict(frozen=True)

    cluster: str
    feature: str
    kind: FeatureKind
    level: str | None = None
    text: str
    diff: float
    cluster_value: float
    global_value: float


class ClusterObservations(BaseModel):
    """The top observations of one cluster, most telling first."""

    model_config = ConfigDict(frozen=True)

    cluster: str
    observations: list[Observation]


class ObservationsReport(BaseModel):
    """Top observations per cluster and the top ones over all clusters."""

    model_config = ConfigDict(frozen=True)

    clusters: list[ClusterObservations]
    overall: list[Observation]

    def for_cluster(self, cluster: str) -> ClusterObservations:
        """Return the observations of ``cluster`` or raise `NotFoundError`."""
        for item in self.clusters:
            if item.cluster == cluster:
                return item
        names = ", ".join(c.cluster for c in self.clusters)
        raise NotFoundError(f"No cluster {cluster!r} in the report; the clusters are: {names}.")


def numeric_observation(
    cluster: str, feature: str, mean: float, global_mean: float, global_std: float
) -> Observation | None:
    """Describe a cluster mean against the global one, or None when the std is 0.

    Examples
    --------
    >>> numeric_observation("c0", "count", 4.77, 1.0, 2.0).text
    'count is in average 377% greater : mean of 4.77 against 1 globally'
    >>> numeric_observation("c0", "delta", -3.0, -2.0, 1.0).text
    'delta is in average 50% greater (in absolute value) : mean of -3 against -2 globally'
    >>> numeric_observation("c0", "delta", 1.5, -2.0, 1.0).text
    'The mean of delta is 1.5 against -2 across all clusters'
    """
    if not global_std > 0:
        return None
    m, g = mean, global_mean
    if m * g > 0:
        d = abs(m - g) * 100 / abs(g)
        direction = "greater" if abs(m) > abs(g) else "smaller"
        if g < 0:
            direction += " (in absolute value)"
        text = (
            f"{feature} is in average {format_percent(d)}% {direction} : "
            f"mean of {format_number(m)} against {format_number(g)} globally"
        )
    else:
        # A relative change means nothing across zero, so only the two means are given.
        text = (
            f"The mean of {feature} is {format_number(m)} against {format_number(g)} "
            "across all clusters"
        )
    return Observation(
        cluster=cluster,
        feature=feature,
        kind=FeatureKind.NUMERIC,
        text=text,
        diff=(m - g) / global_std,
        cluster_value=m,
        global_value=g,
    )


def categorical_observation(
    cluster: str, feature: str, level: str, n_level: int, n_cluster: int, global_share: float
) -> Observation | None:
    """Describe a level's share in a cluster, or None when its smoothed share is below 0.3.

    Examples
    --------
    >>> categorical_observation("c0", "country", "France", 40, 50, 0.3).text
    '80% of the cluster has France for country (against 30% globally)'
    >>> categorical_observation("c0", "country", "France", 20, 50, 0.6).text
    'Only 40% of the cluster has France for country (against 60% globally)'
    """
    q = global_share
    s = (n_level + SMOOTHING_ROWS * q) / (n_cluster + SMOOTHING_ROWS)
    if s < MIN_SMOOTHED_SHARE or q <= 0:
        return None
    p = n_level / n_cluster if n_cluster else 0.0
    prefix = "Only " if p < q else ""
    text = (
        f"{prefix}{format_percent(100 * p)}% of the cluster has {level} for {feature} "
        f"(against {format_percent(100 * q)}% globally)"
    )
    return Observation(
        cluster=cluster,
        feature=feature,
        kind=FeatureKind.CATEGORICAL,
        level=level,
        text=text,
        diff=(q - s) / q,
        cluster_value=p,
        global_value=q,
    )


def candidate_levels(stats: ReportStats, feature: str) -> list[str]:
    """Levels of ``feature`` that may yield observations (top 10, enough other rows).

    Examples
    --------
    >>> import ibis
    >>> from clusterlab.ml.report.inputs import FeatureInfo
    >>> from clusterlab.ml.report.stats import compute_stats
    >>> t = ibis.memtable({"c": ["a"] * 100 + ["b"] * 20 + ["c"] * 5, "cluster": ["k"] * 125})
    >>> candidate_levels(compute_stats(t, [FeatureInfo.categorical("c")]), "c")
    ['a', 'b']
    """
    n = stats.n_rows
    kept = []
    for level in stats.levels[feature][:TOP_LEVELS]:
        count = stats.level_totals[feature][level]
        if count * (1 - count / n) > MIN_OTHER_ROWS:
            kept.append(level)
    return kept


def _all_observations(stats: ReportStats, cluster: str) -> Iterator[Observation]:
    for feature in stats.numeric_features:
        summary = stats.numeric[feature][cluster]
        overall = stats.numeric_global[feature]
        if summary.mean is not None and overall.mean is not None:
            obs = numeric_observation(cluster, feature, summary.mean, overall.mean, overall.std)
            if obs is not None:
                yield obs
    for feature in stats.categorical_features:
        for level in candidate_levels(stats, feature):
            q = stats.level_totals[feature][level] / stats.n_rows
            n_level = stats.level_count(feature, level, cluster)
            obs = categorical_observation(cluster, feature, level, n_level, stats.sizes[cluster], q)
            if obs is not None:
                yield obs


def _ranked(observations: Sequence[Observation]) -> list[Observation]:
    # sorted() is stable: ties keep feature order, so the output is deterministic.
    return sorted(observations, key=lambda o: abs(o.diff), reverse=True)


def build_observations(
    stats: ReportStats, *, per_cluster: int = 3, overall: int = 10
) -> ObservationsReport:
    """Rank the observations of every cluster by |diff|.

    Parameters
    ----------
    stats : ReportStats
        From `clusterlab.ml.report.stats.compute_stats`.
    per_cluster, overall : int
        How many observations to keep under each cluster, and over all clusters.

    Examples
    --------
    >>> import ibis
    >>> from clusterlab.ml.report.inputs import FeatureInfo
    >>> from clusterlab.ml.report.stats import compute_stats
    >>> t = ibis.memtable({"x": [1.0, 1.0, 1.0, 9.0], "cluster": ["a", "a", "a", "b"]})
    >>> report = build_observations(compute_stats(t, [FeatureInfo.numeric("x")]))
    >>> report.for_cluster("b").observations[0].text
    'x is in average 200% greater : mean of 9 against 3 globally'
    """
    everything: list[Observation] = []
    clusters = []
    for cluster in stats.clusters:
        ranked = _ranked(list(_all_observations(stats, cluster)))
        everything.extend(ranked)
        clusters.append(ClusterObservations(cluster=cluster, observations=ranked[:per_cluster]))
    return ObservationsReport(clusters=clusters, overall=_ranked(everything)[:overall])


def _phrase(obs: Observation) -> str:
    if obs.kind is FeatureKind.NUMERIC:
        return f"{'High' if obs.cluster_value > obs.global_value else 'Low'} {obs.feature}"
    level = "missing" if obs.level == MISSING_LEVEL else str(obs.level)
    phrase = f"{level} {obs.feature}"
    if obs.cluster_value < obs.global_value:
        return f"Few {phrase}"
    return phrase[:1].upper() + phrase[1:] if obs.level == MISSING_LEVEL else phrase


def _shorten(name: str) -> str:
    return name if len(name) <= MAX_NAME_LENGTH else name[: MAX_NAME_LENGTH - 1] + "…"


def suggest_name(cluster_observations: ClusterObservations | Sequence[Observation]) -> str:
    """Suggest a short cluster name from its top observation ("" when it has none).

    Numeric: "High <feature>" or "Low <feature>"; categorical: "<level> <feature>", or
    "Few <level> <feature>" when the level is rarer in the cluster than overall.

    Examples
    --------
    >>> obs = numeric_observation("c0", "count", 4.77, 1.0, 2.0)
    >>> suggest_name([obs])
    'High count'
    >>> suggest_name([categorical_observation("c1", "country", "France", 40, 50, 0.3)])
    'France country'
    """
    items = (
        cluster_observations.observations
        if isinstance(cluster_observations, ClusterObservations)
        else list(cluster_observations)
    )
    return _shorten(_phrase(items[0])) if items else ""


def suggest_names(report: ObservationsReport) -> dict[str, str]:
    """Suggest a distinct name per cluster ("" for clusters without observations).

    Clusters whose top observation gives the same name get their second observation
    appended, then a number if they still collide.

    Examples
    --------
    >>> a = numeric_observation("a", "x", 9.0, 3.0, 4.0)
    >>> b = numeric_observation("b", "x", 8.0, 3.0, 4.0)
    >>> r = ObservationsReport(
    ...     clusters=[ClusterObservations(cluster="a", observations=[a]),
    ...               ClusterObservations(cluster="b", observations=[b])], overall=[a, b])
    >>> suggest_names(r)
    {'a': 'High x', 'b': 'High x 2'}
    """
    base = {c.cluster: suggest_name(c) for c in report.clusters}
    repeats = Counter(name for name in base.values() if name)
    names: dict[str, str] = {}
    for item in report.clusters:
        name = base[item.cluster]
        if name and repeats[name] > 1 and len(item.observations) > 1:
            name = _shorten(f"{name}, {_phrase(item.observations[1])}")
        names[item.cluster] = name
    seen: dict[str, int] = {}
    for cluster, name in names.items():
        if not name:
            continue
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            names[cluster] = f"{name} {seen[name]}"
    return names
