"""Data of the hierarchy panel of two-step models: the tree over the pre-clusters.

Every node of the two-step tree (`clusterlab.ml.twostep`) becomes a JSON-able
`HierarchyNode`: its id and name ``node_<id>``, children, merge height, number of
training rows, whether it is currently a cluster, and the averages of the raw numeric
features over its rows with their difference against its parent (what the
dendrogram's hover shows). The panel also knows the tree well enough to compute the
new cut when the analyst sets a node as a cluster, without the fitted model.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from clusterlab.ml.twostep import TwoStepClustering
>>> frame = pd.DataFrame({"x": [0.0, 0.2, 5.0, 5.2, 20.0, 20.2]})
>>> tree = TwoStepClustering(n_clusters=2, n_preclusters=3, random_state=0)
>>> panel = build_hierarchy(tree.fit(frame[["x"]]), frame, ["x"])
>>> [(n.name, n.size, n.is_cluster, round(n.averages["x"], 2)) for n in panel.nodes]
... # doctest: +NORMALIZE_WHITESPACE
[('node_0', 2, False, 5.1), ('node_1', 2, True, 20.1), ('node_2', 2, False, 0.1),
 ('node_3', 4, True, 2.6), ('node_4', 6, False, 8.43)]
>>> round(panel.node(3).diff_to_parent["x"], 2), panel.cut_with(2)
(-5.83, [0, 1, 2])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from clusterlab.core.errors import InvalidInputError, NotFoundError
from clusterlab.ml.twostep import TwoStepClustering, cut_setting_node, node_name

if TYPE_CHECKING:
    from clusterlab.ml.training import SessionResult, TrainedModel

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


class HierarchyNode(BaseModel):
    """One node of the two-step tree, as the dendrogram shows it.

    ``height`` is the Ward merge distance (0 for pre-clusters); ``x`` the node's
    position along the dendrogram (pre-clusters at 0, 1, …, merges between their
    children); ``averages`` the mean of each numeric feature over the node's rows,
    and ``diff_to_parent`` that mean minus the parent's (None at the root).
    """

    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    parent: int | None
    children: list[int]
    height: float
    size: int
    is_cluster: bool
    x: float
    averages: dict[str, float | None]
    diff_to_parent: dict[str, float | None]

    @property
    def is_leaf(self) -> bool:
        """Whether the node is a pre-cluster."""
        return not self.children


class HierarchyPanel(BaseModel):
    """The whole tree: nodes by id (``nodes[i].id == i``), the root and the clusters."""

    model_config = ConfigDict(frozen=True)

    features: list[str]
    n_preclusters: int
    root: int
    cluster_nodes: list[int]
    nodes: list[HierarchyNode]

    def node(self, node: int) -> HierarchyNode:
        """The node ``node``, or `NotFoundError` naming the valid ids."""
        if not 0 <= node < len(self.nodes):
            raise NotFoundError(
                f"There is no node {node} in the hierarchy; its nodes are 0 to "
                f"{len(self.nodes) - 1}."
            )
        return self.nodes[node]

    def linkage(self) -> FloatArray:
        """The tree as a SciPy-style linkage matrix (as `TwoStepClustering.linkage_`)."""
        m = self.n_preclusters
        out = np.zeros((m - 1, 4))
        leaves = [1] * m + [0] * (m - 1)
        for node in self.nodes[m:]:
            a, b = node.children
            leaves[node.id] = leaves[a] + leaves[b]
            out[node.id - m] = [a, b, node.height, leaves[node.id]]
        return out

    def cut_with(self, node: int) -> list[int]:
        """The cluster nodes after setting ``node`` as a cluster (merge or split).

        Pass the result to `TwoStepClustering.with_cluster_nodes` (or the model's
        ``set_cluster_nodes``) and re-score the model.
        """
        return cut_setting_node(self.linkage(), node, self.cluster_nodes)


def _leaf_positions(linkage: FloatArray, m: int) -> FloatArray:
    # Depth-first from the root, first child first, as a dendrogram lays leaves out.
    x = np.zeros(2 * m - 1)
    order: list[int] = []
    stack = [2 * m - 2]
    while stack:
        node = stack.pop()
        if node < m:
            order.append(node)
        else:
            a, b = linkage[node - m, :2]
            stack.extend([int(b), int(a)])
    x[order] = np.arange(m, dtype=np.float64)
    for t, (a, b, _, _) in enumerate(linkage):
        x[m + t] = (x[int(a)] + x[int(b)]) / 2
    return x


def _node_sums(
    frame: pd.DataFrame, features: Sequence[str], pre: Any, linkage: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per node and feature: sum and count of the non-missing values of its rows."""
    m = len(linkage) + 1
    sums = np.zeros((2 * m - 1, len(features)))
    counts = np.zeros((2 * m - 1, len(features)))
    for j, feature in enumerate(features):
        values = pd.to_numeric(frame[feature], errors="coerce").to_numpy(dtype=np.float64)
        present = ~np.isnan(values)
        sums[:m, j] = np.bincount(pre, weights=np.where(present, values, 0.0), minlength=m)
        counts[:m, j] = np.bincount(pre, weights=present.astype(np.float64), minlength=m)
    for t, (a, b, _, _) in enumerate(linkage):
        sums[m + t] = sums[int(a)] + sums[int(b)]
        counts[m + t] = counts[int(a)] + counts[int(b)]
    return sums, counts


def build_hierarchy(
    tree: TwoStepClustering, frame: pd.DataFrame, numeric_features: Sequence[str]
) -> HierarchyPanel:
    """Build the hierarchy panel of a fitted two-step model.

    Parameters
    ----------
    tree : TwoStepClustering
        The fitted two-step estimator.
    frame : DataFrame
        The raw values of the rows it was fitted on, in fitting order (one row per
        row of the fitted matrix).
    numeric_features : sequence of str
        Numeric columns whose averages the nodes carry.
    """
    pre = np.asarray(tree.precluster_.labels_, dtype=np.int64)
    if len(frame) != len(pre):
        raise InvalidInputError(
            f"The hierarchy needs the {len(pre)} rows the two-step model was fitted on, "
            f"in order; got {len(frame)} rows. Pass the fitted rows (frame.iloc[fit_positions])."
        )
    missing = [f for f in numeric_features if f not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"Feature column(s) {', '.join(map(repr, missing))} are not in the rows given "
            f"to the hierarchy; the columns are: {', '.join(map(str, frame.columns))}."
        )
    linkage = np.asarray(tree.linkage_, dtype=np.float64)
    m = len(linkage) + 1
    sums, counts = _node_sums(frame, numeric_features, pre, linkage)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    parent = np.full(2 * m - 1, -1, dtype=np.int64)
    for t, (a, b, _, _) in enumerate(linkage):
        parent[int(a)] = parent[int(b)] = m + t
    x = _leaf_positions(linkage, m)
    clusters = {int(n) for n in tree.cluster_nodes_}

    def number(value: float) -> float | None:
        return None if np.isnan(value) else float(value)

    nodes = []
    for node in range(2 * m - 1):
        up = int(parent[node])
        children = [] if node < m else [int(c) for c in linkage[node - m, :2]]
        averages = {f: number(means[node, j]) for j, f in enumerate(numeric_features)}
        diff = {
            f: None if up < 0 else number(means[node, j] - means[up, j])
            for j, f in enumerate(numeric_features)
        }
        nodes.append(
            HierarchyNode(
                id=node,
                name=node_name(node),
                parent=None if up < 0 else up,
                children=children,
                height=0.0 if node < m else float(linkage[node - m, 2]),
                size=int(tree.node_sizes_[node]),
                is_cluster=node in clusters,
                x=float(x[node]),
                averages=averages,
                diff_to_parent=diff,
            )
        )
    return HierarchyPanel(
        features=list(numeric_features),
        n_preclusters=m,
        root=2 * m - 2,
        cluster_nodes=sorted(clusters),
        nodes=nodes,
    )


def session_hierarchy(session: SessionResult, model: TrainedModel) -> HierarchyPanel:
    """The hierarchy panel of a two-step model of a session (numeric report features)."""
    tree = model.hierarchy
    if tree is None:
        raise InvalidInputError(
            f"{model.params.label} has no hierarchy: only two-step models have one."
        )
    numeric = [f.name for f in session.report_features() if f.is_numeric]
    return build_hierarchy(tree, session.frame.iloc[session.fit_positions], numeric)
