"""Matching a retrained model's clusters to the previous version's clusters.

Births, deaths, splits and merges on blobs whose truth is known.
"""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pandas as pd
import pytest

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.lab import ClusterMeta
from clusterlab.core.mltask import (
    AgglomerativeSpec,
    DBSCANSpec,
    FeatureHandling,
    KMeansSpec,
    TaskDesign,
)
from clusterlab.ml.matching import (
    ClusterMatching,
    inherit_metadata,
    match_centroids,
    match_models,
    match_overlap,
    overlap_table,
)
from clusterlab.ml.training import TrainedModel, train_session

# Blob centers (x, y); C1 and C2 are close to each other and far from A and B, so that
# three clusters put them together and four clusters tell them apart.
CENTERS = {
    "A": (0.0, 0.0),
    "B": (20.0, 0.0),
    "C1": (10.0, 15.0),
    "C2": (10.0, 19.0),
    "D": (-15, 25),
}


def blobs(names: list[str], n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = [
        pd.DataFrame(
            {
                "x": rng.normal(CENTERS[b][0], 0.5, n),
                "y": rng.normal(CENTERS[b][1], 0.5, n),
                "truth": b,
            }
        )
        for b in names
    ]
    return pd.concat(parts, ignore_index=True)


def train(frame: pd.DataFrame, spec: object) -> TrainedModel:
    """Train one model and record its training state, as training does after fitting."""
    design = TaskDesign(
        features=(FeatureHandling(name="x"), FeatureHandling(name="y")), algorithms=(spec,)
    )
    session = train_session(frame, design)
    trained = session.models[0]
    assert trained.model is not None, trained.error
    assert trained.labels is not None
    ids_of = {name: i for i, name in trained.model.names.items()}
    fit_names = trained.labels.to_numpy()[session.fit_positions]
    trained.model.record_training(
        session.matrix, np.array([ids_of[n] for n in fit_names]), trained.labels.to_numpy()
    )
    return trained


def cluster_of(trained: TrainedModel, frame: pd.DataFrame) -> dict[str, str]:
    """True blob → the cluster holding most of its rows (computed from the labels)."""
    table = pd.crosstab(frame["truth"], trained.labels)
    return {str(blob): str(table.loc[blob].idxmax()) for blob in table.index}


def expected_inheritance(
    old: TrainedModel, new: TrainedModel, old_frame: pd.DataFrame, new_frame: pd.DataFrame
) -> dict[str, str]:
    old_clusters, new_clusters = cluster_of(old, old_frame), cluster_of(new, new_frame)
    return {new_clusters[b]: old_clusters[b] for b in new_clusters if b in old_clusters}


def test_same_segments_all_inherit_whatever_the_label_order():
    frame = blobs(["A", "B", "C1", "D"])
    old = train(frame, KMeansSpec(k=(4,), seed=0))
    new_frame = blobs(["A", "B", "C1", "D"], seed=1)
    new = train(new_frame, KMeansSpec(k=(4,), seed=5))
    matching = match_models(old.model, new.model, new_frame, new.labels)
    assert matching.method == "centroids"
    assert matching.inherited() == expected_inheritance(old, new, frame, new_frame)
    assert (matching.births, matching.deaths) == ([], [])
    assert (matching.splits, matching.merges) == ([], [])
    assert matching.shared_rows == len(new_frame)
    assert all(link.old_share == 1.0 and link.distance < 0.3 for link in matching.links)


def test_permuted_labels_all_inherit_by_overlap_and_by_centroids():
    rng = np.random.default_rng(0)
    old = rng.choice(["cluster_0", "cluster_1", "cluster_2"], 300)
    permutation = {"cluster_0": "cluster_2", "cluster_1": "cluster_0", "cluster_2": "cluster_1"}
    new = np.array([permutation[o] for o in old])
    by_overlap = match_overlap(old, new)
    assert by_overlap.inherited() == {n: o for o, n in permutation.items()}
    assert [link.jaccard for link in by_overlap.links] == [1.0, 1.0, 1.0]
    centers = {"cluster_0": [0.0, 1.0], "cluster_1": [5.0, 5.0], "cluster_2": [9.0, 0.0]}
    moved = {permutation[o]: np.add(c, 0.1) for o, c in centers.items()}
    by_centroids = match_centroids(centers, moved, max_distance=1.0)
    assert by_centroids.inherited() == {n: o for o, n in permutation.items()}
    assert [round(link.distance, 6) for link in by_centroids.links] == [round(0.02**0.5, 6)] * 3


def test_a_removed_segment_is_a_death():
    frame = blobs(["A", "B", "C1", "D"])
    old = train(frame, KMeansSpec(k=(4,), seed=0))
    new_frame = blobs(["A", "B", "C1"], seed=1)
    new = train(new_frame, KMeansSpec(k=(3,), seed=0))
    matching = match_models(old.model, new.model, new_frame, new.labels)
    assert matching.deaths == [cluster_of(old, frame)["D"]]
    assert matching.births == []
    assert matching.inherited() == expected_inheritance(old, new, frame, new_frame)
    assert f"Cluster {cluster_of(old, frame)['D']} has no successor." in matching.describe()


def test_a_segment_split_in_two():
    frame = blobs(["A", "B", "C1", "C2"])
    old = train(frame, KMeansSpec(k=(3,), seed=0))
    new = train(frame, KMeansSpec(k=(4,), seed=0))
    old_c, new_c = cluster_of(old, frame), cluster_of(new, frame)
    assert old_c["C1"] == old_c["C2"]  # the old version has C1 and C2 as one cluster
    matching = match_models(old.model, new.model, frame, new.labels)
    assert len(matching.splits) == 1
    split = matching.splits[0]
    assert split.old == old_c["C1"]
    assert set(split.parts) == {new_c["C1"], new_c["C2"]}
    assert split.parts == pytest.approx({new_c["C1"]: 0.5, new_c["C2"]: 0.5})
    # One half continues the old cluster, the other is born; A and B carry on.
    assert len(matching.births) == 1
    assert matching.births[0] in {new_c["C1"], new_c["C2"]}
    assert matching.inherited()[new_c["A"]] == old_c["A"]
    assert matching.inherited()[new_c["B"]] == old_c["B"]
    assert matching.deaths == []
    assert matching.merges == []


def test_two_segments_merged():
    frame = blobs(["A", "B", "C1", "C2"])
    old = train(frame, KMeansSpec(k=(4,), seed=0))
    new = train(frame, KMeansSpec(k=(3,), seed=0))
    old_c, new_c = cluster_of(old, frame), cluster_of(new, frame)
    matching = match_models(old.model, new.model, frame, new.labels)
    assert len(matching.merges) == 1
    merge = matching.merges[0]
    assert merge.new == new_c["C1"]
    assert merge.parts == {old_c["C1"]: 1.0, old_c["C2"]: 1.0}
    assert matching.inherited()[new_c["C1"]] in {old_c["C1"], old_c["C2"]}
    assert len(matching.deaths) == 1
    assert matching.deaths[0] in {old_c["C1"], old_c["C2"]}
    assert matching.births == []
    assert matching.splits == []


def test_algorithms_without_centroids_match_by_overlap():
    frame = blobs(["A", "B", "C1", "D"], n=40)
    old = train(frame, AgglomerativeSpec(k=(4,)))
    new_frame = blobs(["A", "B", "C1"], n=40, seed=2)
    new = train(new_frame, AgglomerativeSpec(k=(3,)))
    matching = match_models(old.model, new.model, new_frame, new.labels)
    assert matching.method == "overlap"
    assert matching.deaths == [cluster_of(old, frame)["D"]]
    assert matching.inherited() == expected_inheritance(old, new, frame, new_frame)
    assert all(link.jaccard == 1.0 for link in matching.links)


def test_a_far_away_new_segment_is_a_birth_not_an_heir():
    old = {"cluster_0": [0.0, 0.0], "cluster_1": [10.0, 0.0]}
    new = {"cluster_0": [0.1, 0.0], "cluster_1": [40.0, 40.0]}
    radius = {"cluster_0": 1.0, "cluster_1": 1.0}
    matching = match_centroids(old, new, old_radius=radius, new_radius=radius)
    assert matching.inherited() == {"cluster_0": "cluster_0"}
    assert matching.births == ["cluster_1"]
    assert matching.deaths == ["cluster_1"]
    # 1.5 × radius 1.0 is the reach: 1.5 away still matches, 1.6 does not.
    near = match_centroids(old, {"c": [11.5, 0.0]}, old_radius=radius, new_radius={"c": 1.0})
    far = match_centroids(old, {"c": [11.6, 0.0]}, old_radius=radius, new_radius={"c": 1.0})
    assert near.inherited() == {"c": "cluster_1"}
    assert far.inherited() == {}


def test_noise_and_outliers_match_themselves_by_name():
    old = ["cluster_0"] * 5 + ["noise"] * 2 + ["cluster_outliers"]
    new = ["cluster_1"] * 5 + ["cluster_0", "noise", "cluster_outliers"]
    matching = match_overlap(old, new)
    by = {link.new: (link.old, link.by) for link in matching.links}
    assert by["noise"] == ("noise", "name")
    assert by["cluster_outliers"] == ("cluster_outliers", "name")
    assert by["cluster_1"] == ("cluster_0", "overlap")
    assert matching.births == ["cluster_0"]
    assert matching.deaths == []
    # Rows that went to noise never make a split: only regular clusters are parts.
    assert matching.splits == []


def test_dbscan_noise_is_kept_through_match_models():
    frame = pd.concat(
        [blobs(["A", "B"], n=50), pd.DataFrame({"x": [50.0, -50.0], "y": [50.0, 50.0]})],
        ignore_index=True,
    )
    old = train(frame, DBSCANSpec(eps=(1.0,), min_sample_ratio=0.05))
    new = train(frame, DBSCANSpec(eps=(1.2,), min_sample_ratio=0.05))
    matching = match_models(old.model, new.model, frame, new.labels)
    assert matching.method == "overlap"
    assert matching.inherited()["noise"] == "noise"
    assert (matching.births, matching.deaths) == ([], [])


def test_overlap_table_counts_rows_labelled_by_both():
    table = overlap_table(["a", "a", "b", None, "b"], ["x", "y", "y", "y", None])
    assert table.to_dict() == {"x": {"a": 1, "b": 0}, "y": {"a": 1, "b": 1}}


def test_empty_inputs_fail_clearly():
    with pytest.raises(InvalidInputError, match="No row has a cluster in both versions"):
        match_overlap([], [])
    with pytest.raises(InvalidInputError, match="same rows"):
        match_overlap(["a"], ["a", "b"])
    with pytest.raises(InvalidInputError, match="old version has no cluster"):
        match_centroids({}, {"a": [0.0]})
    with pytest.raises(InvalidInputError, match="same space"):
        match_centroids({"a": [0.0]}, {"a": [0.0, 1.0]})
    model = train(blobs(["A", "B"], n=20), KMeansSpec(k=(2,), seed=0)).model
    with pytest.raises(InvalidInputError, match="frame is empty"):
        match_models(model, model, pd.DataFrame({"x": [], "y": []}))


def test_matching_is_json_round_trippable():
    matching = match_overlap(list("aaaabbcc"), list("xxxyzzzz"))
    assert ClusterMatching.model_validate_json(matching.model_dump_json()) == matching
    assert matching.merges[0].new == "z"
    assert matching.merges[0].parts == {"b": 1.0, "c": 1.0}


def test_inherit_metadata_carries_names_colors_descriptions_and_names_births_freshly():
    matching = match_overlap(
        ["cluster_0"] * 3 + ["cluster_1"] * 3, ["cluster_2"] * 3 + ["cluster_0"] * 3
    )
    assert matching.inherited() == {"cluster_2": "cluster_0", "cluster_0": "cluster_1"}
    old = [
        ClusterMeta(id="cluster_0", name="Loyal", color="#aa0000", description="Buy often"),
        ClusterMeta(id="cluster_1", name="cluster_1", color="#00aa00"),
    ]
    new = [
        ClusterMeta(id=f"cluster_{i}", name=f"cluster_{i}", color=color)
        for i, color in ((0, "#aa0000"), (1, "#00aa00"), (2, "#0000aa"))
    ]
    out = {meta.id: meta for meta in inherit_metadata(matching, old, new)}
    assert out["cluster_2"].name == "Loyal"
    assert (out["cluster_2"].color, out["cluster_2"].description) == ("#aa0000", "Buy often")
    assert (out["cluster_0"].name, out["cluster_0"].color) == ("cluster_1", "#00aa00")
    # cluster_1 is born: its default name is taken by an heir, its color too.
    born = out["cluster_1"]
    assert born.name == "cluster_0"
    assert born.color not in {"#aa0000", "#00aa00"}
    assert len({m.name for m in out.values()}) == 3


@pytest.mark.parametrize("name", ["clusterlab.ml.matching"])
def test_docstring_examples(name):
    result = doctest.testmod(
        importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    )
    assert result.failed == 0
    assert result.attempted > 0


def test_overlap_counts_equal_a_crosstab_of_the_names():
    rng = np.random.default_rng(0)
    old = rng.choice(np.array(["a", "b", "c10", "c2", None], dtype=object), 5000)
    new = rng.choice(np.array(["x", 7, "y", None], dtype=object), 5000)  # 7: not text
    both = pd.notna(old) & pd.notna(new)
    expected = pd.crosstab(old[both].astype(str), new[both].astype(str))
    expected.index.name, expected.columns.name = None, None
    pd.testing.assert_frame_equal(overlap_table(old, new), expected.astype(np.int64))
    assert overlap_table([None], ["x"]).shape == (0, 0)


def test_group_centroids_are_the_means_and_radii_of_each_clusters_rows():
    from clusterlab.ml.matching import _group_centroids

    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(3000, 4)) * [1.0, 5.0, 0.1, 20.0]
    labels = rng.choice(np.array(["a", "b", "noise", None], dtype=object), 3000)
    given = {"a": np.array([1.0, -2.0, 0.5, 3.0])}
    for centers in (None, given):
        found, radius = _group_centroids(matrix, labels, centers)
        assert sorted(found) == (["a", "b"] if centers is None else ["a"])
        for name in found:
            rows = matrix[labels == name]
            center = rows.mean(axis=0) if centers is None else given[name]
            np.testing.assert_allclose(found[name], center, rtol=1e-12)
            expected = np.sqrt(((rows - center) ** 2).sum(axis=1).mean())
            assert radius[name] == pytest.approx(expected, rel=1e-12)
