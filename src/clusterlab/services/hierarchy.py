"""Two-step models: set a node of the hierarchy as a cluster, then re-score the model.

The session's cached training rows are trained again with the model's own parameters
(same seed, same rows: the same pre-clusters and tree, which is checked), the tree is
cut at the new nodes, and metrics, report and artifact are rebuilt. The model folder
is replaced whole. Clusters that stay (same node) keep their names, colors and
descriptions; new nodes get their default name.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from clusterlab.core.errors import InvalidInputError, StorageError
from clusterlab.core.lab import ClusterMeta
from clusterlab.ml.metrics import compute_metrics
from clusterlab.ml.training import train_session
from clusterlab.ml.twostep import TwoStepClustering
from clusterlab.services.model_store import CLUSTERS_FILE, ModelStore, write_json
from clusterlab.services.training_sample import read_sample
from clusterlab.storage.definitions import write_model

if TYPE_CHECKING:
    from clusterlab.services.lab import Model


def set_cluster_node(model: Model, node: int) -> list[int]:
    """Make tree ``node`` a cluster of two-step ``model`` and re-score it.

    Setting an ancestor of clusters merges them; setting a node inside a cluster
    splits that cluster. Returns the new cluster nodes.
    """
    tree = model.report.summary.hierarchy
    if tree is None:
        raise InvalidInputError(
            f"{model.summary.label} has no hierarchy: only two-step models can set a tree "
            "node as a cluster."
        )
    nodes = tree.cut_with(node)
    session = model.session
    design = session.summary.design
    if design is None:
        raise StorageError(
            f"Session {session.summary.number} predates stored designs: train a new session "
            "to edit this model's hierarchy."
        )
    frame = read_sample(session.task.folder, session.summary.sample)
    params = model.model_params
    result = train_session(frame, design.for_models(params), sample=False)
    trained = result.models[0]
    if trained.model is None or not isinstance(trained.model.estimator, TwoStepClustering):
        raise StorageError(f"Re-training {model.summary.label} failed: {trained.error}")
    estimator = trained.model.estimator
    if not np.allclose(estimator.linkage_, tree.linkage()):
        raise StorageError(
            f"Re-training {model.summary.label} did not give the same tree, so the new "
            "clusters cannot be applied to it; train a new session and edit that one."
        )
    trained.model.set_cluster_nodes(nodes)
    matrix = result.matrix if not params.pca else result.pca.transform(result.matrix)
    label_ids = np.asarray(estimator.labels_, dtype=np.int64)
    names = trained.model.names
    assert trained.labels is not None
    labels = trained.labels.to_numpy(dtype=object).copy()
    labels[result.fit_positions] = [names[int(i)] for i in label_ids]
    metrics = compute_metrics(matrix, label_ids, names, design.metrics, inertia=True)
    trained.model.record_training(matrix, label_ids, labels)
    rescored = replace(
        trained,
        labels=pd.Series(labels, index=trained.labels.index, dtype=object, name="cluster"),
        metrics=metrics,
    )
    old = {c.id: c for c in model.clusters}
    staging = model.folder.with_name(f".{model.folder.name}-{uuid.uuid4().hex[:6]}")
    try:
        summary = ModelStore(result, lambda _m: None).write(rescored, staging)
        fresh = _clusters(staging / CLUSTERS_FILE)
        kept = [old.get(c.id, c) for c in fresh]
        write_json(staging / CLUSTERS_FILE, [c.model_dump() for c in kept])
        trash = model.folder.with_name(f".{model.folder.name}-old-{uuid.uuid4().hex[:6]}")
        os.replace(model.folder, trash)
        os.replace(staging, model.folder)
        shutil.rmtree(trash, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    summaries = [
        summary.model_copy(update={"id": model.id}) if m.id == model.id else m
        for m in session.summary.models
    ]
    session.summary = session.summary.model_copy(update={"models": summaries})
    write_model(session.folder / "session.json", session.summary)
    model.summary = summaries[[m.id for m in summaries].index(model.id)]
    return nodes


def _clusters(path: Path) -> list[ClusterMeta]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return [ClusterMeta.model_validate(c) for c in raw]
