"""Variables importance: which features a forest needs to tell the clusters apart.

As in DSS, a random forest of 100 trees learns to predict each row's cluster from the
preprocessed matrix (before PCA); its impurity-based importances, rescaled to sum to
100%, say which features drive the segmentation.

Its cost is bounded whatever the rows: the forest learns from a cluster-stratified
sample of at most `DEFAULT_MAX_ROWS` rows, each tree from `ROWS_PER_TREE` of them.
Measured on 1M rows × 15 features and 5 clusters, this took 0.6 s of CPU against 24 s
for full trees on 50,000 rows, and its importances were within 1.3 points of theirs
(two samples of 10,000 rows with full trees already differ by as much).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from clusterlab.core.errors import InvalidInputError
from clusterlab.ml.sampling import stratified_positions

N_TREES = 100
DEFAULT_MAX_ROWS = 20_000
"""Rows the forest learns from; beyond, a seeded cluster-stratified sample."""
ROWS_PER_TREE = 1_000
"""Rows each tree is grown on (a bootstrap draw from the sample), when there are more."""


class FeatureImportance(BaseModel):
    """One feature of the preprocessed matrix and its importance in percent."""

    model_config = ConfigDict(frozen=True)

    feature: str
    importance: float


def variables_importance(
    matrix: Any,
    labels: Sequence[Any] | np.ndarray[Any, Any],
    feature_names: Sequence[str],
    *,
    random_state: int = 0,
    max_rows: int | None = DEFAULT_MAX_ROWS,
    rows_per_tree: int | None = ROWS_PER_TREE,
    n_jobs: int | None = None,
) -> list[FeatureImportance]:
    """Train a 100-tree random forest to predict the clusters; importances in %, largest first.

    Parameters
    ----------
    matrix : array-like of shape (n_rows, n_features)
        The preprocessed matrix the clustering was fitted on (before PCA): an array,
        or any object with ``shape`` whose rows are read by indexing with positions.
    labels : sequence of shape (n_rows,)
        The cluster label of each row.
    feature_names : sequence of str
        Names of the matrix columns (e.g. ``country=France`` for a dummy column).
    random_state : int
        Seed of the forest and of the row sample.
    max_rows : int or None
        Learn from this many rows at most, sampled in proportion to each cluster's
        size (None: use all rows).
    rows_per_tree : int or None
        Grow each tree on a bootstrap draw of this many rows (None, or at least as
        many rows as learnt from: draws as large as the rows, scikit-learn's default).
    n_jobs : int or None
        Parallel jobs of the forest (scikit-learn's meaning).

    Returns
    -------
    list of FeatureImportance
        Sorted by decreasing importance; the importances sum to 100. When the forest
        finds nothing to split on (a single cluster, constant features), every feature
        gets the same share.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 2))
    >>> y = np.where(x[:, 0] > 0, "a", "b")
    >>> result = variables_importance(x, y, ["signal", "noise"], random_state=0)
    >>> result[0].feature, round(sum(r.importance for r in result), 6)
    ('signal', 100.0)
    """
    from sklearn.ensemble import RandomForestClassifier

    shape = np.shape(matrix)
    raw = np.asarray(labels)
    names = list(feature_names)
    if len(shape) != 2 or shape[1] != len(names) or shape[0] != len(raw):
        raise InvalidInputError(
            f"variables_importance needs a (rows, features) matrix matching its labels and "
            f"names; got a matrix of shape {shape}, {len(raw)} labels and {len(names)} names."
        )
    if shape[0] == 0 or not names:
        raise InvalidInputError("variables_importance needs at least one row and one feature.")
    if max_rows is not None and shape[0] > max_rows:
        # Integer codes by hashing: sorting a million label strings would cost seconds.
        codes = pd.factorize(raw, use_na_sentinel=False)[0]
        keep = stratified_positions(codes, max_rows, random_state)
        # Only the sampled rows are read: ``matrix`` may build its rows on demand.
        matrix, raw = matrix[keep], raw[keep]
    x = np.asarray(matrix, dtype=np.float64)
    y = raw.astype(str)
    per_tree = rows_per_tree if rows_per_tree is not None and rows_per_tree < len(y) else None
    forest = RandomForestClassifier(
        n_estimators=N_TREES, random_state=random_state, max_samples=per_tree, n_jobs=n_jobs
    )
    forest.fit(x, y)
    raw = np.asarray(forest.feature_importances_, dtype=np.float64)
    total = float(raw.sum())
    percents = raw * 100 / total if total > 0 else np.full(len(names), 100 / len(names))
    order = sorted(range(len(names)), key=lambda k: (-percents[k], k))
    return [FeatureImportance(feature=names[k], importance=float(percents[k])) for k in order]


def importances_table(importances: Sequence[FeatureImportance]) -> pd.DataFrame:
    """Export the importances as a table with columns ``feature, importance`` (in %).

    Examples
    --------
    >>> importances_table([FeatureImportance(feature="age", importance=100.0)])
      feature  importance
    0     age       100.0
    """
    return pd.DataFrame(
        {
            "feature": [i.feature for i in importances],
            "importance": [i.importance for i in importances],
        }
    )
