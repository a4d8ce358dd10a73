"""Two-step tree cuts: validation, and merging or splitting by setting a node as a cluster."""

from __future__ import annotations

import numpy as np
import pytest

from clusterlab.core.errors import InvalidInputError
from clusterlab.ml.twostep import (
    TwoStepClustering,
    check_cut,
    cut_setting_node,
    leaves_under,
    tree_parents,
)

# Pre-clusters 0..4.  node 5 = {0, 1}, node 6 = {2, 3}, node 7 = {5, 6}, root 8 = {4, 7}:
#
#              8
#            /   \
#           4     7
#               /   \
#              5     6
#             / \   / \
#            0   1 2   3
TREE = np.array(
    [[0, 1, 1.0, 2], [2, 3, 1.5, 2], [5, 6, 4.0, 4], [4, 7, 9.0, 5]],
    dtype=np.float64,
)


def test_tree_walks():
    assert tree_parents(TREE).tolist() == [5, 5, 6, 6, 8, 7, 7, 8, -1]
    assert leaves_under(TREE, 7) == [0, 1, 2, 3]
    assert leaves_under(TREE, 8) == [0, 1, 2, 3, 4]
    assert leaves_under(TREE, 2) == [2]


@pytest.mark.parametrize("cut", [[8], [4, 7], [7, 4], [4, 5, 6], [0, 1, 2, 3, 4], [0, 1, 4, 6]])
def test_valid_cuts_come_back_sorted(cut):
    assert check_cut(TREE, cut) == sorted(cut)


def test_a_cut_missing_pre_clusters_names_them():
    with pytest.raises(InvalidInputError) as error:
        check_cut(TREE, [4, 5])
    message = str(error.value)
    assert "Pre-cluster(s) 2, 3 are under none of the chosen nodes" in message
    assert "overlap" not in message


def test_a_cut_covering_pre_clusters_twice_names_them():
    with pytest.raises(InvalidInputError) as error:
        check_cut(TREE, [4, 7, 5, 2])
    message = str(error.value)
    assert "Cluster nodes overlap: pre-cluster(s) 0, 1, 2 are under more than one" in message
    assert "none of the chosen" not in message


def test_both_problems_and_unknown_nodes_are_reported():
    with pytest.raises(
        InvalidInputError,
        match=r"overlap: pre-cluster\(s\) 0 .*Pre-cluster\(s\) 3, 4 are under none",
    ):
        check_cut(TREE, [5, 0, 2])
    with pytest.raises(InvalidInputError, match=r"no tree node 9: .* nodes 0 to 8"):
        check_cut(TREE, [9])
    with pytest.raises(InvalidInputError, match="no tree node -1"):
        cut_setting_node(TREE, -1, [8])


def test_setting_an_ancestor_merges_its_descendant_clusters():
    assert cut_setting_node(TREE, 7, [0, 1, 2, 3, 4]) == [4, 7]
    assert cut_setting_node(TREE, 5, [0, 1, 4, 6]) == [4, 5, 6]
    assert cut_setting_node(TREE, 8, [0, 1, 4, 6]) == [8]


def test_setting_a_descendant_splits_its_cluster_into_the_node_and_siblings():
    assert cut_setting_node(TREE, 5, [4, 7]) == [4, 5, 6]
    # Path 0 -> 5 -> 7: node 7 splits into 0, its sibling 1, and 5's sibling 6.
    assert cut_setting_node(TREE, 0, [4, 7]) == [0, 1, 4, 6]
    assert cut_setting_node(TREE, 3, [8]) == [2, 3, 4, 5]


def test_setting_a_current_cluster_changes_nothing_and_the_cut_is_checked():
    assert cut_setting_node(TREE, 6, [4, 5, 6]) == [4, 5, 6]
    with pytest.raises(InvalidInputError, match="none of the chosen"):
        cut_setting_node(TREE, 0, [4])


def _ancestors(linkage, leaf):
    """Independent walk: the leaf and every merge above it, from the linkage rows."""
    m = len(linkage) + 1
    found, node = {leaf}, leaf
    for t, (a, b, _, _) in enumerate(linkage):
        if node in (int(a), int(b)):
            node = m + t
            found.add(node)
    return found


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(3)
    centers = [(0.0, 0.0), (6.0, 0.0), (0.0, 6.0), (30.0, 30.0)]
    x = np.vstack([rng.normal(c, 0.5, size=(50, 2)) for c in centers])
    return x, TwoStepClustering(n_clusters=2, n_preclusters=12, random_state=0).fit(x)


def test_with_cluster_nodes_relabels_a_copy(fitted):
    x, model = fitted
    before = model.labels_.copy()
    root = 2 * len(model.linkage_)
    a, b = (int(c) for c in model.linkage_[-1, :2])
    new_cut = cut_setting_node(model.linkage_, min(a, b), model.cluster_nodes_.tolist())
    relabelled = model.with_cluster_nodes(new_cut)
    assert relabelled is not model
    assert model.labels_.tolist() == before.tolist()
    assert relabelled.cluster_names() == [f"node_{n}" for n in sorted(new_cut)]
    pre = model.precluster_.labels_
    for row, label in enumerate(relabelled.labels_):
        node = int(relabelled.cluster_nodes_[label])
        assert node in _ancestors(model.linkage_, int(pre[row]))
    # Re-scoring the training rows gives the new labels.
    assert relabelled.predict(x).tolist() == relabelled.labels_.tolist()
    assert model.cut_with(root) == [root]
    with pytest.raises(InvalidInputError, match="none of the chosen"):
        model.with_cluster_nodes([a])
