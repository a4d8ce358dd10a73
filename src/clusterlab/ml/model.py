"""A fitted clustering model ready to label rows: preprocessing, outliers, PCA, estimator.

`ClusteringModel.predict` replays the training pipeline on new rows: rows dropped by a
"drop rows" missing-value handling, or detected as outliers with the "drop" method, get
an empty label; outliers with the "cluster" method get ``cluster_outliers``; every
other row gets its cluster name (and, for Isolation Forest, an anomaly score).

Examples
--------
>>> import pandas as pd
>>> from clusterlab.core.mltask import FeatureHandling, TaskDesign, KMeansSpec
>>> from clusterlab.ml.training import train_session
>>> frame = pd.DataFrame({"x": [0.0, 0.2, 0.1, 9.0, 9.2, 9.1]})
>>> design = TaskDesign(features=(FeatureHandling(name="x"),),
...                     algorithms=(KMeansSpec(k=(2,), seed=0),))
>>> model = train_session(frame, design).models[0].model
>>> model.predict(pd.DataFrame({"x": [0.05, 8.8, None]}))["cluster_labels"].tolist()
['cluster_1', 'cluster_0', 'cluster_0']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clusterlab.core.errors import UnsupportedError
from clusterlab.core.mltask import AlgorithmType, ModelManifest, ModelParams, OutliersSpec
from clusterlab.ml.algorithms import assign, isolation_labels
from clusterlab.ml.outliers import OUTLIERS_CLUSTER, MiniClusterOutliers
from clusterlab.ml.preprocess import FittedPreprocessing, Matrix
from clusterlab.ml.twostep import TwoStepClustering

LABEL_COLUMN = "cluster_labels"
"""Column of cluster names in a scored table, as the apply recipe writes it."""
SCORE_COLUMN = "anomaly_score"
"""Column of Isolation Forest anomaly scores in a scored table."""


@dataclass
class ClusteringModel:
    """Everything needed to label new rows the way the training rows were labelled.

    ``names`` maps label ids to cluster names; ``assigner`` is the approximate rule of
    algorithms without ``predict`` (their labels for new rows are then approximate).
    ``manifest`` is set on models read back by `clusterlab.ml.artifacts.load_model`.
    """

    params: ModelParams
    preprocessing: FittedPreprocessing
    estimator: Any
    names: dict[int, str]
    outliers: OutliersSpec
    outlier_detector: MiniClusterOutliers | None = None
    pca: Any = None
    assigner: dict[str, Any] | None = None
    manifest: ModelManifest | None = None

    @property
    def approximate(self) -> bool:
        """Whether new rows are labelled by an approximate rule, not the algorithm."""
        return self.assigner is not None

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Names of the preprocessed matrix columns (before PCA)."""
        return self.preprocessing.feature_names

    @property
    def cluster_names(self) -> list[str]:
        """Every cluster name the model can give, by label id (noise and outliers last)."""
        names = [self.names[i] for i in sorted(self.names) if i >= 0]
        if -1 in self.names:
            names.append(self.names[-1])
        if self.outliers.method == "cluster":
            names.append(OUTLIERS_CLUSTER)
        return names

    def set_cluster_nodes(self, nodes: Sequence[int]) -> None:
        """Two-step only: make tree ``nodes`` the clusters, named ``node_<id>``.

        The training labels and metrics of the `TrainedModel` are then stale: re-score
        the training rows with `predict`.
        """
        if not isinstance(self.estimator, TwoStepClustering):
            raise UnsupportedError(
                f"{self.params.label} has no hierarchy; only two-step models can set tree "
                "nodes as clusters."
            )
        self.estimator.set_cluster_nodes(nodes)
        self.names = dict(enumerate(self.estimator.cluster_names()))

    def label_ids(self, matrix: Matrix) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any] | None]:
        """Label ids (and anomaly scores) of rows of the final matrix."""
        if self.params.algorithm is AlgorithmType.ISOLATION_FOREST:
            return isolation_labels(self.estimator, matrix)
        if self.assigner is not None:
            return assign(self.assigner, matrix), None
        if not callable(getattr(self.estimator, "predict", None)):
            raise UnsupportedError(
                f"{self.params.label} cannot label new rows: its clusterer has no predict "
                "method. Use a clusterer with predict, or re-cluster with the cluster recipe."
            )
        return np.asarray(self.estimator.predict(matrix), dtype=np.int64), None

    def predict(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Label the rows of ``frame``.

        Returns
        -------
        DataFrame
            Indexed like ``frame``, with ``cluster_labels`` (the cluster name; missing
            for dropped rows) and, for Isolation Forest, ``anomaly_score``.
        """
        labels = np.full(len(frame), None, dtype=object)
        scores = np.full(len(frame), np.nan)
        matrix, kept = self.preprocessing.transform(frame)
        positions = np.flatnonzero(kept)
        if len(positions) and self.outlier_detector is not None:
            outlier = self.outlier_detector.is_outlier(matrix)
            if self.outliers.method == "cluster":
                labels[positions[outlier]] = OUTLIERS_CLUSTER
            matrix, positions = matrix[~outlier], positions[~outlier]
        if len(positions):
            if self.pca is not None:
                matrix = np.asarray(self.pca.transform(matrix), dtype=np.float64)
            ids, found_scores = self.label_ids(matrix)
            labels[positions] = [self.names.get(i) for i in ids.tolist()]
            if found_scores is not None:
                scores[positions] = found_scores
        out = pd.DataFrame({LABEL_COLUMN: labels}, index=frame.index)
        if self.params.algorithm is AlgorithmType.ISOLATION_FOREST:
            out[SCORE_COLUMN] = scores
        return out
