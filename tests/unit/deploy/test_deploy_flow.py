"""Deploy a Lab model to the Flow, apply it, retrain it, roll it back (real jobs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import clusterlab as cl
from clusterlab.core.errors import ClusterLabError

CENTERS = {"near": (0.0, 0.0), "far": (8.0, 8.0), "side": (0.0, 8.0)}


def blobs(names: list[str], seed: int, per: int = 150) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = [rng.normal(CENTERS[n], 0.5, (per, 2)) for n in names]
    points = np.vstack(parts)
    return pd.DataFrame({"x": points[:, 0], "y": points[:, 1], "truth": np.repeat(names, per)})


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> cl.Project:
    ws = cl.Workspace(tmp_path_factory.mktemp("ws"))
    p = ws.create_project("DEPLOY")
    p.create_dataset("points", blobs(["near", "far", "side"], seed=1))
    task = p.create_clustering_task("points")
    task.reject_feature("truth")
    task.set_algorithm("kmeans", k=[3])
    model = task.train().models[0]
    frame = p.dataset("points").to_pandas()
    ids = model.predict(frame)
    for cluster_id in sorted(set(ids)):
        truth = frame.loc[ids == cluster_id, "truth"].mode()[0]
        model.rename_cluster(cluster_id, f"Segment {truth}")
    model.deploy("segments", name="Web segments")
    p.create_apply_recipe("points", "segments", "points_scored")
    p.build("points_scored")
    return p


def test_apply_writes_cluster_names_equal_to_predict(deployed: cl.Project) -> None:
    saved = deployed.saved_model("Web segments")
    assert saved.id == "segments"
    assert [v.id for v in saved.versions] == ["v1"]
    assert saved.active.id == "v1"
    assert saved.active.info.source == "deploy"
    manifest = saved.active.load().manifest
    assert manifest is not None
    assert manifest.lineage["saved_model_version"] == "v1"
    assert manifest.lineage["task"] == saved.spec.task
    assert len(manifest.artifact_sha256) == 64
    scored = deployed.dataset("points_scored").to_pandas()
    assert scored.columns.tolist()[:3] == ["x", "y", "truth"]
    assert {"cluster_labels", "cluster_id", "cluster_distance"} <= set(scored.columns)
    by_truth = scored.groupby("truth")["cluster_labels"].agg(lambda s: set(s))
    assert by_truth.to_dict() == {n: {f"Segment {n}"} for n in CENTERS}
    expected = saved.predict(deployed.dataset("points").to_pandas())
    assert scored["cluster_labels"].tolist() == expected["cluster_labels"].tolist()
    np.testing.assert_allclose(scored["cluster_distance"], expected["cluster_distance"])
    assert saved.apply_runs()[-1]["rows"] == len(scored)


def test_smart_build_skips_an_unchanged_apply(deployed: cl.Project) -> None:
    job = deployed.build("points_scored")
    messages = [m.message for m in deployed.workspace.runtime.logs(job.id)]
    assert any("up to date" in m for m in messages)


def test_retrain_keeps_names_reports_a_death_then_rolls_back(
    deployed: cl.Project,
) -> None:
    saved = deployed.saved_model("segments")
    deployed.create_dataset("points", blobs(["near", "far"], seed=2), overwrite=True)
    version = saved.retrain()
    assert version.id == "v2"
    assert saved.active.id == "v2"
    names = {c.name for c in version.clusters}
    assert {"Segment near", "Segment far"} <= names
    assert "Segment side" not in names
    matching = version.matching
    assert matching is not None
    old_names = saved.version("v1").names()
    assert [old_names[d] for d in matching["deaths"]] == ["Segment side"]
    assert any("Segment side" in change for change in version.info.changes)
    deployed.build("points_scored")
    scored = deployed.dataset("points_scored").to_pandas()
    # k = 3 on two segments splits one of them: each keeps its name on most of its rows.
    majority = scored.groupby("truth")["cluster_labels"].agg(lambda s: s.mode()[0])
    assert majority.to_dict() == {"far": "Segment far", "near": "Segment near"}
    assert set(scored["cluster_labels"]) == names
    # Roll back to v1, then a tampered v2 artifact is refused when loaded.
    saved.rollback()
    assert deployed.saved_model("segments").active.id == "v1"
    artifact = saved.version("v2").folder / "model.skops"
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    with pytest.raises(ClusterLabError, match=r"sha256|changed|tamper"):
        saved.version("v2").load()


def test_apply_runs_record_drift(deployed: cl.Project) -> None:
    saved = deployed.saved_model("segments")
    assert saved.apply_runs()[0]["warnings"] == []  # the training data itself: no drift
    deployed.create_dataset("shifted", blobs(["near", "near", "far"], seed=5))
    deployed.create_apply_recipe("shifted", "segments", "shifted_scored")
    deployed.build("shifted_scored")
    run = saved.apply_runs()[-1]
    assert run["dataset"] == "shifted_scored"
    assert run["rows"] == 450
    assert any("Segment near" in w and "points" in w for w in run["warnings"])
