"""Data of the scatter plot panel: a cluster-balanced sample of the training rows.

A scatter of every row hides small clusters under big ones and is slow to draw, so
the panel shows at most ``max_points`` rows (1000 by default) with the *same quota
for every cluster*; the quota a small cluster cannot fill goes to the others. Each
sampled row carries its cluster, its numeric feature values, its PCA factors
(``factor_0``, … when the model used PCA) and a 2-D projection of *all* its
preprocessed features (``projection_x``, ``projection_y``: a two-component PCA of
the preprocessed matrix), so categorical features count in the picture too.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, 5.0], "y": [5.0, 4.0, 3.0, 1.0, 0.0]})
>>> data = build_scatter(frame, ["a", "a", "a", "a", "b"], ["x", "y"], max_points=4)
>>> data.cluster_counts(), (data.default_x, data.default_y)
({'a': 3, 'b': 1}, ('x', 'y'))
>>> ScatterData.model_validate_json(data.model_dump_json()) == data
True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from clusterlab.core.errors import InvalidInputError
from clusterlab.ml.report.inputs import DEFAULT_CLUSTER_COLUMN, cluster_sort_key

if TYPE_CHECKING:
    from clusterlab.ml.preprocess import FittedPreprocessing
    from clusterlab.ml.training import SessionResult, TrainedModel

IntArray = np.ndarray[Any, np.dtype[np.int64]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]

DEFAULT_MAX_POINTS = 1000
"""Rows shown by the scatter plot when the caller does not say (as DSS: about 1000)."""
PROJECTION_X = "projection_x"
PROJECTION_Y = "projection_y"
OUTLIERS_LABEL = "cluster_outliers"
"""Cluster name of the rows gathered by outliers detection (`clusterlab.ml.outliers`)."""

Preprocess = Callable[[pd.DataFrame], FloatArray]
"""Turns rows into their preprocessed matrix, one matrix row per frame row."""


class ScatterData(BaseModel):
    """The sampled rows of the scatter plot, stored by column to keep the JSON small.

    ``values[axis][i]`` is the value of axis ``axis`` (a numeric feature, a PCA factor
    or a projection coordinate) of sampled row ``i``, None where missing;
    ``positions[i]`` is that row's position in the frame the sample came from.
    """

    model_config = ConfigDict(frozen=True)

    cluster_column: str = DEFAULT_CLUSTER_COLUMN
    clusters: list[str]
    cluster_sizes: dict[str, int]
    max_points: int
    seed: int
    features: list[str]
    factors: list[str] = []
    projection: list[str] = []
    projection_variance: list[float] = []
    default_x: str
    default_y: str
    labels: list[str]
    is_outlier: list[bool]
    positions: list[int]
    values: dict[str, list[float | None]]

    @property
    def axes(self) -> list[str]:
        """Every axis the x and y pickers offer: factors, features, then the projection."""
        return [*self.factors, *self.features, *self.projection]

    def cluster_counts(self) -> dict[str, int]:
        """Sampled rows per cluster, in cluster order."""
        counts = {c: 0 for c in self.clusters}
        for label in self.labels:
            counts[label] += 1
        return counts

    def frame(self, include_outliers: bool = True) -> pd.DataFrame:
        """The sampled rows as a DataFrame for `clusterlab.ml.report.figures.scatter_figure`.

        Columns: every axis, the cluster column and ``is_outlier``; outlier rows are
        left out when ``include_outliers`` is False.
        """
        columns: dict[str, Any] = {
            axis: pd.array(self.values[axis], dtype="Float64").astype(float) for axis in self.axes
        }
        columns[self.cluster_column] = list(self.labels)
        columns["is_outlier"] = list(self.is_outlier)
        out = pd.DataFrame(columns, index=pd.Index(self.positions, name="position"))
        return out if include_outliers else out[~out["is_outlier"]]


def scatter_frame(data: ScatterData, include_outliers: bool = True) -> pd.DataFrame:
    """The sampled rows of ``data`` as a DataFrame (see `ScatterData.frame`).

    Examples
    --------
    >>> import pandas as pd
    >>> d = build_scatter(pd.DataFrame({"x": [1.0, 2.0]}), ["a", "cluster_outliers"], ["x"])
    >>> scatter_frame(d, include_outliers=False)["cluster"].tolist()
    ['a']
    """
    return data.frame(include_outliers)


def balanced_quotas(sizes: Mapping[str, int], max_points: int) -> dict[str, int]:
    """Rows to sample from each cluster: equal shares, what small ones leave goes to others.

    Clusters are filled smallest first; a cluster smaller than its share is taken
    whole and the rest of the budget is shared again among the bigger ones. When the
    budget does not divide evenly, the first clusters (in ``sizes`` order) get one more.

    Examples
    --------
    >>> balanced_quotas({"a": 900, "b": 50, "c": 400}, 600)
    {'a': 275, 'b': 50, 'c': 275}
    >>> balanced_quotas({"a": 5, "b": 5}, 100)
    {'a': 5, 'b': 5}
    """
    if max_points < 0:
        raise InvalidInputError(f"max_points must be 0 or more, not {max_points}.")
    order = {c: i for i, c in enumerate(sizes)}
    quotas = {c: 0 for c in sizes}
    pending = sorted((c for c in sizes if sizes[c] > 0), key=lambda c: (sizes[c], order[c]))
    remaining = max_points
    while pending:
        share = remaining // len(pending)
        small = [c for c in pending if sizes[c] <= share]
        if not small:
            extra = remaining - share * len(pending)
            for i, c in enumerate(sorted(pending, key=order.__getitem__)):
                quotas[c] = share + (1 if i < extra else 0)
            break
        for c in small:
            quotas[c] = sizes[c]
            remaining -= sizes[c]
        pending = [c for c in pending if sizes[c] > share]
    return quotas


def _label_codes(labels: Sequence[Any] | pd.Series[Any]) -> tuple[IntArray, list[str]]:
    """Each row's cluster as a code into the returned names; -1 for a missing label.

    Names are the labels as text, sorted by `cluster_sort_key`. Hashing the labels
    once and comparing integer codes afterwards keeps this linear at vectorized speed:
    a Python loop over a million training rows cost seconds per model.
    """
    values = labels.to_numpy(dtype=object) if isinstance(labels, pd.Series) else labels
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    # Distinct values may share a text (1 and "1"): they are one cluster name.
    texts = [str(v) for v in uniques]
    names = sorted(set(texts), key=cluster_sort_key)
    position = {name: n for n, name in enumerate(names)}
    remap = np.array([position[t] for t in texts] + [-1], dtype=np.int64)
    # Code -1 (missing) indexes the trailing -1 of ``remap``.
    return remap[codes], names


def balanced_sample(
    labels: Sequence[Any] | pd.Series[Any],
    max_points: int = DEFAULT_MAX_POINTS,
    *,
    seed: int = 0,
    exclude: Sequence[str] = (),
) -> IntArray:
    """Positions (ascending) of a cluster-balanced sample of rows with a label.

    Rows without a label and rows whose label is in ``exclude`` are never sampled.
    The same labels, budget and seed always give the same positions.

    Examples
    --------
    >>> balanced_sample(["a"] * 6 + ["b"] * 2 + [None], 4, seed=0).tolist()
    [3, 4, 6, 7]
    """
    return _balanced_positions(*_label_codes(labels), max_points, seed, exclude)


def _balanced_positions(
    codes: IntArray, all_names: list[str], max_points: int, seed: int, exclude: Sequence[str]
) -> IntArray:
    excluded = set(exclude)
    names = [c for c in all_names if c not in excluded]
    positions = {c: np.flatnonzero(codes == all_names.index(c)) for c in names}
    quotas = balanced_quotas({c: len(positions[c]) for c in names}, max_points)
    rng = np.random.default_rng(seed)
    chosen = [
        rng.choice(positions[c], size=quotas[c], replace=False) for c in names if quotas[c] > 0
    ]
    if not chosen:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.concatenate(chosen)).astype(np.int64)


def fit_projection(matrix: FloatArray, seed: int = 0) -> Any:
    """A two-component PCA of the preprocessed ``matrix`` (fewer if it has fewer columns).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(40, 4))
    >>> fit_projection(x).n_components_
    2
    """
    from sklearn.decomposition import PCA

    rows, columns = np.shape(matrix)
    components = max(1, min(2, rows, columns))
    return PCA(n_components=components, random_state=seed).fit(matrix)


def _transformed(transformer: Any, matrix: FloatArray, width: int) -> FloatArray:
    """``transformer`` applied to the complete rows of ``matrix``; NaN rows elsewhere.

    The output has ``width`` columns at least (zero-padded): a projection of a
    one-feature matrix still has a y coordinate.
    """
    finite = np.isfinite(matrix).all(axis=1) if matrix.ndim == 2 else np.zeros(0, bool)
    found = np.zeros((int(finite.sum()), 0))
    if finite.any():
        found = np.asarray(transformer.transform(matrix[finite]), dtype=np.float64)
    out = np.full((len(matrix), max(width, found.shape[1])), np.nan)
    out[finite] = 0.0
    out[finite, : found.shape[1]] = found
    return out


def _column(values: Any) -> list[float | None]:
    array = np.asarray(values, dtype=np.float64)
    return [None if math.isnan(v) else float(v) for v in array.tolist()]


def default_axes(factors: Sequence[str], features: Sequence[str]) -> tuple[str, str]:
    """The axes shown first: the first two factors with PCA, else the first two features.

    Missing ones are taken from the features then the projection.

    Examples
    --------
    >>> default_axes(["factor_0", "factor_1"], ["age"]), default_axes([], ["age", "x"])
    (('factor_0', 'factor_1'), ('age', 'x'))
    >>> default_axes([], ["age"])
    ('age', 'projection_x')
    """
    choices = list(dict.fromkeys([*factors, *features, PROJECTION_X, PROJECTION_Y]))
    return choices[0], choices[1]


def build_scatter(
    frame: pd.DataFrame,
    labels: Sequence[Any] | pd.Series[Any],
    numeric_features: Sequence[str],
    *,
    preprocess: Preprocess | None = None,
    pca: Any = None,
    projection: Any = None,
    max_points: int = DEFAULT_MAX_POINTS,
    seed: int = 0,
    include_outliers: bool = True,
    cluster_column: str = DEFAULT_CLUSTER_COLUMN,
) -> ScatterData:
    """Sample rows balanced across clusters and gather every axis of the scatter plot.

    Parameters
    ----------
    frame : DataFrame
        The training rows (raw values), at least the numeric features.
    labels : sequence
        Cluster name of each row of ``frame`` (None for rows in no cluster).
    numeric_features : sequence of str
        Numeric columns offered as axes.
    preprocess : callable, optional
        Preprocessed matrix of given rows, row for row. Without it there are no
        factors and no projection.
    pca : fitted transformer, optional
        The model's PCA (preprocessed matrix → factors); gives ``factor_0``, ….
    projection : fitted transformer, optional
        Two-component projection of the preprocessed matrix (`fit_projection`); by
        default fitted on the sampled rows. Fit it on the whole matrix when you can.
    max_points, seed : int
        Sample budget and seed of the balanced sample.
    include_outliers : bool
        Whether rows of ``cluster_outliers`` are sampled (flagged ``is_outlier``).
    """
    if len(frame) != len(labels):
        raise InvalidInputError(
            f"The scatter plot got {len(frame)} rows but {len(labels)} cluster labels; "
            "pass one label per row of the frame."
        )
    missing = [f for f in numeric_features if f not in frame.columns]
    if missing:
        raise InvalidInputError(
            f"Scatter axis column(s) {', '.join(map(repr, missing))} are not in the rows; "
            f"the columns are: {', '.join(map(str, frame.columns))}."
        )
    codes, names = _label_codes(labels)
    exclude = () if include_outliers else (OUTLIERS_LABEL,)
    positions = _balanced_positions(codes, names, max_points, seed, exclude)
    rows = frame.iloc[positions]
    picked = [names[int(c)] for c in codes[positions]]
    values = {f: _column(pd.to_numeric(rows[f], errors="coerce")) for f in numeric_features}
    factors: list[str] = []
    projected: list[str] = []
    variance: list[float] = []
    if preprocess is not None:
        matrix = np.asarray(preprocess(rows), dtype=np.float64)
        if pca is not None:
            found = _transformed(pca, matrix, _width(pca))
            factors = [f"factor_{i}" for i in range(found.shape[1])]
            values.update({name: _column(found[:, i]) for i, name in enumerate(factors)})
        finite = np.isfinite(matrix).all(axis=1)
        if projection is None and finite.any():
            projection = fit_projection(matrix[finite], seed)
        if projection is not None:
            coords = _transformed(projection, matrix, 2)
            projected = [PROJECTION_X, PROJECTION_Y]
            values[PROJECTION_X], values[PROJECTION_Y] = (
                _column(coords[:, 0]),
                _column(coords[:, 1]),
            )
            variance = [float(v) for v in projection.explained_variance_ratio_]
    clashes = sorted(set(numeric_features) & {*factors, *projected})
    if clashes:
        raise InvalidInputError(
            f"Feature(s) {', '.join(clashes)} have the names of scatter plot axes computed by "
            "ClusterLab; rename the column(s) in the dataset."
        )
    sizes = np.bincount(codes[codes >= 0], minlength=len(names))
    x, y = default_axes(factors, list(numeric_features))
    if not projected and y in (PROJECTION_X, PROJECTION_Y):
        y = x
    return ScatterData(
        cluster_column=cluster_column,
        clusters=names,
        cluster_sizes={c: int(n) for c, n in zip(names, sizes, strict=True)},
        max_points=max_points,
        seed=seed,
        features=list(numeric_features),
        factors=factors,
        projection=projected,
        projection_variance=variance,
        default_x=x,
        default_y=y,
        labels=picked,
        is_outlier=[label == OUTLIERS_LABEL for label in picked],
        positions=positions.tolist(),
        values=values,
    )


def _width(pca: Any) -> int:
    # The model's PCA is a pipeline (scaler, then PCA): its last step knows the width.
    last = pca.steps[-1][1] if hasattr(pca, "steps") else pca
    return int(last.n_components_)


def session_scatter(session: SessionResult, model: TrainedModel, **options: Any) -> ScatterData:
    """The scatter plot data of a trained model of a session (options of `build_scatter`).

    The projection is fitted on the session's whole preprocessed matrix; sampled rows
    are preprocessed again (at most ``max_points`` of them) because outlier rows are
    not part of that matrix.
    """
    if model.model is None or model.labels is None:
        raise InvalidInputError(f"{model.params.label} failed to train: {model.error}")
    numeric = [f.name for f in session.report_features() if f.is_numeric]
    options.setdefault("projection", fit_projection(session.matrix, options.get("seed", 0)))
    return build_scatter(
        session.frame,
        model.labels,
        numeric,
        preprocess=row_preprocessor(session.preprocessing),
        pca=model.model.pca,
        **options,
    )


def row_preprocessor(preprocessing: FittedPreprocessing) -> Preprocess:
    """`build_scatter`'s ``preprocess``: rows through ``preprocessing``, row for row (NaN
    rows for the rows it drops)."""
    width = len(preprocessing.feature_names)

    def preprocess(rows: pd.DataFrame) -> FloatArray:
        matrix, kept = preprocessing.transform(rows)
        out = np.full((len(rows), width), np.nan)
        out[np.asarray(kept, dtype=bool)] = matrix
        return out

    return preprocess
