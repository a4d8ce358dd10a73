"""Input types of the report builders: which columns are features, and of what kind.

The report is computed from the *scored training table*: the original feature
columns plus one column holding each row's cluster label. Numeric features are
summarised by means and spreads, categorical ones by level counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from clusterlab.core.errors import InvalidInputError

DEFAULT_CLUSTER_COLUMN = "cluster"
"""Name of the cluster label column when the caller does not give one."""

MISSING_LEVEL = "(missing)"
"""Level name given to missing categorical values, so they count as a level of their own."""

OTHER_LEVEL = "(other values)"
"""Bucket gathering the categorical levels beyond the top ones in profiles."""


class FeatureKind(StrEnum):
    """How a feature is summarised in the report."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"


class FeatureInfo(BaseModel):
    """One feature column of the scored table and its kind.

    Examples
    --------
    >>> FeatureInfo.numeric("age").is_numeric
    True
    >>> FeatureInfo.categorical("country").kind
    <FeatureKind.CATEGORICAL: 'categorical'>
    """

    model_config = ConfigDict(frozen=True)

    name: str
    kind: FeatureKind

    @property
    def is_numeric(self) -> bool:
        """Whether the feature is summarised as a number."""
        return self.kind is FeatureKind.NUMERIC

    @classmethod
    def numeric(cls, name: str) -> FeatureInfo:
        """Describe the numeric feature ``name``."""
        return cls(name=name, kind=FeatureKind.NUMERIC)

    @classmethod
    def categorical(cls, name: str) -> FeatureInfo:
        """Describe the categorical feature ``name``."""
        return cls(name=name, kind=FeatureKind.CATEGORICAL)


def features_of(numeric: Iterable[str] = (), categorical: Iterable[str] = ()) -> list[FeatureInfo]:
    """Build the feature list from column names, numeric ones first.

    Examples
    --------
    >>> [f.name for f in features_of(numeric=["age"], categorical=["country"])]
    ['age', 'country']
    """
    return [FeatureInfo.numeric(n) for n in numeric] + [
        FeatureInfo.categorical(n) for n in categorical
    ]


def cluster_sort_key(label: str) -> tuple[Any, ...]:
    """Sort key ordering ``cluster_2`` before ``cluster_10`` (digits compared as numbers).

    Examples
    --------
    >>> sorted(["cluster_10", "cluster_2", "noise"], key=cluster_sort_key)
    ['cluster_2', 'cluster_10', 'noise']
    """
    # Each chunk becomes (0, number) or (1, text) so that ints and strings never compare.
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in re.split(r"(\d+)", label)
        if part
    )


def check_columns(
    columns: Sequence[str], features: Sequence[FeatureInfo], cluster_column: str
) -> None:
    """Raise `InvalidInputError` when a feature or the cluster column is not in ``columns``.

    Examples
    --------
    >>> check_columns(["age", "cluster"], [FeatureInfo.numeric("age")], "cluster")
    """
    available = set(columns)
    if cluster_column not in available:
        raise InvalidInputError(
            f"The scored table has no cluster label column {cluster_column!r}; its columns are: "
            f"{', '.join(columns)}. Pass cluster_column= with the column holding the labels."
        )
    names = [f.name for f in features]
    missing = [n for n in names if n not in available]
    if missing:
        raise InvalidInputError(
            f"Feature column(s) {', '.join(map(repr, missing))} are not in the scored table "
            f"(columns: {', '.join(columns)}). Remove them from the feature list."
        )
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidInputError(
            f"Feature(s) {', '.join(map(repr, duplicates))} are listed more than once; "
            "list each feature once, as numeric or categorical."
        )
    if cluster_column in names:
        raise InvalidInputError(
            f"The cluster label column {cluster_column!r} is also listed as a feature; "
            "remove it from the feature list."
        )
