"""Variables importance: which features a forest needs to tell the clusters apart.

As in DSS, a random forest of 100 trees learns to predict each row's cluster from the
preprocessed matrix (before PCA); its impurity-based importances, rescaled to sum to
100%, say which features drive the segmentation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from clusterlab.core.errors import InvalidInputError

N_TREES = 100
DEFAULT_MAX_ROWS = 100_000
"""Rows the forest learns from; beyond, a seeded random sample keeps it to seconds."""


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
    n_jobs: int | None = None,
) -> list[FeatureImportance]:
    """Train a 100-tree random forest to predict the clusters; importances in %, largest first.

    Parameters
    ----------
    matrix : array-like of shape (n_rows, n_features)
        The preprocessed matrix the clustering was fitted on (before PCA).
    labels : sequence of shape (n_rows,)
        The cluster label of each row.
    feature_names : sequence of str
        Names of the matrix columns (e.g. ``country=France`` for a dummy column).
    random_state : int
        Seed of the forest and of the row sample.
    max_rows : int or None
        Sample this many rows at most (None: use all rows).
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

    x = np.asarray(matrix, dtype=np.float64)
    y = np.asarray(labels).astype(str)
    names = list(feature_names)
    if x.ndim != 2 or x.shape[1] != len(names) or x.shape[0] != len(y):
        raise InvalidInputError(
            f"variables_importance needs a (rows, features) matrix matching its labels and "
            f"names; got a matrix of shape {x.shape}, {len(y)} labels and {len(names)} names."
        )
    if x.shape[0] == 0 or not names:
        raise InvalidInputError("variables_importance needs at least one row and one feature.")
    if max_rows is not None and x.shape[0] > max_rows:
        keep = np.random.default_rng(random_state).choice(x.shape[0], max_rows, replace=False)
        x, y = x[keep], y[keep]
    forest = RandomForestClassifier(n_estimators=N_TREES, random_state=random_state, n_jobs=n_jobs)
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
