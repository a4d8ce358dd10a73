"""Interactive two-step clustering: K-means pre-clusters, then Ward on the pre-clusters.

Step one cuts the rows into many small K-means pre-clusters. Step two merges them
bottom-up with Ward's criterion *weighted by the pre-cluster sizes*: merging clusters
A and B costs ``n_A·n_B/(n_A+n_B)·‖c_A−c_B‖²``, the exact increase of the within-cluster
sum of squares of the rows, so the tree is the one Ward would build on the rows if
every pre-cluster were kept whole. The tree is kept (a SciPy-style linkage matrix) so
that any node can later be set as a cluster: leaves ``0…m-1`` are the pre-clusters,
merge ``t`` creates node ``m+t``, and clusters are named ``node_<id>``.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = np.vstack([rng.normal(c, 0.3, size=(100, 2)) for c in (0, 5, 10)])
>>> model = TwoStepClustering(n_clusters=3, n_preclusters=20, random_state=0).fit(x)
>>> model.linkage_.shape, len(set(model.labels_))
((19, 4), 3)
>>> model.cluster_names()
['node_34', 'node_35', 'node_36']
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin

from clusterlab.core.errors import InvalidInputError

IntArray = np.ndarray[Any, np.dtype[np.int64]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]


def node_name(node: int) -> str:
    """The cluster name of tree node ``node``: ``node_<id>``."""
    return f"node_{node}"


def tree_parents(linkage: FloatArray) -> IntArray:
    """The parent of every node of a linkage tree (``-1`` for the root).

    Examples
    --------
    >>> import numpy as np
    >>> tree_parents(np.array([[0.0, 1.0, 1.0, 2.0], [2.0, 3.0, 4.0, 3.0]])).tolist()
    [3, 3, 4, 4, -1]
    """
    m = len(linkage) + 1
    parent = np.full(2 * m - 1, -1, dtype=np.int64)
    for t, row in enumerate(linkage):
        parent[int(row[0])] = parent[int(row[1])] = m + t
    return parent


def tree_children(linkage: FloatArray, node: int) -> tuple[int, int] | None:
    """The two children of ``node``, or None for a leaf (a pre-cluster)."""
    m = len(linkage) + 1
    if node < m:
        return None
    row = linkage[node - m]
    return int(row[0]), int(row[1])


def leaves_under(linkage: FloatArray, node: int) -> list[int]:
    """The pre-clusters (leaves) under ``node``, ascending.

    Examples
    --------
    >>> import numpy as np
    >>> leaves_under(np.array([[0.0, 1.0, 1.0, 2.0], [2.0, 3.0, 4.0, 3.0]]), 3)
    [0, 1]
    """
    found, stack = [], [int(node)]
    while stack:
        current = stack.pop()
        children = tree_children(linkage, current)
        if children is None:
            found.append(current)
        else:
            stack.extend(children)
    return sorted(found)


def _check_node(linkage: FloatArray, node: int) -> None:
    last = 2 * len(linkage)
    if not 0 <= node <= last:
        raise InvalidInputError(
            f"There is no tree node {node}: the two-step tree has nodes 0 to {last} "
            f"(pre-clusters 0 to {len(linkage)}, merges above). Pick a node of the tree."
        )


def _ids(values: Sequence[int]) -> str:
    shown = ", ".join(str(v) for v in values[:20])
    return shown + (f" and {len(values) - 20} more" if len(values) > 20 else "")


def check_cut(linkage: FloatArray, nodes: Sequence[int]) -> list[int]:
    """Check that ``nodes`` cover every pre-cluster exactly once; return them ascending.

    Raises
    ------
    InvalidInputError
        When a node is not in the tree, or when some pre-clusters are under none of the
        nodes or under several of them; the message lists those pre-clusters.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.array([[0.0, 1.0, 1.0, 2.0], [2.0, 3.0, 4.0, 3.0]])
    >>> check_cut(z, [3, 2])
    [2, 3]
    >>> check_cut(z, [0, 3])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    clusterlab.core.errors.InvalidInputError: Cluster nodes overlap: pre-cluster(s) 0 are ...
    """
    chosen = sorted({int(n) for n in nodes})
    for node in chosen:
        _check_node(linkage, node)
    m = len(linkage) + 1
    cover = np.zeros(m, dtype=np.int64)
    for node in chosen:
        cover[leaves_under(linkage, node)] += 1
    doubled = np.flatnonzero(cover > 1).tolist()
    missing = np.flatnonzero(cover == 0).tolist()
    if not doubled and not missing:
        return chosen
    problems = []
    if doubled:
        problems.append(
            f"Cluster nodes overlap: pre-cluster(s) {_ids(doubled)} are under more than "
            "one chosen node."
        )
    if missing:
        problems.append(f"Pre-cluster(s) {_ids(missing)} are under none of the chosen nodes.")
    problems.append(
        "Choose nodes that cover every pre-cluster exactly once (a cut of the tree), "
        "e.g. the root's children."
    )
    raise InvalidInputError(" ".join(problems))


def cut_setting_node(linkage: FloatArray, node: int, cut: Sequence[int]) -> list[int]:
    """The cut (cluster nodes, ascending) after setting ``node`` as a cluster.

    Setting an ancestor of current clusters merges them into ``node``; setting a
    descendant of a current cluster splits that cluster into ``node`` plus the sibling
    subtree of every node on the path from ``node`` up to it. Setting a current
    cluster changes nothing.

    Parameters
    ----------
    linkage : ndarray of shape (m - 1, 4)
        The tree, SciPy linkage format (`TwoStepClustering.linkage_`).
    node : int
        The node to set as a cluster.
    cut : sequence of int
        The current clusters; must be a valid cut (`check_cut`).

    Examples
    --------
    Pre-clusters 0–3; node 4 merges 0 and 1, node 5 merges 2 and 4, the root 6
    merges 3 and 5. Splitting node 5 down to 0 gives 0, its sibling 1, and 2:

    >>> import numpy as np
    >>> z = np.array([[0, 1, 1, 2], [2, 4, 2, 3], [3, 5, 3, 4]], dtype=float)
    >>> cut_setting_node(z, 0, [3, 5])
    [0, 1, 2, 3]
    >>> cut_setting_node(z, 5, [0, 1, 2, 3])
    [3, 5]
    >>> cut_setting_node(z, 6, [3, 5])
    [6]
    """
    current = check_cut(linkage, cut)
    node = int(node)
    _check_node(linkage, node)
    if node in current:
        return current
    parent = tree_parents(linkage)
    ancestor = int(parent[node])
    path = [node]
    while ancestor != -1 and ancestor not in current:
        path.append(ancestor)
        ancestor = int(parent[ancestor])
    if ancestor == -1:
        # No chosen node above: the cut covers the node's subtree with descendants.
        under = set(leaves_under(linkage, node))
        kept = [n for n in current if not set(leaves_under(linkage, n)) <= under]
        return sorted([*kept, node])
    siblings = []
    for child in path:
        pair = tree_children(linkage, int(parent[child]))
        assert pair is not None  # a parent always has two children
        siblings.append(pair[1] if pair[0] == child else pair[0])
    return sorted([n for n in current if n != ancestor] + [node, *siblings])


def weighted_ward(centers: FloatArray, sizes: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Ward's tree over weighted points: the linkage matrix and every node's center.

    Returns the ``(m-1, 4)`` linkage (children, distance ``sqrt(2·cost)`` as SciPy's
    Ward, number of leaves) and the ``(2m-1, features)`` centers of all nodes.

    Examples
    --------
    >>> import numpy as np
    >>> z, _ = weighted_ward(np.array([[0.0], [1.0], [10.0]]), np.array([1.0, 1.0, 1.0]))
    >>> z[:, :2].tolist(), z[:, 3].tolist()
    ([[0.0, 1.0], [2.0, 3.0]], [2.0, 3.0])
    """
    m = len(centers)
    node_centers = np.zeros((2 * m - 1, centers.shape[1]))
    node_centers[:m] = centers
    weight = np.array(sizes, dtype=np.float64)
    leaves = np.ones(m)
    slot_node = np.arange(m)
    linkage = np.zeros((m - 1, 4))
    alive = np.ones(m, dtype=bool)
    cost = _costs(centers, weight, np.arange(m), centers, weight)
    np.fill_diagonal(cost, np.inf)
    for t in range(m - 1):
        pair = np.unravel_index(int(np.argmin(cost)), cost.shape)
        a, b = sorted((int(pair[0]), int(pair[1])))
        na, nb = slot_node[a], slot_node[b]
        linkage[t] = [min(na, nb), max(na, nb), np.sqrt(2 * cost[a, b]), leaves[a] + leaves[b]]
        merged = (weight[a] * centers[a] + weight[b] * centers[b]) / (weight[a] + weight[b])
        centers[a], weight[a], leaves[a] = merged, weight[a] + weight[b], leaves[a] + leaves[b]
        slot_node[a] = m + t
        node_centers[m + t] = merged
        alive[b] = False
        cost[b, :] = cost[:, b] = np.inf
        others = np.flatnonzero(alive & (np.arange(m) != a))
        row = _costs(centers[a : a + 1], weight[a : a + 1], others, centers, weight)[0]
        cost[a, others] = cost[others, a] = row
    return linkage, node_centers


def _costs(
    left: FloatArray, left_w: FloatArray, right_idx: IntArray, centers: FloatArray, w: FloatArray
) -> FloatArray:
    right, right_w = centers[right_idx], w[right_idx]
    sq = ((left[:, None, :] - right[None, :, :]) ** 2).sum(axis=2)
    return np.asarray(
        left_w[:, None] * right_w[None, :] / (left_w[:, None] + right_w[None, :]) * sq
    )


class TwoStepClustering(ClusterMixin, BaseEstimator):  # type: ignore[misc]
    """K-means pre-clusters merged by size-weighted Ward (scikit-learn estimator).

    Parameters
    ----------
    n_clusters : int
        Clusters to cut the tree into.
    n_preclusters : int
        K-means pre-clusters (at most the number of rows).
    max_iter : int
        Iterations of the pre-clustering K-means.
    random_state : int or None
        Seed of the pre-clustering K-means.

    Attributes
    ----------
    precluster_ : KMeans
        The fitted pre-clustering.
    linkage_ : ndarray of shape (n_preclusters - 1, 4)
        The Ward tree over pre-clusters, SciPy linkage format.
    node_sizes_ : ndarray of shape (2 * n_preclusters - 1,)
        Training rows under each node.
    node_centers_ : ndarray of shape (2 * n_preclusters - 1, n_features)
        Mean of the rows under each node.
    cluster_nodes_ : ndarray of shape (n_clusters,)
        The tree nodes that are the clusters, ascending; cluster ``i`` is node
        ``cluster_nodes_[i]``.
    precluster_to_cluster_ : ndarray of shape (n_preclusters,)
        The cluster of each pre-cluster.
    labels_ : ndarray of shape (n_rows,)
        The cluster of each training row.
    """

    def __init__(
        self,
        n_clusters: int = 5,
        n_preclusters: int = 100,
        max_iter: int = 300,
        random_state: int | None = None,
    ) -> None:
        self.n_clusters = n_clusters
        self.n_preclusters = n_preclusters
        self.max_iter = max_iter
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> TwoStepClustering:
        """Pre-cluster the rows, build the tree, and cut it into ``n_clusters``."""
        from sklearn.cluster import KMeans

        matrix = np.asarray(X, dtype=np.float64)
        n_rows = matrix.shape[0]
        m = min(self.n_preclusters, n_rows)
        if self.n_clusters > m:
            raise InvalidInputError(
                f"Two-step clustering cannot make {self.n_clusters} clusters from {n_rows} "
                f"rows and {self.n_preclusters} pre-clusters; lower k or train on more rows."
            )
        self.precluster_ = KMeans(
            n_clusters=m, n_init=1, max_iter=self.max_iter, random_state=self.random_state
        )
        pre = self.precluster_.fit_predict(matrix)
        sizes = np.bincount(pre, minlength=m).astype(np.float64)
        centers = np.asarray(self.precluster_.cluster_centers_, dtype=np.float64).copy()
        self.linkage_, self.node_centers_ = weighted_ward(centers, sizes)
        node_sizes = np.zeros(2 * m - 1)
        node_sizes[:m] = sizes
        for t, (a, b, _, _) in enumerate(self.linkage_):
            node_sizes[m + t] = node_sizes[int(a)] + node_sizes[int(b)]
        self.node_sizes_ = node_sizes.astype(np.int64)
        self.set_cluster_nodes(self.default_nodes(self.n_clusters))
        return self

    def default_nodes(self, k: int) -> list[int]:
        """The ``k`` nodes left when merging stops ``k - 1`` steps before the root."""
        m = len(self.linkage_) + 1
        roots = set(range(m))
        for t in range(m - k):
            a, b = int(self.linkage_[t, 0]), int(self.linkage_[t, 1])
            roots -= {a, b}
            roots.add(m + t)
        return sorted(roots)

    def set_cluster_nodes(self, nodes: Sequence[int]) -> TwoStepClustering:
        """Make ``nodes`` the clusters: they must split the pre-clusters with no overlap.

        ``labels_`` follows; cluster ids are the positions of the nodes, ascending.
        Raises `InvalidInputError` (see `check_cut`) when ``nodes`` is not a valid cut.
        """
        chosen = check_cut(self.linkage_, nodes)
        m = len(self.linkage_) + 1
        parent = tree_parents(self.linkage_)
        position = {n: i for i, n in enumerate(chosen)}
        mapping = np.full(m, -1, dtype=np.int64)
        for leaf in range(m):
            node = leaf
            while node not in position:
                node = int(parent[node])
            mapping[leaf] = position[node]
        self.cluster_nodes_ = np.asarray(chosen, dtype=np.int64)
        self.precluster_to_cluster_ = mapping
        self.labels_ = mapping[np.asarray(self.precluster_.labels_, dtype=np.int64)]
        return self

    def with_cluster_nodes(self, nodes: Sequence[int]) -> TwoStepClustering:
        """A copy of this fitted model whose clusters are the tree ``nodes``.

        The copy has new ``labels_`` (training rows, through their pre-clusters),
        ``cluster_nodes_`` and `cluster_names`; this model is left unchanged, so a
        caller can re-score the copy and keep or drop it.

        Examples
        --------
        >>> import numpy as np
        >>> x = np.array([[0.0], [0.2], [5.0], [5.2], [20.0], [20.2]])
        >>> model = TwoStepClustering(n_clusters=2, n_preclusters=3, random_state=0).fit(x)
        >>> model.cluster_names(), model.labels_.tolist()
        (['node_1', 'node_3'], [1, 1, 1, 1, 0, 0])
        >>> finer = model.with_cluster_nodes([0, 1, 2])
        >>> finer.cluster_names(), finer.labels_.tolist(), model.cluster_names()
        (['node_0', 'node_1', 'node_2'], [2, 2, 0, 0, 1, 1], ['node_1', 'node_3'])
        """
        return copy.deepcopy(self).set_cluster_nodes(nodes)

    def cut_with(self, node: int) -> list[int]:
        """The current clusters with ``node`` set as a cluster (see `cut_setting_node`)."""
        return cut_setting_node(self.linkage_, node, [int(n) for n in self.cluster_nodes_])

    def cluster_names(self) -> list[str]:
        """``node_<id>`` for each cluster, in cluster-id order."""
        return [node_name(int(n)) for n in self.cluster_nodes_]

    def predict(self, X: Any) -> IntArray:
        """The cluster of each row: its nearest pre-cluster's cluster."""
        pre = self.precluster_.predict(np.asarray(X, dtype=np.float64))
        return np.asarray(self.precluster_to_cluster_[pre], dtype=np.int64)
