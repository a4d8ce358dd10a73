"""Hierarchy panel: node sizes, averages against the parent, cuts, JSON and dendrogram."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from clusterlab.core.errors import InvalidInputError, NotFoundError
from clusterlab.core.mltask import FeatureHandling, KMeansSpec, TaskDesign, TwoStepSpec
from clusterlab.ml.report import (
    HierarchyPanel,
    build_hierarchy,
    dendrogram_figure,
    session_hierarchy,
)
from clusterlab.ml.training import train_session
from clusterlab.ml.twostep import TwoStepClustering


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    centers = [(0.0, 0.0), (5.0, 0.0), (0.0, 5.0), (40.0, 40.0)]
    frame = pd.DataFrame(
        np.vstack([rng.normal(c, 0.4, size=(40, 2)) for c in centers]), columns=["a", "b"]
    )
    frame["age"] = rng.integers(18, 80, len(frame)).astype(float)
    frame.loc[[0, 50, 100], "age"] = np.nan
    return frame


@pytest.fixture(scope="module")
def tree(rows) -> TwoStepClustering:
    return TwoStepClustering(n_clusters=3, n_preclusters=10, random_state=0).fit(
        rows[["a", "b"]].to_numpy()
    )


@pytest.fixture(scope="module")
def panel(tree, rows) -> HierarchyPanel:
    return build_hierarchy(tree, rows, ["a", "age"])


def _leaves(linkage, node):
    m = len(linkage) + 1
    if node < m:
        return {node}
    a, b = linkage[node - m, :2]
    return _leaves(linkage, int(a)) | _leaves(linkage, int(b))


def test_nodes_carry_sizes_heights_and_cluster_flags(panel, tree, rows):
    m = 10
    assert panel.n_preclusters == m
    assert [n.id for n in panel.nodes] == list(range(2 * m - 1))
    assert panel.root == 2 * m - 2
    assert panel.node(panel.root).size == len(rows)
    assert panel.node(panel.root).parent is None
    pre = tree.precluster_.labels_
    for node in panel.nodes:
        assert node.name == f"node_{node.id}"
        members = np.isin(pre, list(_leaves(tree.linkage_, node.id)))
        assert node.size == members.sum()
        assert node.is_cluster == (node.id in tree.cluster_nodes_.tolist())
        if node.is_leaf:
            assert node.height == 0.0
        else:
            assert node.height == tree.linkage_[node.id - m, 2]
            assert all(panel.node(c).parent == node.id for c in node.children)
    assert panel.cluster_nodes == tree.cluster_nodes_.tolist()


def test_averages_and_differences_are_those_of_the_rows_under_each_node(panel, tree, rows):
    pre = tree.precluster_.labels_
    for node in panel.nodes:
        members = rows[np.isin(pre, list(_leaves(tree.linkage_, node.id)))]
        assert node.averages["a"] == pytest.approx(members["a"].mean())
        # Missing ages are left out of the average (pandas skips NaN too).
        assert node.averages["age"] == pytest.approx(members["age"].mean())
        if node.parent is None:
            assert node.diff_to_parent == {"a": None, "age": None}
        else:
            parent = panel.node(node.parent)
            for f in ("a", "age"):
                assert node.diff_to_parent[f] == pytest.approx(
                    node.averages[f] - parent.averages[f]
                )


def test_dendrogram_positions_put_leaves_in_order_and_merges_between(panel):
    leaves = [n for n in panel.nodes if n.is_leaf]
    assert sorted(n.x for n in leaves) == list(range(10))
    for node in panel.nodes:
        if not node.is_leaf:
            a, b = (panel.node(c) for c in node.children)
            assert node.x == pytest.approx((a.x + b.x) / 2)


def test_the_panel_cuts_like_the_model(panel, tree):
    assert np.allclose(panel.linkage(), tree.linkage_)
    for node in range(2 * 10 - 1):
        assert panel.cut_with(node) == tree.cut_with(node)
    # Setting the root's first child splits nothing above it and keeps the sizes summing up.
    new_cut = panel.cut_with(panel.node(panel.root).children[0])
    assert sum(panel.node(n).size for n in new_cut) == panel.node(panel.root).size
    with pytest.raises(NotFoundError, match="nodes are 0 to 18"):
        panel.node(40)


def test_json_round_trip_and_dendrogram_traces(panel):
    again = HierarchyPanel.model_validate_json(panel.model_dump_json())
    assert again == panel
    fig = dendrogram_figure(again)
    names = [t.name for t in fig.data]
    cluster_links = [f"node_{n}" for n in again.cluster_nodes if again.node(n).children]
    assert names == [*cluster_links, "above the clusters", "nodes"]
    # One U-shaped link (five points with its separator) per merge.
    links = sum(len(t.x) for t in fig.data[:-1])
    assert links == 5 * (again.n_preclusters - 1)
    markers = fig.data[-1]
    assert list(markers.customdata) == [n.id for n in again.nodes]
    assert "vs parent" in markers.text[0]


def test_session_hierarchy_of_a_two_step_model(rows):
    design = TaskDesign(
        features=(FeatureHandling(name="a"), FeatureHandling(name="b")),
        algorithms=(TwoStepSpec(pre_k=8, k=2, seed=0), KMeansSpec(k=(2,), seed=0)),
    )
    session = train_session(rows[["a", "b"]], design)
    two_step, kmeans = session.models
    panel = session_hierarchy(session, two_step)
    assert panel.features == ["a", "b"]
    sizes = two_step.metrics.cluster_sizes
    assert {f"node_{n}": panel.node(n).size for n in panel.cluster_nodes} == sizes
    with pytest.raises(InvalidInputError, match="only two-step models"):
        session_hierarchy(session, kmeans)


def test_rows_must_match_the_fitted_rows(tree, rows):
    with pytest.raises(InvalidInputError, match="160 rows the two-step model was fitted on"):
        build_hierarchy(tree, rows.head(5), ["a"])
    with pytest.raises(InvalidInputError, match="'zzz'"):
        build_hierarchy(tree, rows, ["zzz"])
