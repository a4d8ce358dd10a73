"""Fill a clustering task design from a dataset's column statistics, as DSS's guess does.

Each column gets a role, a type and a handling. A column is rejected, with the reason
shown next to it, when it cannot help a segmentation (rules tried in this order):

1. **too many missing values**: more than half of the rows are missing it;
2. **constant**: a single distinct value, or the top value holds more than 99% of the
   non-missing rows;
3. **date**: dates and timestamps are not usable as features as they are;
4. **text**: a string column of free text, i.e. whose frequent values average more
   than 40 characters or 5 words (sentences, user agents, comments);
5. **unique ID**: an integer or string column whose values are all distinct;
6. **too many categories**: a categorical column with more than 100 distinct values.
   Kept, it would be cut to its 100 most frequent levels plus ``other``; rejecting it
   keeps the one-hot matrix narrow, and the user can set it back to input.

Numbers become numeric features (standard rescaling, missing imputed with the mean),
strings and booleans categorical ones (dummy encoding capped at 100 levels, missing as
their own level). The default algorithm grid is K-means with k = 3, 5, 7; the
``anomaly`` preset starts with Isolation Forest. The other built-in algorithms are
listed disabled, with their defaults, so a design shows every choice.

Examples
--------
>>> from clusterlab.core.explore import ColumnStats, DatasetStats
>>> stats = DatasetStats(rows=3, columns=(
...     ColumnStats(name="id", type="integer", meaning="integer", count=3, missing=0,
...                 distinct=3),
...     ColumnStats(name="amount", type="decimal", meaning="decimal", count=3, missing=0,
...                 distinct=2),
... ))
>>> design = guess_design(stats)
>>> [(f.name, f.role.value, f.reject_reason) for f in design.features]
[('id', 'reject', 'unique ID'), ('amount', 'input', None)]
>>> [p.label for p in design.grid()]
['K-means (k=3)', 'K-means (k=5)', 'K-means (k=7)']
"""

from __future__ import annotations

from typing import Literal

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.explore import ColumnStats, DatasetStats
from clusterlab.core.mltask import (
    AgglomerativeSpec,
    AlgorithmSpec,
    DBSCANSpec,
    FeatureHandling,
    FeatureRole,
    FeatureType,
    GaussianMixtureSpec,
    HDBSCANSpec,
    IsolationForestSpec,
    KMeansSpec,
    MiniBatchKMeansSpec,
    RejectReason,
    SpectralSpec,
    TaskDesign,
    TwoStepSpec,
)

Preset = Literal["kmeans", "anomaly"]

MAX_MISSING_SHARE = 0.5
"""A column missing in more than this share of rows is rejected."""
MAX_TOP_SHARE = 0.99
"""A column whose most frequent value holds more than this share is constant."""
MAX_CATEGORIES = 100
"""A categorical column with more distinct values than this is rejected."""
TEXT_MIN_CHARS = 40
TEXT_MIN_WORDS = 5
"""Average length (characters or words) of frequent values from which a column is text."""

_NUMERIC_TYPES = frozenset({"integer", "decimal"})
_DATE_TYPES = frozenset({"date", "timestamp"})
_ID_TYPES = frozenset({"integer", "string"})


def reject_reason(col: ColumnStats) -> RejectReason | None:
    """Why column ``col`` should not be a feature, or None when it can be one.

    Examples
    --------
    >>> from clusterlab.core.explore import ColumnStats
    >>> reject_reason(ColumnStats(name="c", type="string", meaning="text", count=10,
    ...                           missing=8, distinct=2))
    <RejectReason.TOO_MANY_MISSING: 'too many missing values'>
    """
    present = col.count - col.missing
    if present == 0 or col.missing > MAX_MISSING_SHARE * col.count:
        return RejectReason.TOO_MANY_MISSING
    if col.distinct <= 1 or (col.top_values and col.top_values[0].count > MAX_TOP_SHARE * present):
        return RejectReason.CONSTANT
    if col.type in _DATE_TYPES:
        return RejectReason.DATE
    if col.type == "string" and _looks_like_text(col):
        return RejectReason.TEXT
    if col.type in _ID_TYPES and col.distinct >= present:
        return RejectReason.UNIQUE_ID
    if col.type not in _NUMERIC_TYPES and col.distinct > MAX_CATEGORIES:
        return RejectReason.TOO_MANY_CATEGORIES
    return None


def _looks_like_text(col: ColumnStats) -> bool:
    # Weighted by count so that a few long rare values do not turn a code into text.
    values = [(str(tv.value), tv.count) for tv in col.top_values if tv.value is not None]
    total = sum(count for _, count in values)
    if not total:
        return False
    chars = sum(len(v) * n for v, n in values) / total
    words = sum(len(v.split()) * n for v, n in values) / total
    return chars > TEXT_MIN_CHARS or words > TEXT_MIN_WORDS


def guess_feature(col: ColumnStats) -> FeatureHandling:
    """The handling of one column: its type from the storage type, its role from the rules.

    Examples
    --------
    >>> from clusterlab.core.explore import ColumnStats
    >>> f = guess_feature(ColumnStats(name="country", type="string", meaning="country",
    ...                               count=10, missing=0, distinct=3))
    >>> f.role.value, f.type.value
    ('input', 'categorical')
    """
    reason = reject_reason(col)
    if col.type in _NUMERIC_TYPES:
        kind = FeatureType.NUMERIC
    elif reason is RejectReason.TEXT:
        kind = FeatureType.TEXT
    else:
        kind = FeatureType.CATEGORICAL
    return FeatureHandling(
        name=col.name,
        role=FeatureRole.INPUT if reason is None else FeatureRole.REJECT,
        type=kind,
        reject_reason=None if reason is None else reason.value,
    )


def default_algorithms(preset: Preset = "kmeans") -> tuple[AlgorithmSpec, ...]:
    """Every built-in algorithm with its defaults; only the preset's one enabled.

    Examples
    --------
    >>> [a.type for a in default_algorithms("anomaly") if a.enabled]
    ['isolation_forest']
    """
    kmeans = preset == "kmeans"
    return (
        KMeansSpec(k=(3, 5, 7), enabled=kmeans),
        MiniBatchKMeansSpec(enabled=False),
        GaussianMixtureSpec(enabled=False),
        AgglomerativeSpec(enabled=False),
        SpectralSpec(enabled=False),
        DBSCANSpec(enabled=False),
        HDBSCANSpec(enabled=False),
        TwoStepSpec(enabled=False),
        IsolationForestSpec(enabled=not kmeans),
    )


def guess_design(stats: DatasetStats, preset: Preset = "kmeans") -> TaskDesign:
    """A task design for the dataset described by ``stats``.

    Parameters
    ----------
    stats : DatasetStats
        Column statistics of the dataset (name, type, meaning, count, missing,
        distinct, top values), as the explore view computes them.
    preset : {"kmeans", "anomaly"}
        "kmeans" trains K-means with k = 3, 5, 7; "anomaly" trains an Isolation Forest.

    Returns
    -------
    TaskDesign
        One `FeatureHandling` per column, in dataset order, and the preset's algorithms.

    Examples
    --------
    >>> from clusterlab.core.explore import ColumnStats, DatasetStats
    >>> col = ColumnStats(name="x", type="decimal", meaning="decimal", count=9, missing=0,
    ...                   distinct=9)
    >>> guess_design(DatasetStats(rows=9, columns=(col,)), "anomaly").grid()[0].label
    'Isolation Forest (contamination=auto)'
    """
    if preset not in ("kmeans", "anomaly"):
        raise InvalidInputError(
            f"Unknown preset {preset!r}: use 'kmeans' (clustering) or 'anomaly' (anomaly "
            "detection)."
        )
    features = tuple(guess_feature(col) for col in stats.columns)
    return TaskDesign(features=features, algorithms=default_algorithms(preset))
