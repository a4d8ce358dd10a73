"""ML diagnostics: warnings about a training session or one model, as DSS shows them.

Session checks: too few rows, an outliers min size above 10% of the rows, and per
input feature: too many missing values, infinite or unparseable numbers (treated as
missing), a single value (it cannot separate clusters), and more distinct levels than
the dummy-encoding cap keeps. Model checks: one cluster holding more than 90% of the
rows, a cluster with less than 1% of them. Each warning names the column or setting,
says what was found and what to try.

Examples
--------
>>> [d.code for d in model_diagnostics({"cluster_0": 995, "cluster_1": 5})]
['dominant_cluster', 'small_cluster']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.mltask import (
    CategoricalHandling,
    FeatureHandling,
    FeatureType,
    ModelParams,
    OutliersSpec,
)
from clusterlab.ml.guess import MAX_CATEGORIES
from clusterlab.ml.preprocess import OTHER_DUMMY, capped_levels

MIN_ROWS = 1000
"""Fewer training rows than this gives unstable clusters."""
MAX_MISSING_SHARE = 0.5
"""An input feature missing in more than this share of rows is flagged."""
MAX_OUTLIER_MIN_SIZE_SHARE = 0.1
"""An outliers min size above this share of rows can flag whole real clusters."""
DOMINANT_SHARE = 0.9
"""A cluster holding more than this share of rows makes the segmentation uninformative."""
SMALL_SHARE = 0.01
"""A cluster holding less than this share of rows is flagged as very small."""

_NOT_SEGMENTS = frozenset({"noise", "anomalies", "regular", "cluster_outliers"})


class Diagnostic(BaseModel):
    """One warning: a stable ``code`` and a message for users."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str


def session_diagnostics(
    n_rows: int,
    prepared: pd.DataFrame,
    features: Sequence[FeatureHandling],
    outliers: OutliersSpec,
) -> list[Diagnostic]:
    """Warnings about the data a session trains on.

    Parameters
    ----------
    n_rows : int
        Rows the session trains on (after sampling).
    prepared : DataFrame
        The input feature columns of those rows, as stored (before casting, so that
        infinities and unparseable numbers can still be told from missing values).
    features : sequence of FeatureHandling
        The design's features; only inputs are checked.
    outliers : OutliersSpec
        The outliers detection settings.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.core.mltask import FeatureHandling, OutliersSpec
    >>> frame = pd.DataFrame({"x": [1.0, None, None], "y": [1.0, float("inf"), 3.0]})
    >>> found = session_diagnostics(3, frame, [FeatureHandling(name="x"),
    ...                             FeatureHandling(name="y")], OutliersSpec(method="drop"))
    >>> [d.code for d in found]
    ['too_few_rows', 'feature_missing', 'feature_constant', 'feature_infinite', 'outliers_min_size']
    >>> found[3].message
    "Feature 'y' has 1 infinite value (+inf or -inf) in 3 rows; ..."
    """
    found: list[Diagnostic] = []
    if n_rows < MIN_ROWS:
        found.append(
            Diagnostic(
                code="too_few_rows",
                message=f"Only {n_rows} rows to train on (fewer than {MIN_ROWS}): clusters "
                "may be unstable. Train on more rows if the dataset has them.",
            )
        )
    for feature in features:
        if not feature.is_input or feature.name not in prepared.columns or not len(prepared):
            continue
        found += feature_diagnostics(feature, prepared[feature.name])
    if outliers.method != "none" and outliers.min_size > MAX_OUTLIER_MIN_SIZE_SHARE * n_rows:
        found.append(
            Diagnostic(
                code="outliers_min_size",
                message=f"The outliers min size ({outliers.min_size}) is above 10% of the "
                f"{n_rows} rows: whole clusters may be taken for outliers. Lower it.",
            )
        )
    return found


def feature_diagnostics(feature: FeatureHandling, values: pd.Series[Any]) -> list[Diagnostic]:
    """Warnings about one input feature's values (as stored, before casting).

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.core.mltask import FeatureHandling
    >>> [d.code for d in feature_diagnostics(FeatureHandling(name="n"),
    ...                                      pd.Series(["1", "2", "n/a", "4"]))]
    ['feature_unparsed']
    """
    found: list[Diagnostic] = []
    name, rows = feature.name, len(values)
    floats = isinstance(values.dtype, np.dtype) and values.dtype.kind == "f"
    # A float column is its own numbers, missing where NaN: no conversion to make.
    missing = np.isnan(values.to_numpy()) if floats else values.isna().to_numpy()
    n_missing = int(np.count_nonzero(missing))
    share = n_missing / rows if rows else 0.0
    if share > MAX_MISSING_SHARE:
        found.append(
            Diagnostic(
                code="feature_missing",
                message=f"Feature {name!r} is missing in {share:.0%} of the rows; "
                "its imputed values may drive the clusters. Consider rejecting it.",
            )
        )
    if feature.type is FeatureType.NUMERIC:
        if floats:
            numbers, not_a_number = values.to_numpy(), n_missing
        else:
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
            not_a_number = int(np.count_nonzero(np.isnan(numbers)))
        finite = np.isfinite(numbers)
        present = int(np.count_nonzero(finite))
        # Missing values are NaN among the numbers: the other NaN are unparsed values.
        unparsed = not_a_number - n_missing
        found += _unusable_numbers(feature, rows, rows - present - not_a_number, unparsed)
        # Only "one value or more?" matters here: min and max answer it.
        kept = numbers if present == rows else numbers[finite]
        distinct = 0 if present == 0 else 1 if kept.min() == kept.max() else 2
    elif feature.type is FeatureType.CATEGORICAL:
        # Missing values become a level of their own unless imputed or dropped.
        counts_missing = feature.categorical.missing in ("own_level", "constant")
        distinct = values.astype(object).nunique(dropna=not counts_missing)
        found += _capped(name, values, feature.categorical)
    else:
        return found
    if distinct <= 1 and not missing.all():
        found.append(
            Diagnostic(
                code="feature_constant",
                message=f"Feature {name!r} has a single value over the {rows} rows: it "
                "cannot tell clusters apart. Reject it (the design guess rejects constant "
                "columns).",
            )
        )
    return found


def _unusable_numbers(
    feature: FeatureHandling, rows: int, infinite: int, unparsed: int
) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    handling = (
        "the rows holding them are dropped"
        if feature.numeric.missing == "drop"
        else f"they are imputed like missing values ({feature.numeric.missing})"
    )
    if infinite:
        found.append(
            Diagnostic(
                code="feature_infinite",
                message=f"Feature {feature.name!r} has {infinite:,} infinite "
                f"value{'s' if infinite > 1 else ''} (+inf or -inf) in {rows:,} rows; "
                f"{handling}. Fix them upstream (often a division by zero) if they mean "
                "something.",
            )
        )
    if unparsed:
        found.append(
            Diagnostic(
                code="feature_unparsed",
                message=f"Feature {feature.name!r} has {unparsed:,} value"
                f"{'s' if unparsed > 1 else ''} that are not numbers in {rows:,} rows; "
                f"{handling}. Clean the column, or make the feature categorical.",
            )
        )
    return found


def _capped(name: str, values: pd.Series[Any], handling: CategoricalHandling) -> list[Diagnostic]:
    # Levels are counted as the encoder sees them: strings, missing filled per the handling.
    text = values.map(str, na_action="ignore")
    kept, distinct = capped_levels(text, handling)
    if distinct <= MAX_CATEGORIES or len(kept) >= distinct:
        return []
    cap = {
        "max_categories": f"max categories = {handling.max_categories}",
        "cumulative_proportion": f"cumulative proportion = {handling.cumulative_proportion:g}",
        "min_samples": f"min samples per level = {handling.min_samples}",
    }[handling.cap]
    return [
        Diagnostic(
            code="categories_capped",
            message=f"Feature {name!r} has {distinct:,} distinct levels: its dummy encoding "
            f"keeps {len(kept):,} of them (cap: {cap}) and gathers the other "
            f"{distinct - len(kept):,} in {name}={OTHER_DUMMY}. Raise the cap if the rare "
            "levels matter, or reject the column.",
        )
    ]


def model_diagnostics(cluster_sizes: Mapping[str, int]) -> list[Diagnostic]:
    """Warnings about one model's clusters (noise and anomalies are not judged).

    Examples
    --------
    >>> model_diagnostics({"cluster_0": 50, "cluster_1": 50})
    []
    """
    segments = {k: v for k, v in cluster_sizes.items() if k not in _NOT_SEGMENTS}
    total = sum(cluster_sizes.values())
    if not total:
        return []
    found: list[Diagnostic] = []
    for name, size in segments.items():
        if size > DOMINANT_SHARE * total:
            found.append(
                Diagnostic(
                    code="dominant_cluster",
                    message=f"Cluster {name} holds {size / total:.1%} of the rows: the "
                    "segmentation tells little apart. Try another k, scaling or algorithm.",
                )
            )
    for name, size in segments.items():
        if 0 < size < SMALL_SHARE * total:
            found.append(
                Diagnostic(
                    code="small_cluster",
                    message=f"Cluster {name} holds only {size} rows ({size / total:.2%}): it "
                    "may be made of outliers. Consider outliers detection or a smaller k.",
                )
            )
    return found


def check_model_rows(params: ModelParams, n_rows: int) -> None:
    """Refuse a model that asks for as many clusters as there are rows, or more.

    Called per model, so that one k too large fails that model of the grid (with this
    message as its error) while the others train.

    Raises
    ------
    InvalidInputError
        When ``params.k`` is at least ``n_rows``: every cluster needs rows of its own,
        and the silhouette needs at least one cluster of two rows.

    Examples
    --------
    >>> from clusterlab.core.mltask import ModelParams
    >>> check_model_rows(ModelParams(algorithm="kmeans", params={"k": 5}), 300)
    >>> check_model_rows(ModelParams(algorithm="kmeans", params={"k": 500}), 300)
    Traceback (most recent call last):
    ...
    clusterlab.core.errors.InvalidInputError: K-means (k=500) asks for 500 clusters ...
    """
    k = params.k
    if k is not None and k >= n_rows:
        raise InvalidInputError(
            f"{params.label} asks for {k:,} clusters but the session trains on {n_rows:,} "
            f"rows: k must be below the number of rows, so at most {n_rows - 1:,} here. "
            "Lower k in the algorithm's settings (its k list), or train on more rows."
        )
