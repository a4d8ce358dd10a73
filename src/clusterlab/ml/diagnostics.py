"""ML diagnostics: warnings about a training session or one model, as DSS shows them.

Session checks: too few rows, an input feature with too many missing values, an
outliers min size above 10% of the rows. Model checks: one cluster holding more than
90% of the rows, a cluster with less than 1% of them. Each warning says what was found
and what to try.

Examples
--------
>>> [d.code for d in model_diagnostics({"cluster_0": 995, "cluster_1": 5})]
['dominant_cluster', 'small_cluster']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
from pydantic import BaseModel, ConfigDict

from clusterlab.core.mltask import FeatureHandling, OutliersSpec

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

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.core.mltask import FeatureHandling, OutliersSpec
    >>> frame = pd.DataFrame({"x": [1.0, None, None]})
    >>> [d.code for d in session_diagnostics(3, frame, [FeatureHandling(name="x")],
    ...                                      OutliersSpec(method="drop"))]
    ['too_few_rows', 'feature_missing', 'outliers_min_size']
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
        share = float(prepared[feature.name].isna().mean())
        if share > MAX_MISSING_SHARE:
            found.append(
                Diagnostic(
                    code="feature_missing",
                    message=f"Feature {feature.name!r} is missing in {share:.0%} of the rows; "
                    "its imputed values may drive the clusters. Consider rejecting it.",
                )
            )
    if outliers.method != "none" and outliers.min_size > MAX_OUTLIER_MIN_SIZE_SHARE * n_rows:
        found.append(
            Diagnostic(
                code="outliers_min_size",
                message=f"The outliers min size ({outliers.min_size}) is above 10% of the "
                f"{n_rows} rows: whole clusters may be taken for outliers. Lower it.",
            )
        )
    return found


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
