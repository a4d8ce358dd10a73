"""Turn a dataset's rows into the numeric matrix the clustering models learn from.

Preprocessing is fitted once per training session and shared by all its models:

1. `prepare_frame` casts the input features (numbers to float, categories to strings,
   text to strings) and `rows_kept` finds the rows a "drop rows" missing-value
   handling removes. Both are pure functions of the design, re-run at scoring time.
2. A scikit-learn ``ColumnTransformer`` imputes, rescales and dummy-encodes each
   feature; categorical dummies are capped, the remaining levels going to one
   ``<feature>=other`` column. When every feature is numeric, the statistics of its
   own fit are computed column by column instead (bit for bit the same); numeric
   columns are written into the matrix by numpy, which makes no other full copy.
3. Optionally PCA (`fit_pca`): standardize, keep a share of the variance, components
   named ``factor_0``, ``factor_1``, ...

Everything fitted is a scikit-learn object, so a model is saved with skops and loaded
back without trusting any of our own classes.

Examples
--------
>>> import pandas as pd
>>> from clusterlab.core.mltask import FeatureHandling
>>> frame = pd.DataFrame({"age": [20.0, None, 40.0], "country": ["fr", "us", None]})
>>> features = (FeatureHandling(name="age"),
...             FeatureHandling(name="country", type="categorical"))
>>> prep, matrix, kept = fit_preprocessing(frame, features)
>>> prep.feature_names
('age', 'country=(missing)', 'country=fr', 'country=us')
>>> matrix.shape, bool(kept.all())
((3, 4), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.mltask import CategoricalHandling, FeatureHandling, FeatureType
from clusterlab.ml.numeric_steps import (
    NUMERIC_BLOCK_ROWS,
    Matrix,
    fit_numeric_step,
    numeric_columns,
    write_numeric,
    writes_in_numpy,
)
from clusterlab.ml.report.inputs import MISSING_LEVEL

OTHER_DUMMY = "other"
"""Level name of the dummy gathering the categories beyond the cap."""

Mask = np.ndarray[Any, np.dtype[np.bool_]]


def prepare_frame(frame: pd.DataFrame, features: Sequence[FeatureHandling]) -> pd.DataFrame:
    """The input feature columns, cast for the transformer; missing values as NaN.

    Numeric features become float64; categorical and text features become Python
    strings. Values a numeric feature cannot use (text that is not a number, and
    ``+inf`` / ``-inf``) become missing, so that the feature's missing-value handling
    applies to them (imputed, or the row dropped) instead of failing the session: an
    infinity is most often a division by zero upstream. The session's diagnostics warn
    with the column and the count (`clusterlab.ml.diagnostics.session_diagnostics`).

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.core.mltask import FeatureHandling
    >>> f = prepare_frame(pd.DataFrame({"n": ["1", "x"]}), [FeatureHandling(name="n")])
    >>> f["n"].tolist()
    [1.0, nan]
    """
    inputs = [f for f in features if f.is_input]
    absent = [f.name for f in inputs if f.name not in frame.columns]
    if absent:
        raise InvalidInputError(
            f"Input feature(s) {', '.join(map(repr, absent))} are not columns of the data "
            f"(columns: {', '.join(map(str, frame.columns))}). Reject them in the design or "
            "add them to the dataset."
        )
    names = [f.name for f in inputs]
    if list(frame.columns) == names and all(_finite_floats(frame[n]) for n in names):
        # Already what the transformer takes: no copy (the rows of a training session
        # often are exactly its numeric inputs, and a copy would be a matrix more).
        return frame
    if all(f.type is FeatureType.NUMERIC for f in inputs):
        # One float block filled column by column and wrapped without a copy: a frame
        # built from a dict of columns would copy them all again to consolidate them.
        block = np.empty((len(inputs), len(frame)))
        for row, feature in zip(block, inputs, strict=True):
            row[:] = _numbers(frame[feature.name])
            row[~np.isfinite(row)] = np.nan
        return pd.DataFrame(block.T, index=frame.index, columns=names, copy=False)
    # Plain arrays, not Series, so that a duplicated index never triggers an alignment.
    out: dict[str, np.ndarray[Any, Any]] = {}
    for feature in inputs:
        column = frame[feature.name]
        if feature.type is FeatureType.NUMERIC:
            values = np.array(_numbers(column))
            values[~np.isfinite(values)] = np.nan
            out[feature.name] = values
        else:
            missing = column.isna().to_numpy()
            text = np.array([str(v) for v in column.to_numpy(dtype=object)], dtype=object)
            text[missing] = "" if feature.type is FeatureType.TEXT else np.nan
            out[feature.name] = text
    return pd.DataFrame(out, index=frame.index)


def _finite_floats(column: pd.Series[Any]) -> bool:
    """Whether ``column`` is float64 without an infinity (missing values are NaN)."""
    return column.dtype == np.float64 and not np.isinf(column.to_numpy()).any()


def _numbers(column: pd.Series[Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The column as float64, text that is not a number as NaN (may share its memory)."""
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def rows_kept(prepared: pd.DataFrame, features: Sequence[FeatureHandling]) -> Mask:
    """Rows that no "drop rows" missing-value handling removes.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.core.mltask import FeatureHandling, NumericHandling
    >>> drop = FeatureHandling(name="x", numeric=NumericHandling(missing="drop"))
    >>> rows_kept(pd.DataFrame({"x": [1.0, None]}), [drop]).tolist()
    [True, False]
    """
    keep = np.ones(len(prepared), dtype=bool)
    for feature in features:
        if feature.drops_missing:
            keep &= prepared[feature.name].notna().to_numpy()
    return keep


def _numeric_step(feature: FeatureHandling) -> Any:
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    handling = feature.numeric
    steps: list[tuple[str, Any]] = []
    if handling.missing != "drop":
        # keep_empty_features: an all-missing column must keep its place in the matrix.
        steps.append(
            (
                "impute",
                SimpleImputer(
                    strategy=handling.missing,
                    fill_value=handling.constant,
                    keep_empty_features=True,
                ),
            )
        )
    # After an imputer the scaler gets a fresh array of its own: rescaling it in place
    # spares a copy of the whole matrix (the imputer leaves the caller's data alone).
    copy = handling.missing == "drop"
    if handling.rescaling == "standard":
        steps.append(("scale", StandardScaler(copy=copy)))
    elif handling.rescaling == "minmax":
        steps.append(("scale", MinMaxScaler(copy=copy)))
    return Pipeline(steps) if steps else "passthrough"


def _filled(values: pd.Series[Any], handling: CategoricalHandling) -> pd.Series[Any]:
    present = values.dropna()
    if handling.missing == "constant":
        return values.fillna(handling.constant)
    if handling.missing == "most_frequent" and len(present):
        return values.fillna(present.value_counts().index[0])
    if handling.missing in ("own_level", "most_frequent"):
        # An all-missing column has no most frequent level: missing is its own level.
        return values.fillna(MISSING_LEVEL)
    return present


def capped_levels(values: pd.Series[Any], handling: CategoricalHandling) -> tuple[list[str], int]:
    """The levels a categorical feature keeps as dummies, and how many distinct levels it has.

    Levels are ranked by count (ties by name), missing values counted as the handling
    fills them. The cap keeps at most ``max_categories`` levels, or the fewest covering
    ``cumulative_proportion`` of the rows, or those seen in ``min_samples`` rows or more.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.core.mltask import CategoricalHandling
    >>> values = pd.Series(["a", "b", "a", "c", None])
    >>> capped_levels(values, CategoricalHandling(max_categories=2))
    (['a', '(missing)'], 4)
    """
    counts = _filled(values, handling).astype(str).value_counts()
    # A stable order for equal counts, so that the same data always keeps the same levels.
    ranked = sorted(
        ((str(level), int(n)) for level, n in counts.items()), key=lambda item: (-item[1], item[0])
    )
    if handling.cap == "min_samples":
        kept = [level for level, n in ranked if n >= handling.min_samples]
    elif handling.cap == "max_categories":
        kept = [level for level, _ in ranked[: handling.max_categories]]
    else:
        shares = np.cumsum([n for _, n in ranked]) / max(1, int(counts.sum()))
        needed = int(np.searchsorted(shares, handling.cumulative_proportion - 1e-12)) + 1
        kept = [level for level, _ in ranked[: max(1, min(needed, len(ranked)))]]
    return kept, len(ranked)


_BEYOND_CAP = "\x00beyond the cap"
"""A category no value has: marked infrequent, it gives the encoder its ``other`` dummy."""


def _categorical_step(feature: FeatureHandling, values: pd.Series[Any]) -> Any:
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    handling = feature.categorical
    steps: list[tuple[str, Any]] = []
    fill = {"own_level": MISSING_LEVEL, "constant": handling.constant}.get(handling.missing)
    if handling.missing == "most_frequent" and values.notna().any():
        steps.append(("impute", SimpleImputer(strategy="most_frequent")))
    elif fill is not None or handling.missing == "most_frequent":
        # No most frequent level in an all-missing column: missing becomes its own level.
        # keep_empty_features: an all-missing column must keep its place in the matrix.
        level = fill if fill is not None else MISSING_LEVEL
        imputer = SimpleImputer(strategy="constant", fill_value=level, keep_empty_features=True)
        steps.append(("impute", imputer))
    kept, distinct = capped_levels(values, handling)
    # The levels are found here rather than by the encoder's own caps: with tens of
    # thousands of levels, the encoder would keep (and scan at every transform) all of them.
    categories = sorted(kept)
    if len(kept) < distinct:
        categories.append(_BEYOND_CAP)
    encoder = OneHotEncoder(
        categories=[np.array(categories, dtype=object)],
        handle_unknown="infrequent_if_exist",
        min_frequency=1 if len(kept) < distinct else None,
        sparse_output=False,
        dtype=np.float64,
    )
    steps.append(("encode", encoder))
    return Pipeline(steps)


def _text_step(feature: FeatureHandling, values: pd.Series[Any]) -> Any:
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline

    handling = feature.text
    # SVD needs fewer components than terms; the vocabulary size is only known by fitting.
    try:
        terms = len(TfidfVectorizer(max_features=handling.max_terms).fit(values).vocabulary_)
    except ValueError:
        terms = 0
    if terms < 2:
        raise InvalidInputError(
            f"Text feature {feature.name!r} has fewer than 2 distinct words; reject it or "
            "treat it as categorical."
        )
    return Pipeline(
        [
            ("tfidf", TfidfVectorizer(max_features=handling.max_terms)),
            ("svd", TruncatedSVD(n_components=min(handling.components, terms - 1))),
        ]
    )


def _feature_names(feature: FeatureHandling, fitted: Any) -> list[str]:
    if feature.type is FeatureType.NUMERIC:
        return [feature.name]
    if feature.type is FeatureType.TEXT:
        n = fitted.named_steps["svd"].n_components
        return [f"{feature.name}:svd_{i}" for i in range(n)]
    encoder = fitted.named_steps["encode"]
    # Without a cap to apply the encoder has no infrequent categories attribute at all.
    infrequent = getattr(encoder, "infrequent_categories_", [None])[0]
    rare = set() if infrequent is None else {str(v) for v in infrequent}
    levels = [str(v) for v in encoder.categories_[0] if str(v) not in rare]
    if infrequent is not None:
        levels.append(OTHER_DUMMY)
    return [f"{feature.name}={level}" for level in levels]


def _step_groups(
    inputs: Sequence[FeatureHandling],
) -> list[tuple[int, list[FeatureHandling]]]:
    """Input features by transformer step: runs of numeric features handled alike share one.

    One imputer and scaler over many columns gives the same values as one per column
    (both work column by column) at a fraction of the cost: fifteen per-column
    pipelines on 1M rows spent most of their time copying and validating each column.
    Only consecutive features are grouped, so the matrix keeps the input order. Each
    step is named ``f<i>`` after the position of its first feature.
    """
    groups: list[tuple[int, list[FeatureHandling]]] = []
    for i, feature in enumerate(inputs):
        if groups and feature.type is FeatureType.NUMERIC:
            first = groups[-1][1][0]
            if first.type is FeatureType.NUMERIC and first.numeric == feature.numeric:
                groups[-1][1].append(feature)
                continue
        groups.append((i, [feature]))
    return groups


@dataclass
class FittedPreprocessing:
    """The fitted column transformer of a session and the names of its output columns.

    ``transformer`` is a fitted scikit-learn ``ColumnTransformer``; ``feature_names``
    name the matrix columns (``age``, ``country=fr``, ``country=other``, ...).
    """

    features: tuple[FeatureHandling, ...]
    transformer: Any
    feature_names: tuple[str, ...]

    def transform(self, frame: pd.DataFrame) -> tuple[Matrix, Mask]:
        """The matrix of the rows kept, and which rows of ``frame`` were kept.

        Examples
        --------
        >>> import pandas as pd
        >>> from clusterlab.core.mltask import FeatureHandling
        >>> frame = pd.DataFrame({"x": [1.0, 3.0]})
        >>> prep, _, _ = fit_preprocessing(frame, [FeatureHandling(name="x")])
        >>> prep.transform(pd.DataFrame({"x": [2.0]}))[0].tolist()
        [[0.0]]
        """
        prepared = prepare_frame(frame, self.features)
        kept = rows_kept(prepared, self.features)
        if not kept.any():
            return np.empty((0, len(self.feature_names))), kept
        rows = prepared if kept.all() else prepared[kept]
        return _write_matrix(self.transformer, self.features, rows), kept


TRANSFORM_BLOCK_ROWS = 100_000
"""Rows a categorical or text step transforms at a time into the session's matrix."""


def _write_in_blocks(step: Any, rows: pd.DataFrame, columns: Any, out: Matrix) -> None:
    """Write ``step.transform`` of ``rows[columns]`` into ``out``, block by block.

    Only the output and one block's transform exist at once: no copy of all the rows.
    """
    for start in range(0, len(rows), TRANSFORM_BLOCK_ROWS):
        part = rows.iloc[start : start + TRANSFORM_BLOCK_ROWS][columns]
        out[start : start + len(part)] = np.asarray(step.transform(part), dtype=np.float64)


def _fit_transformer(
    steps: list[tuple[str, Any, Any]],
    groups: Sequence[tuple[int, list[FeatureHandling]]],
    rows: pd.DataFrame,
) -> Any:
    """The ``ColumnTransformer`` of ``steps``, fitted on ``rows``.

    When every step is numeric, scikit-learn fits it on two rows, which sets up every
    attribute a transform needs, then `fit_numeric_step` puts in the statistics of all
    rows. Categorical and text steps need scikit-learn's own fit on all rows.
    """
    from sklearn.compose import ColumnTransformer

    transformer = ColumnTransformer(steps, sparse_threshold=0.0, remainder="drop")
    if any(group[0].type is not FeatureType.NUMERIC for _, group in groups):
        return transformer.fit(rows)
    transformer.fit(rows.iloc[:2])
    for (name, _, _), (_, group) in zip(steps, groups, strict=True):
        step = transformer.named_transformers_[name]
        fit_numeric_step(step, numeric_columns(rows, [f.name for f in group]), group[0].numeric)
    return transformer


def _write_matrix(
    transformer: Any, features: Sequence[FeatureHandling], rows: pd.DataFrame
) -> Matrix:
    """``transformer.transform(rows)``, each step writing its own columns of the matrix.

    The matrix is the only full-size array made: numeric steps fill it from the frame's
    columns in numpy (`write_numeric`, the same values as scikit-learn's transform,
    without its validation and copies: on 1M rows x 15, 0.06 s against ~0.4 s), the
    others transform blocks of rows.
    """
    numeric = {f.name for f in features if f.type is FeatureType.NUMERIC}
    where = transformer.output_indices_
    steps = [
        (name, step, columns)
        for name, step, columns in transformer.transformers_
        if where[name].stop > where[name].start
    ]
    matrix = np.empty((len(rows), max(where[name].stop for name, _, _ in steps)))
    for name, step, columns in steps:
        out = matrix[:, where[name]]
        in_numpy = (
            isinstance(columns, list)
            and set(columns) <= numeric
            and out.shape[1] == len(columns)
            and writes_in_numpy(step)
        )
        if in_numpy:
            write_numeric(step, numeric_columns(rows, columns), out)
        else:
            _write_in_blocks(step, rows, columns, out)
    return matrix


def _varies(matrix: Matrix) -> bool:
    """Whether some column of ``matrix`` holds two different values.

    Block by block, so that the answer usually comes from the first block: ``np.ptp``
    over the columns took ~80 ms on 1M rows x 15.
    """
    first = matrix[0]
    blocks = range(0, len(matrix), NUMERIC_BLOCK_ROWS)
    return any(bool((matrix[s : s + NUMERIC_BLOCK_ROWS] != first).any()) for s in blocks)


def fit_preprocessing(
    frame: pd.DataFrame, features: Sequence[FeatureHandling]
) -> tuple[FittedPreprocessing, Matrix, Mask]:
    """Fit the preprocessing on ``frame``: the fitted steps, the matrix, the rows kept.

    Raises
    ------
    InvalidInputError
        When the session cannot learn anything, before any model is fitted: there is no
        input feature; dropping the rows with missing values leaves no row; fewer than
        2 rows are left; or every row is alike after preprocessing (every input feature
        constant), so that there is nothing to tell apart.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.core.mltask import FeatureHandling
    >>> frame = pd.DataFrame({"x": [1.0, 1.0, 1.0]})
    >>> fit_preprocessing(frame, [FeatureHandling(name="x")])
    Traceback (most recent call last):
    ...
    clusterlab.core.errors.InvalidInputError: Every input feature ('x') has a single value ...
    """
    inputs = tuple(f for f in features if f.is_input)
    if not inputs:
        raise InvalidInputError(
            "The design has no input feature: set the role of at least one column to input."
        )
    prepared = prepare_frame(frame, inputs)
    kept = rows_kept(prepared, inputs)
    if not kept.any():
        dropping = ", ".join(repr(f.name) for f in inputs if f.drops_missing)
        raise InvalidInputError(
            f"Every one of the {len(frame)} rows misses a value in a feature whose missing "
            f"values drop the row ({dropping}). Impute these features instead of dropping rows."
        )
    if kept.sum() < 2:
        raise InvalidInputError(
            f"Only {int(kept.sum())} row is left to train on (of {len(frame)} rows): "
            "clustering needs at least 2 rows. Train on a dataset with more rows"
            + (", or impute missing values instead of dropping rows." if len(frame) > 1 else ".")
        )
    # Boolean indexing copies every column: skip it when no row is dropped.
    rows = prepared if kept.all() else prepared[kept]
    del prepared
    steps: list[tuple[str, Any, Any]] = []
    groups = _step_groups(inputs)
    for i, group in groups:
        feature = group[0]
        values = rows[feature.name]
        if feature.type is FeatureType.NUMERIC:
            steps.append((f"f{i}", _numeric_step(feature), [f.name for f in group]))
        elif feature.type is FeatureType.CATEGORICAL:
            steps.append((f"f{i}", _categorical_step(feature, values), [feature.name]))
        else:
            # A scalar column selector hands the vectorizer the 1-D column it expects.
            steps.append((f"f{i}", _text_step(feature, values), feature.name))
    transformer = _fit_transformer(steps, groups, rows)
    matrix = _write_matrix(transformer, inputs, rows)
    names: list[str] = []
    for i, group in groups:
        fitted = transformer.named_transformers_[f"f{i}"]
        for feature in group:
            names += _feature_names(feature, fitted)
    if len(names) != matrix.shape[1]:
        raise AssertionError(f"{len(names)} feature names for {matrix.shape[1]} columns")
    if not _varies(matrix):
        listed = ", ".join(repr(f.name) for f in inputs)
        raise InvalidInputError(
            f"Every input feature ({listed}) has a single value over the {len(rows)} "
            "training rows: the rows are all alike after preprocessing, so there is nothing "
            "to cluster. Use a column whose values vary as input (task.use_feature(column), or "
            "--use COLUMN in clusterlab lab design); the "
            "design guess rejects constant columns for this reason."
        )
    return FittedPreprocessing(inputs, transformer, tuple(names)), matrix, kept


def factor_names(n: int) -> tuple[str, ...]:
    """Names of ``n`` PCA components: ``factor_0``, ``factor_1``, ...

    Examples
    --------
    >>> factor_names(2)
    ('factor_0', 'factor_1')
    """
    return tuple(f"factor_{i}" for i in range(n))


def make_pca(variance: float, seed: int | None = None) -> Any:
    """An unfitted PCA pipeline: standardize, then keep ``variance`` of the variance."""
    from sklearn.decomposition import PCA
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    # The covariance solver costs O(rows × features²) and features² memory: fine for tall data.
    pca = PCA(
        n_components=variance if variance < 1 else None,
        svd_solver="covariance_eigh",
        random_state=seed,
    )
    return Pipeline([("scale", StandardScaler()), ("pca", pca)])


def fit_pca(matrix: Matrix, variance: float, seed: int | None = None) -> tuple[Any, Matrix]:
    """Fit the PCA pipeline on ``matrix``; return it and the projected matrix.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(50, 3))
    >>> x[:, 2] = x[:, 0]
    >>> pca, z = fit_pca(x, 0.9)
    >>> z.shape
    (50, 2)
    """
    pipeline = make_pca(variance, seed)
    projected = np.asarray(pipeline.fit_transform(matrix), dtype=np.float64)
    return pipeline, projected
