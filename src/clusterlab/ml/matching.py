"""Names that survive retraining: match a new model version's clusters to the previous one's.

Two ways to decide which new cluster continues which old one:

- **centroids** (`match_centroids`), for algorithms that define clusters by centroids:
  the Hungarian assignment (minimum total distance) between old and new centroids.
  A pair farther apart than ``radius_factor`` × the larger of the two clusters' radii
  (root mean square distance of their rows to their centroid), or than
  ``max_distance``, is not a match.
- **overlap** (`match_overlap`), for the others: both versions label the same rows;
  the Hungarian assignment maximizes the Jaccard index of the member sets, and a pair
  below ``min_jaccard`` is not a match.

A new cluster without a match is a **birth**; an old cluster without one a **death**.
From the rows both versions labelled (the contingency table) come **splits** (an old
cluster of which ≥ 2 new clusters each take at least ``min_share`` of the rows) and
**merges** (a new cluster taking at least ``min_share`` of each of ≥ 2 old clusters).
The special clusters ``noise``, ``cluster_outliers``, ``regular`` and ``anomalies``
match themselves by name. `inherit_metadata` then gives each new cluster the name,
color and description of the old cluster it continues, and fresh names to births.

`match_models` does it all for a retrain: it labels the new training rows with the old
model and compares the versions in the old model's space.

Examples
--------
>>> old = {"cluster_0": [0.0, 0.0], "cluster_1": [10.0, 0.0]}
>>> new = {"cluster_0": [10.2, 0.1], "cluster_1": [0.1, 0.0], "cluster_2": [0.0, 50.0]}
>>> matching = match_centroids(old, new, max_distance=5.0)
>>> matching.inherited()
{'cluster_0': 'cluster_1', 'cluster_1': 'cluster_0'}
>>> matching.births, matching.deaths
(['cluster_2'], [])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

# SciPy ships no type information; scipy-stubs is not a dependency of ours.
from scipy.optimize import linear_sum_assignment  # type: ignore[import-untyped]

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.lab import ClusterMeta
from clusterlab.ml.algorithms import ANOMALIES, NOISE, REGULAR, cluster_name
from clusterlab.ml.metrics import ClusterSpread
from clusterlab.ml.model import LABEL_COLUMN, ClusteringModel
from clusterlab.ml.outliers import OUTLIERS_CLUSTER

SPECIAL_CLUSTERS = frozenset({NOISE, OUTLIERS_CLUSTER, REGULAR, ANOMALIES})
"""Clusters that are the same thing in every version: they match themselves by name."""
MIN_SHARE = 0.2
"""Share of an old cluster's rows a new cluster must take to count in a split or merge."""
MIN_JACCARD = 0.1
"""Overlap matching: pairs with a smaller Jaccard index are not matches."""
RADIUS_FACTOR = 1.5
"""Centroid matching: pairs farther apart than this × the larger radius are not matches."""

Method = Literal["centroids", "overlap"]
_FORBIDDEN = 1e12  # cost of a pair that may not match: the solver uses it only if it must


class ClusterLink(BaseModel):
    """The old cluster a new cluster continues (``old`` None: a birth), with evidence.

    ``distance`` is between centroids (centroid matching); ``jaccard`` the overlap of
    the member sets, ``old_share`` the share of the old cluster's rows that went to the
    new one and ``new_share`` the share of the new cluster's rows that came from the
    old one (when both versions labelled the same rows).
    """

    model_config = ConfigDict(frozen=True)

    new: str
    old: str | None
    by: Literal["centroids", "overlap", "name", "none"]
    distance: float | None = None
    jaccard: float | None = None
    old_share: float | None = None
    new_share: float | None = None


class ClusterSplit(BaseModel):
    """An old cluster whose rows went to several new clusters (new name → share)."""

    model_config = ConfigDict(frozen=True)

    old: str
    parts: dict[str, float]


class ClusterMerge(BaseModel):
    """A new cluster taking much of several old clusters (old name → share of its rows)."""

    model_config = ConfigDict(frozen=True)

    new: str
    parts: dict[str, float]


class ClusterMatching(BaseModel):
    """How the clusters of a new version continue those of the previous one."""

    model_config = ConfigDict(frozen=True)

    method: Method
    links: list[ClusterLink]
    births: list[str]
    deaths: list[str]
    splits: list[ClusterSplit]
    merges: list[ClusterMerge]
    shared_rows: int = 0

    def inherited(self) -> dict[str, str]:
        """New cluster → the old cluster it continues, for the matched ones."""
        return {link.new: link.old for link in self.links if link.old is not None}

    def describe(
        self,
        old_names: Mapping[str, str] | None = None,
        new_names: Mapping[str, str] | None = None,
    ) -> list[str]:
        """The changes in plain words, for the version's report.

        ``old_names`` and ``new_names`` give the analyst's names of the clusters (by
        default the cluster ids are shown).

        Examples
        --------
        >>> m = match_overlap(list("aaaabb"), list("xxxyzz"))
        >>> for line in m.describe():
        ...     print(line)
        x continues a.
        z continues b.
        New cluster: y.
        a split into x (75%) and y (25%).
        """
        was = dict(old_names or {})
        now = dict(new_names or {})

        def old(name: str) -> str:
            return was.get(name, name)

        def new(name: str) -> str:
            return now.get(name, name)

        lines = [f"{new(k.new)} continues {old(k.old)}." for k in self.links if k.old]
        lines += [f"New cluster: {new(name)}." for name in self.births]
        lines += [f"Cluster {old(name)} has no successor." for name in self.deaths]
        for split in self.splits:
            parts = [f"{new(n)} ({share:.0%})" for n, share in split.parts.items()]
            lines.append(f"{old(split.old)} split into {_and(parts)}.")
        for merge in self.merges:
            parts = [f"{old(o)} ({share:.0%} of it)" for o, share in merge.parts.items()]
            lines.append(f"{new(merge.new)} merges {_and(parts)}.")
        return lines


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def overlap_table(old_labels: Any, new_labels: Any) -> pd.DataFrame:
    """Rows labelled by both versions: counts of old cluster (rows) × new cluster (columns).

    Rows without a cluster in either version (empty labels) are left out.

    Examples
    --------
    >>> overlap_table(["a", "a", "b", None], ["x", "y", "y", "y"]).to_dict()
    {'x': {'a': 1, 'b': 0}, 'y': {'a': 1, 'b': 1}}
    """
    old = pd.Series(np.asarray(old_labels, dtype=object), dtype=object)
    new = pd.Series(np.asarray(new_labels, dtype=object), dtype=object)
    if len(old) != len(new):
        raise InvalidInputError(
            f"Overlap needs both versions' labels of the same rows: got {len(old)} old and "
            f"{len(new)} new labels."
        )
    both = (old.notna() & new.notna()).to_numpy()
    old_codes, old_names = _text_codes(old.to_numpy()[both])
    new_codes, new_names = _text_codes(new.to_numpy()[both])
    # Counted from integer codes: a crosstab of the names took ~0.8 s on 1M rows.
    cells = np.bincount(
        old_codes * len(new_names) + new_codes, minlength=len(old_names) * len(new_names)
    )
    counts = cells.reshape(len(old_names), len(new_names)).astype(np.int64)
    return pd.DataFrame(counts, index=old_names, columns=new_names)


def _text_codes(values: np.ndarray[Any, Any]) -> tuple[np.ndarray[Any, Any], list[str]]:
    """Each value's position among the sorted distinct texts of ``values``, and those."""
    codes, found = pd.factorize(values)
    texts, position = np.unique(
        np.array([str(v) for v in found], dtype=object), return_inverse=True
    )
    return position[codes], [str(t) for t in texts]


def _names(given: Iterable[str] | None, found: Iterable[str], side: str) -> list[str]:
    names = list(dict.fromkeys([*(given or []), *found]))
    if not names:
        raise InvalidInputError(
            f"The {side} version has no cluster to match: train it on rows that get a "
            "cluster, or pass its cluster names."
        )
    return names


def _shares(table: pd.DataFrame, old: list[str], new: list[str]) -> tuple[Any, Any, Any]:
    counts = table.reindex(index=old, columns=new, fill_value=0).to_numpy(dtype=np.float64)
    # Sums over every column/row of the table, special clusters included: rows that went
    # to noise still belonged to the old cluster.
    old_sizes = table.sum(axis=1).reindex(old, fill_value=0).to_numpy(dtype=np.float64)
    new_sizes = table.sum(axis=0).reindex(new, fill_value=0).to_numpy(dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        old_share = np.where(old_sizes[:, None] > 0, counts / old_sizes[:, None], 0.0)
        new_share = np.where(new_sizes[None, :] > 0, counts / new_sizes[None, :], 0.0)
        union = old_sizes[:, None] + new_sizes[None, :] - counts
        jaccard = np.where(union > 0, counts / union, 0.0)
    return old_share, new_share, jaccard


def _assemble(
    method: Method,
    old: list[str],
    new: list[str],
    allowed: np.ndarray[Any, Any],
    cost: np.ndarray[Any, Any],
    table: pd.DataFrame | None,
    distance: np.ndarray[Any, Any] | None,
    min_share: float,
) -> ClusterMatching:
    regular_old = [i for i, name in enumerate(old) if name not in SPECIAL_CLUSTERS]
    regular_new = [j for j, name in enumerate(new) if name not in SPECIAL_CLUSTERS]
    pairs: dict[int, tuple[int, str]] = {}
    for j, name in enumerate(new):
        if name in SPECIAL_CLUSTERS and name in old:
            pairs[j] = (old.index(name), "name")
    if regular_old and regular_new:
        sub = np.where(allowed, cost, _FORBIDDEN)[np.ix_(regular_old, regular_new)]
        for r, c in zip(*linear_sum_assignment(sub), strict=True):
            i, j = regular_old[r], regular_new[c]
            if allowed[i, j]:
                pairs[j] = (i, method)
    empty = np.zeros((len(old), len(new)))
    old_share, new_share, jaccard = empty, empty, empty
    if table is not None:
        old_share, new_share, jaccard = _shares(table, old, new)
    links = []
    for j, name in enumerate(new):
        i, by = pairs.get(j, (-1, "none"))
        evidence: dict[str, float | None] = {}
        if i >= 0 and distance is not None and by == "centroids":
            evidence["distance"] = float(distance[i, j])
        if i >= 0 and table is not None:
            evidence["jaccard"] = float(jaccard[i, j])
            evidence["old_share"] = float(old_share[i, j])
            evidence["new_share"] = float(new_share[i, j])
        links.append(ClusterLink(new=name, old=old[i] if i >= 0 else None, by=by, **evidence))
    links.sort(key=lambda link: link.old is None)
    matched_old = {i for i, _ in pairs.values()}
    splits: list[ClusterSplit] = []
    merges: list[ClusterMerge] = []
    if table is not None and int(table.to_numpy().sum()) > 0:
        big = (old_share >= min_share) & allowed
        for i in regular_old:
            parts = [j for j in regular_new if big[i, j]]
            if len(parts) >= 2:
                ordered = sorted(parts, key=lambda j: -old_share[i, j])
                splits.append(
                    ClusterSplit(
                        old=old[i], parts={new[j]: float(old_share[i, j]) for j in ordered}
                    )
                )
        for j in regular_new:
            parts = [i for i in regular_old if big[i, j]]
            if len(parts) >= 2:
                ordered = sorted(parts, key=lambda i: -old_share[i, j])
                merges.append(
                    ClusterMerge(
                        new=new[j], parts={old[i]: float(old_share[i, j]) for i in ordered}
                    )
                )
    return ClusterMatching(
        method=method,
        links=links,
        births=[name for j, name in enumerate(new) if j not in pairs],
        deaths=[name for i, name in enumerate(old) if i not in matched_old],
        splits=splits,
        merges=merges,
        shared_rows=0 if table is None else int(table.to_numpy().sum()),
    )


def match_overlap(
    old_labels: Any,
    new_labels: Any,
    *,
    old_clusters: Iterable[str] | None = None,
    new_clusters: Iterable[str] | None = None,
    min_jaccard: float = MIN_JACCARD,
    min_share: float = MIN_SHARE,
) -> ClusterMatching:
    """Match clusters by their members: both versions' labels of the same rows.

    Parameters
    ----------
    old_labels, new_labels : array-like
        Each row's cluster name in the old and in the new version (empty: none).
    old_clusters, new_clusters : iterable of str, optional
        Every cluster of each version, to report those holding none of the rows
        (by default, the clusters found in the labels).
    min_jaccard : float
        Smallest Jaccard index of a match.
    min_share : float
        Share of an old cluster's rows a new cluster takes to count in a split or merge.

    Examples
    --------
    >>> m = match_overlap(["a"] * 4 + ["b"] * 4, ["x"] * 4 + ["y"] * 3 + ["x"])
    >>> m.inherited(), [link.jaccard for link in m.links]
    ({'x': 'a', 'y': 'b'}, [0.8, 0.75])
    """
    table = overlap_table(old_labels, new_labels)
    if int(table.to_numpy().sum()) == 0:
        raise InvalidInputError(
            "No row has a cluster in both versions, so their members cannot be compared; "
            "match on rows that both models label."
        )
    old = _names(old_clusters, table.index, "old")
    new = _names(new_clusters, table.columns, "new")
    _, _, jaccard = _shares(table, old, new)
    allowed = jaccard >= min_jaccard
    return _assemble("overlap", old, new, allowed, -jaccard, table, None, min_share)


def _centroid_matrix(centroids: Mapping[str, Any], side: str) -> tuple[list[str], Any]:
    names = [n for n in centroids if n not in SPECIAL_CLUSTERS]
    rows = [np.asarray(centroids[n], dtype=np.float64).reshape(-1) for n in names]
    widths = {len(r) for r in rows}
    if len(widths) > 1:
        raise InvalidInputError(
            f"The {side} centroids have different lengths ({sorted(widths)}): give every "
            "centroid in the same space."
        )
    return names, np.vstack(rows) if rows else np.empty((0, 0))


def match_centroids(
    old_centroids: Mapping[str, Any],
    new_centroids: Mapping[str, Any],
    *,
    max_distance: float | None = None,
    old_radius: Mapping[str, float] | None = None,
    new_radius: Mapping[str, float] | None = None,
    radius_factor: float = RADIUS_FACTOR,
    overlap: pd.DataFrame | None = None,
    old_clusters: Iterable[str] | None = None,
    new_clusters: Iterable[str] | None = None,
    min_share: float = MIN_SHARE,
) -> ClusterMatching:
    """Match clusters by the Hungarian assignment of their centroids (one space for both).

    Parameters
    ----------
    old_centroids, new_centroids : mapping of str to array-like
        Cluster name → centroid, all in the same space.
    max_distance : float, optional
        Pairs farther apart are not matches.
    old_radius, new_radius : mapping of str to float, optional
        Each cluster's radius; when given, a pair farther apart than ``radius_factor``
        × the larger radius is not a match.
    radius_factor : float
        See ``old_radius``.
    overlap : DataFrame, optional
        `overlap_table` of rows both versions labelled: adds shares to the evidence
        and finds splits and merges (between clusters close enough to match).
    old_clusters, new_clusters : iterable of str, optional
        Clusters without a centroid (noise, outliers, empty ones) to report too.
    min_share : float
        Share of an old cluster's rows a new cluster takes to count in a split or merge.

    Examples
    --------
    >>> old = {"cluster_0": [0.0], "cluster_1": [5.0], "cluster_2": [9.0]}
    >>> m = match_centroids(old, {"cluster_0": [0.2], "cluster_1": [5.1]}, max_distance=1.0)
    >>> m.inherited(), m.deaths
    ({'cluster_0': 'cluster_0', 'cluster_1': 'cluster_1'}, ['cluster_2'])
    """
    old_names, old_matrix = _centroid_matrix(old_centroids, "old")
    new_names, new_matrix = _centroid_matrix(new_centroids, "new")
    old = _names(old_clusters, old_names, "old")
    new = _names(new_clusters, new_names, "new")
    if old_names and new_names and old_matrix.shape[1] != new_matrix.shape[1]:
        raise InvalidInputError(
            f"Old centroids have {old_matrix.shape[1]} coordinates and new ones "
            f"{new_matrix.shape[1]}: express both in the same space (see match_models)."
        )
    distance = np.full((len(old), len(new)), np.inf)
    if old_names and new_names:
        gap = old_matrix[:, None, :] - new_matrix[None, :, :]
        block = np.sqrt((gap * gap).sum(axis=2))
        distance[np.ix_([old.index(n) for n in old_names], [new.index(n) for n in new_names])] = (
            block
        )
    allowed = np.isfinite(distance)
    if max_distance is not None:
        allowed &= distance <= max_distance
    if old_radius is not None or new_radius is not None:
        radius_old = np.array([(old_radius or {}).get(n, 0.0) for n in old])
        radius_new = np.array([(new_radius or {}).get(n, 0.0) for n in new])
        reach = radius_factor * np.maximum(radius_old[:, None], radius_new[None, :])
        allowed &= distance <= reach
    cost = np.where(np.isfinite(distance), distance, 0.0)
    return _assemble("centroids", old, new, allowed, cost, overlap, distance, min_share)


def _group_centroids(
    matrix: Any, labels: np.ndarray[Any, Any], centers: Mapping[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, float]]:
    """The mean of each cluster's rows (unless ``centers`` gives it) and the RMS
    distance of its rows to it.

    From the clusters' sums and spreads (`ClusterSpread`, two blocked passes over the
    matrix): copying each cluster's rows took ~0.5 s on 1M rows. The squared distances
    to a given centre ``c`` are those to the mean ``m`` plus ``count * |m - c|²``.
    """
    codes, names = pd.factorize(np.asarray(labels, dtype=object))  # -1: no cluster
    spread = ClusterSpread.of(np.asarray(matrix, dtype=np.float64), codes.astype(np.int64))
    assert spread.ids is not None
    found: dict[str, Any] = {}
    radius: dict[str, float] = {}
    for position, code in enumerate(spread.ids.tolist()):
        name = str(names[code]) if code >= 0 else None
        if name is None or name in SPECIAL_CLUSTERS:
            continue
        mean = spread.means[position]
        center = mean if centers is None else centers.get(name)
        if center is None:
            continue
        found[name] = center
        count = spread.counts[position]
        squares = spread.squares[position] + count * float(((mean - center) ** 2).sum())
        radius[name] = float(np.sqrt(squares / count))
    return found, radius


def match_models(
    old: ClusteringModel,
    new: ClusteringModel,
    frame: pd.DataFrame,
    new_labels: Any = None,
    *,
    method: Method | Literal["auto"] = "auto",
    radius_factor: float = RADIUS_FACTOR,
    min_jaccard: float = MIN_JACCARD,
    min_share: float = MIN_SHARE,
) -> ClusterMatching:
    """Match the clusters of a retrained model ``new`` to those of ``old``.

    Both versions label the rows of ``frame`` (the new version's training rows): the
    old one by scoring them, the new one by ``new_labels`` (its training labels;
    scored when not given). With centroids, the new clusters' centroids are the means
    of their rows placed in the old model's space, compared with the old model's own
    centroids; radii come from the old model's drift baseline when it has one.

    Parameters
    ----------
    old, new : ClusteringModel
        The active version and the retrained one.
    frame : DataFrame
        Rows both versions label (the new training sample).
    new_labels : array-like, optional
        The new version's cluster name for each row of ``frame``.
    method : {"auto", "centroids", "overlap"}
        "auto" uses centroids when both algorithms define clusters by centroids.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from clusterlab.core.mltask import FeatureHandling, KMeansSpec, TaskDesign
    >>> from clusterlab.ml.training import train_session
    >>> frame = pd.DataFrame({"x": [0.0, 0.2, 0.1, 9.0, 9.2, 9.1]})
    >>> def train(seed):
    ...     design = TaskDesign(features=(FeatureHandling(name="x"),),
    ...                         algorithms=(KMeansSpec(k=(2,), seed=seed),))
    ...     return train_session(frame, design).models[0]
    >>> before, after = train(0), train(3)
    >>> m = match_models(before.model, after.model, frame, after.labels)
    >>> m.method, m.births, m.deaths
    ('centroids', [], [])
    >>> all(m.inherited()[n] == before.labels[after.labels == n].iloc[0]
    ...     for n in m.inherited())
    True
    """
    if len(frame) == 0:
        raise InvalidInputError(
            "Matching needs rows both versions label: the frame is empty. Pass the new "
            "version's training rows."
        )
    new_names = (
        new.predict(frame)[LABEL_COLUMN].to_numpy(dtype=object)
        if new_labels is None
        else np.asarray(pd.Series(new_labels, dtype=object).to_numpy(), dtype=object)
    )
    if len(new_names) != len(frame):
        raise InvalidInputError(
            f"new_labels has {len(new_names)} labels for {len(frame)} rows: give the new "
            "version's cluster of every row of the frame."
        )
    old_names = old.predict(frame)[LABEL_COLUMN].to_numpy(dtype=object)
    present = set(pd.unique(new_names[pd.notna(new_names)]))
    new_clusters = [n for n in new.cluster_names if n in present] + sorted(
        str(n) for n in present - set(new.cluster_names)
    )
    if method == "auto":
        method = "centroids" if old.has_native_centroids and new.has_native_centroids else "overlap"
    if method == "overlap":
        return match_overlap(
            old_names,
            new_names,
            old_clusters=old.cluster_names,
            new_clusters=new_clusters,
            min_jaccard=min_jaccard,
            min_share=min_share,
        )
    matrix, kept = old.embed(frame)
    old_centroids = old.centroids
    new_centroids, new_radius = _group_centroids(matrix, new_names[kept])
    if old.baseline is not None:
        old_radius = {name: q.rms for name, q in old.baseline.distances.items()}
    else:
        _, old_radius = _group_centroids(matrix, old_names[kept], old_centroids)
    return match_centroids(
        old_centroids,
        new_centroids,
        old_radius=old_radius,
        new_radius=new_radius,
        radius_factor=radius_factor,
        overlap=overlap_table(old_names, new_names),
        old_clusters=old.cluster_names,
        new_clusters=new_clusters,
        min_share=min_share,
    )


def _fresh_name(taken: set[str]) -> str:
    position = 0
    while cluster_name(position) in taken:
        position += 1
    return cluster_name(position)


def inherit_metadata(
    matching: ClusterMatching,
    old_meta: Sequence[ClusterMeta],
    new_meta: Sequence[ClusterMeta],
) -> list[ClusterMeta]:
    """The new version's cluster metadata, continued from the old version's.

    A matched new cluster takes the name, color and description of its old cluster;
    a birth keeps its default metadata, renamed to a fresh ``cluster_<n>`` when an
    inherited name already uses its name, and recolored when an inherited cluster
    already uses its color.

    Parameters
    ----------
    matching : ClusterMatching
        From `match_models` (or `match_centroids`, `match_overlap`).
    old_meta : sequence of ClusterMeta
        The old version's metadata; ``id`` is the name its model gives the cluster.
    new_meta : sequence of ClusterMeta
        The new version's default metadata, one per cluster, in display order.

    Examples
    --------
    >>> from clusterlab.core.lab import ClusterMeta
    >>> m = match_overlap(["cluster_0", "cluster_1"], ["cluster_1", "cluster_2"])
    >>> old = [ClusterMeta(id="cluster_0", name="Loyal", color="#111111"),
    ...        ClusterMeta(id="cluster_1", name="cluster_2", color="#222222")]
    >>> new = [ClusterMeta(id=f"cluster_{i}", name=f"cluster_{i}", color="#222222")
    ...        for i in (1, 2)]
    >>> [(c.id, c.name) for c in inherit_metadata(m, old, new)]
    [('cluster_1', 'Loyal'), ('cluster_2', 'cluster_2')]
    """
    by_id = {meta.id: meta for meta in old_meta}
    parents = matching.inherited()
    inherited: dict[str, ClusterMeta] = {}
    for meta in new_meta:
        parent = by_id.get(parents.get(meta.id, ""))
        if parent is not None:
            inherited[meta.id] = meta.model_copy(
                update={
                    "name": parent.name,
                    "color": parent.color,
                    "description": parent.description,
                }
            )
    names = {meta.name for meta in inherited.values()}
    colors = {meta.color for meta in inherited.values()}
    out = []
    for meta in new_meta:
        if meta.id in inherited:
            out.append(inherited[meta.id])
            continue
        name = meta.name if meta.name not in names else _fresh_name(names)
        color = meta.color if meta.color not in colors else _fresh_color(colors)
        names.add(name)
        colors.add(color)
        out.append(meta.model_copy(update={"name": name, "color": color}))
    return out


def _fresh_color(taken: set[str]) -> str:
    from clusterlab.ml.report.figures import cluster_colors

    palette = list(cluster_colors([str(i) for i in range(24)]).values())
    free = [color for color in dict.fromkeys(palette) if color not in taken]
    return free[0] if free else palette[len(taken) % len(palette)]
