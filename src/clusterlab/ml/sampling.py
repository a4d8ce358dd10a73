"""The rows a training session learns from, and the row samples of metrics and reports.

`sample_frame` selects the rows a session learns from: all, the first N, or a seeded
random or stratified sample. `stratified_positions` picks a bounded, cluster-stratified
sample of a labelled matrix: the silhouette and the variables importance use it so that
their cost does not grow with the rows.

Samples keep the rows in their original order, and the same seed gives the same rows,
so that a session can be re-run identically. A frame that already fits the sample
(N rows or fewer for ``first_n`` and ``random_n``) comes back whole.

Examples
--------
>>> import pandas as pd
>>> from clusterlab.core.mltask import SamplingSpec
>>> frame = pd.DataFrame({"x": range(10)})
>>> sample_frame(frame, SamplingSpec(method="first_n", n=3))["x"].tolist()
[0, 1, 2]
>>> len(sample_frame(frame, SamplingSpec(method="random_ratio", ratio=0.5, seed=1)))
5
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.mltask import SamplingSpec

IntArray = np.ndarray[Any, np.dtype[np.int64]]


def _pick(positions: np.ndarray[Any, Any], count: int, rng: np.random.Generator) -> Any:
    if count >= len(positions):
        return positions
    return rng.choice(positions, size=count, replace=False)


def sample_frame(frame: pd.DataFrame, spec: SamplingSpec) -> pd.DataFrame:
    """The rows of ``frame`` selected by ``spec``, in their original order.

    ``stratified`` keeps the share ``ratio`` of every value of ``spec.column`` (missing
    values form a stratum), at least one row per stratum.

    Examples
    --------
    >>> import pandas as pd
    >>> from clusterlab.core.mltask import SamplingSpec
    >>> frame = pd.DataFrame({"g": ["a"] * 8 + ["b"] * 2})
    >>> spec = SamplingSpec(method="stratified", ratio=0.5, column="g")
    >>> sample_frame(frame, spec)["g"].value_counts().to_dict()
    {'a': 4, 'b': 1}
    """
    n_rows = len(frame)
    rng = np.random.default_rng(spec.seed)
    if spec.method == "all":
        return frame
    if spec.method == "first_n":
        return frame.iloc[: spec.n]
    if spec.method == "random_n":
        rows = _pick(np.arange(n_rows), spec.n, rng)
    elif spec.method == "random_ratio":
        rows = _pick(np.arange(n_rows), round(spec.ratio * n_rows), rng)
    else:
        column = spec.column or ""
        if column not in frame.columns:
            raise InvalidInputError(
                f"Stratified sampling is on column {column!r}, which the data does not have "
                f"(columns: {', '.join(map(str, frame.columns))}). Choose another column."
            )
        codes, _ = pd.factorize(frame[column], use_na_sentinel=False)
        rows = np.concatenate(
            [
                _pick(np.flatnonzero(codes == code), max(1, round(spec.ratio * size)), rng)
                for code, size in enumerate(np.bincount(codes))
                if size
            ]
            or [np.empty(0, dtype=np.int64)]
        )
    return frame.iloc[np.sort(rows)]


SCAN_MAX_LABELS = 32
"""Up to this many labels, one scan per label finds its rows; beyond, one stable sort."""


def _rows_by_label(inverse: IntArray, counts: IntArray) -> list[IntArray]:
    """The positions of each label's rows, ascending, by label code."""
    if len(counts) <= SCAN_MAX_LABELS:
        return [np.flatnonzero(inverse == code) for code in range(len(counts))]
    order = np.argsort(inverse, kind="stable")
    return np.split(order, np.cumsum(counts)[:-1])


def stratified_positions(
    labels: np.ndarray[Any, Any], size: int, seed: int, min_rows: int = 2
) -> IntArray:
    """Positions of about ``size`` rows, each label sampled in proportion to its count.

    Every label keeps at least ``min_rows`` rows (all of them when it has fewer): two
    by default, so that each cluster still has a within-cluster distance. Positions
    come back sorted; when ``size`` is not below the number of rows, every position is
    returned.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.array([0] * 90 + [1] * 10)
    >>> picked = stratified_positions(labels, 20, seed=0)
    >>> len(picked), int((labels[picked] == 1).sum())
    (20, 2)
    """
    if size >= len(labels):
        return np.arange(len(labels), dtype=np.int64)
    # Hashing, not sorting, finds the labels: on a million rows sorting them cost
    # 0.15 s (1 s for strings), and a session stratifies four times per model.
    inverse, _ = pd.factorize(np.asarray(labels), sort=True, use_na_sentinel=False)
    return stratified_by_codes(inverse, np.bincount(inverse), size, seed, min_rows)


def stratified_by_codes(
    inverse: IntArray, counts: IntArray, size: int, seed: int, min_rows: int = 2
) -> IntArray:
    """`stratified_positions` of labels already coded: ``inverse`` gives each row's
    label as a position among the sorted labels, ``counts`` the rows of each."""
    if size >= len(inverse):
        return np.arange(len(inverse), dtype=np.int64)
    rng = np.random.default_rng(seed)
    share = counts * size / counts.sum()
    quota = np.floor(share).astype(np.int64)
    # Largest remainders first, so that the quotas add up to the requested size.
    short = size - int(quota.sum())
    if short > 0:
        quota[np.argsort(-(share - quota), kind="stable")[:short]] += 1
    quota = np.minimum(np.maximum(quota, min_rows), counts)
    picked = [
        rng.choice(rows, size=int(q), replace=False)
        for rows, q in zip(_rows_by_label(inverse, counts), quota, strict=True)
    ]
    return np.sort(np.concatenate(picked)).astype(np.int64)
