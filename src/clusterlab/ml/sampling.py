"""The rows a training session learns from: all, the first N, or a seeded random sample.

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
