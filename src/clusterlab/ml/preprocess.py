"""Turn a dataset's rows into the numeric matrix the clustering models learn from.

Preprocessing is fitted once per training session and shared by all its models:

1. `prepare_frame` casts the input features (numbers to float, categories to strings,
   text to strings) and `rows_kept` finds the rows a "drop rows" missing-value
   handling removes. Both are pure functions of the design, re-run at scoring time.
2. A scikit-learn ``ColumnTransformer`` imputes, rescales and dummy-encodes each
   feature; categorical dummies are capped, the remaining levels going to one
   ``<feature>=other`` column.
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
from clusterlab.ml.report.inputs import MISSING_LEVEL

OTHER_DUMMY = "other"
"""Level name of the dummy gathering the categories beyond the cap."""

Matrix = np.ndarray[Any, np.dtype[np.float64]]
Mask = np.ndarray[Any, np.dtype[np.bool_]]


def prepare_frame(frame: pd.DataFrame, features: Sequence[FeatureHandling]) -> pd.DataFrame:
    """The input feature columns, cast for the transformer; missing values as NaN.

    Numeric features become float64 (unparseable values and infinities missing);
    categorical and text features become Python strings.

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
    # Plain arrays, not Series, so that a duplicated index never triggers an alignment.
    out: dict[str, np.ndarray[Any, Any]] = {}
    for feature in inputs:
        column = frame[feature.name]
        if feature.type is FeatureType.NUMERIC:
            values = np.array(
                pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            )
            values[~np.isfinite(values)] = np.nan
            out[feature.name] = values
        else:
            missing = column.isna().to_numpy()
            text = np.array([str(v) for v in column.to_numpy(dtype=object)], dtype=object)
            text[missing] = "" if feature.type is FeatureType.TEXT else np.nan
            out[feature.name] = text
    return pd.DataFrame(out, index=frame.index)


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
    if handling.rescaling == "standard":
        steps.append(("scale", StandardScaler()))
    elif handling.rescaling == "minmax":
        steps.append(("scale", MinMaxScaler()))
    return Pipeline(steps) if steps else "passthrough"


def _filled(values: pd.Series[Any], handling: CategoricalHandling) -> pd.Series[Any]:
    present = values.dropna()
    if handling.missing == "own_level":
        return values.fillna(MISSING_LEVEL)
    if handling.missing == "constant":
        return values.fillna(handling.constant)
    if handling.missing == "most_frequent" and len(present):
        return values.fillna(present.value_counts().index[0])
    return present


def _encoder_cap(values: pd.Series[Any], handling: CategoricalHandling) -> dict[str, Any]:
    if handling.cap == "min_samples":
        return {"min_frequency": handling.min_samples}
    if handling.cap == "max_categories":
        # One more than the cap: the cap's levels plus the "other" dummy.
        return {"max_categories": handling.max_categories + 1}
    counts = _filled(values, handling).value_counts(normalize=True).to_numpy()
    cumulative = np.cumsum(counts)
    needed = int(np.searchsorted(cumulative, handling.cumulative_proportion - 1e-12)) + 1
    return {"max_categories": max(1, min(needed, len(counts))) + 1}


def _categorical_step(feature: FeatureHandling, values: pd.Series[Any]) -> Any:
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    handling = feature.categorical
    steps: list[tuple[str, Any]] = []
    fill = {"own_level": MISSING_LEVEL, "constant": handling.constant}.get(handling.missing)
    if handling.missing == "most_frequent":
        steps.append(("impute", SimpleImputer(strategy="most_frequent")))
    elif fill is not None:
        steps.append(("impute", SimpleImputer(strategy="constant", fill_value=fill)))
    encoder = OneHotEncoder(
        handle_unknown="infrequent_if_exist",
        sparse_output=False,
        dtype=np.float64,
        **_encoder_cap(values, handling),
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
    infrequent = encoder.infrequent_categories_[0]
    rare = set() if infrequent is None else {str(v) for v in infrequent}
    levels = [str(v) for v in encoder.categories_[0] if str(v) not in rare]
    if infrequent is not None:
        levels.append(OTHER_DUMMY)
    return [f"{feature.name}={level}" for level in levels]


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
        matrix = self.transformer.transform(prepared[kept])
        return np.asarray(matrix, dtype=np.float64), kept


def fit_preprocessing(
    frame: pd.DataFrame, features: Sequence[FeatureHandling]
) -> tuple[FittedPreprocessing, Matrix, Mask]:
    """Fit the preprocessing on ``frame``: the fitted steps, the matrix, the rows kept.

    Raises
    ------
    InvalidInputError
        When there is no input feature, or when dropping the rows with missing values
        leaves no row.
    """
    from sklearn.compose import ColumnTransformer

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
    rows = prepared[kept]
    steps: list[tuple[str, Any, Any]] = []
    for i, feature in enumerate(inputs):
        values = rows[feature.name]
        if feature.type is FeatureType.NUMERIC:
            steps.append((f"f{i}", _numeric_step(feature), [feature.name]))
        elif feature.type is FeatureType.CATEGORICAL:
            steps.append((f"f{i}", _categorical_step(feature, values), [feature.name]))
        else:
            # A scalar column selector hands the vectorizer the 1-D column it expects.
            steps.append((f"f{i}", _text_step(feature, values), feature.name))
    transformer = ColumnTransformer(steps, sparse_threshold=0.0, remainder="drop")
    matrix = np.asarray(transformer.fit_transform(rows), dtype=np.float64)
    names: list[str] = []
    for i, feature in enumerate(inputs):
        names += _feature_names(feature, transformer.named_transformers_[f"f{i}"])
    if len(names) != matrix.shape[1]:
        raise AssertionError(f"{len(names)} feature names for {matrix.shape[1]} columns")
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
