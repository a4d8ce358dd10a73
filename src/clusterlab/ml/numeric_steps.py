"""Numeric preprocessing steps fitted and applied column by column, in numpy.

A session's numeric steps (an imputer and a scaler of scikit-learn) are fitted on two
rows by scikit-learn, which sets up everything their ``transform`` needs, then given
the statistics of all rows computed here one column at a time, with scikit-learn's own
formulas: bit for bit what their ``fit`` finds, without validating and copying the
matrix three times (on 1M rows x 15: 0.14 s against 0.63 s, and no full copy). The
saved steps stay plain scikit-learn objects, so scoring is unchanged. A test compares
every fitted attribute with scikit-learn's own fit, so a scikit-learn release that
changes them fails loudly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from clusterlab.core.mltask import NumericHandling

Matrix = np.ndarray[Any, np.dtype[np.float64]]
"""A float64 matrix, rows by features (`clusterlab.ml.preprocess` uses this one too)."""

T = TypeVar("T")

NUMERIC_BLOCK_ROWS = 8_192
"""Rows of the matrix a numeric step fills at a time (a block stays in the CPU cache)."""


def numeric_columns(rows: pd.DataFrame, names: Sequence[str]) -> list[Matrix]:
    """The columns of a numeric step, as float64 arrays sharing the frame's memory."""
    return [rows[name].to_numpy(dtype=np.float64) for name in names]


def writes_in_numpy(step: Any) -> bool:
    """Whether `write_numeric` gives ``step.transform`` exactly: a passthrough, or a
    pipeline of a ``SimpleImputer`` (one output column per input) then a standard or
    min-max scaler, as this module fits them. Anything else (a model saved by another
    version with other settings) is left to scikit-learn."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer, MinMaxScaler, StandardScaler

    if isinstance(step, FunctionTransformer):
        return step.func is None
    if not isinstance(step, Pipeline):
        return False
    parts = [name for name, _ in step.steps]
    if parts not in (["impute"], ["scale"], ["impute", "scale"]):
        return False
    imputer, scaler = _numeric_parts(step)
    if imputer is not None and not (
        isinstance(imputer, SimpleImputer)
        and imputer.keep_empty_features
        and not imputer.add_indicator
        and isinstance(imputer.missing_values, float)
        and np.isnan(imputer.missing_values)
    ):
        return False
    if isinstance(scaler, StandardScaler):
        return bool(scaler.with_mean and scaler.with_std)
    return scaler is None or (isinstance(scaler, MinMaxScaler) and not scaler.clip)


def _numeric_parts(step: Any) -> tuple[Any, Any]:
    """The fitted imputer and scaler of a numeric step (None where it has none)."""
    parts = dict(getattr(step, "steps", []))
    return parts.get("impute"), parts.get("scale")


def _imputed(values: Matrix, handling: NumericHandling) -> tuple[float, Matrix]:
    """The value ``SimpleImputer`` fills a column with, bit for bit, and the filled column.

    The mean divides the sum of the present values (the missing ones counted as 0) by
    their count, as ``numpy.ma.mean`` does; an all-missing column gets 0, as
    ``keep_empty_features`` asks. The column comes back as is when nothing is missing.
    """
    missing = np.isnan(values)
    present = len(values) - int(np.count_nonzero(missing))
    whole = present == len(values)
    if handling.missing == "constant":
        fill = float(handling.constant)
    elif present == 0:
        fill = 0.0
    elif handling.missing == "median":
        fill = float(np.median(values if whole else values[~missing]))
    else:
        fill = float(np.sum(values if whole else np.where(missing, 0.0, values)) * 1.0 / present)
    return fill, values if whole else np.where(missing, fill, values)


def _mean_and_variance(values: Matrix, scratch: Matrix) -> tuple[float, float]:
    """Mean and variance of a column as ``StandardScaler.fit`` computes them, bit for bit.

    The corrected two-pass algorithm of ``_incremental_mean_and_var`` (Chan, Golub and
    LeVeque), on one column: ``scratch`` receives the centred values.
    """
    count = float(len(values))
    mean = np.sum(values) / count
    np.subtract(values, mean, out=scratch)
    correction = np.sum(scratch)
    np.square(scratch, out=scratch)
    return float(mean), float((np.sum(scratch) - correction**2 / count) / count)


def _set_standard_scaler(scaler: Any, means: Matrix, variances: Matrix, n_rows: int) -> None:
    """Give a ``StandardScaler`` fitted on two rows the statistics of ``n_rows`` rows."""
    # The type scikit-learn gives the count (an integer or a float, by version).
    seen = type(scaler.n_samples_seen_)(n_rows)
    eps = np.finfo(np.float64).eps
    # scikit-learn's test of a constant column: a variance within rounding error of 0.
    constant = variances <= seen * eps * variances + (seen * means * eps) ** 2
    scaler.scale_ = np.where(constant, 1.0, np.sqrt(variances))
    scaler.mean_, scaler.var_, scaler.n_samples_seen_ = means, variances, seen


def _set_minmax_scaler(scaler: Any, lows: Matrix, highs: Matrix, n_rows: int) -> None:
    """Give a ``MinMaxScaler`` fitted on two rows the statistics of ``n_rows`` rows."""
    spread = highs - lows
    low, high = (np.float64(bound) for bound in scaler.feature_range)
    # A range within rounding error of 0 scales by 1, as in scikit-learn.
    scaler.scale_ = (high - low) / np.where(spread < 10 * np.finfo(np.float64).eps, 1.0, spread)
    scaler.min_ = low - lows * scaler.scale_
    scaler.data_min_, scaler.data_max_, scaler.data_range_ = lows, highs, spread
    scaler.n_samples_seen_ = n_rows


def fit_numeric_step(step: Any, columns: Sequence[Matrix], handling: NumericHandling) -> None:
    """Refit a numeric step (fitted on two rows) on ``columns``, one column at a time.

    The imputer and the scaler get the statistics their own ``fit`` finds on all rows,
    bit for bit, at a fraction of the cost: on 1M rows x 15 their fit took ~0.4 s,
    mostly validating the matrix and copying it three times. A column and its scratch
    copy stay in the CPU cache, and the matrix is never copied. On many rows two
    threads share the columns (numpy's passes run without the GIL).
    """
    from sklearn.preprocessing import StandardScaler

    imputer, scaler = _numeric_parts(step)
    if imputer is None and scaler is None:
        return  # a passthrough step has nothing to learn
    standard = isinstance(scaler, StandardScaler)

    def measure(part: Sequence[Matrix]) -> list[tuple[float, float, float]]:
        scratch, copied = np.empty(len(columns[0])), np.empty(len(columns[0]))
        found = []
        for values in part:
            if not values.flags.c_contiguous:
                # A column of a row-major block: each pass would read the whole block.
                copied[:] = values
                values = copied
            fill, filled = (0.0, values) if imputer is None else _imputed(values, handling)
            if standard:
                found.append((fill, *_mean_and_variance(filled, scratch)))
            else:
                found.append((fill, float(filled.min()), float(filled.max())))
        return found

    middle = (len(columns) + 1) // 2
    fills, firsts, seconds = zip(
        *_in_two(len(columns[0]), measure, columns[:middle], columns[middle:]), strict=True
    )
    # The constant strategy's statistics do not depend on the rows.
    if imputer is not None and handling.missing != "constant":
        imputer.statistics_ = np.array(fills)
    if scaler is not None:
        set_scaler = _set_standard_scaler if standard else _set_minmax_scaler
        set_scaler(scaler, np.array(firsts), np.array(seconds), len(columns[0]))


def write_numeric(step: Any, columns: Sequence[Matrix], out: Matrix) -> None:
    """Write ``step.transform`` of ``columns`` into ``out``, block by block.

    The operations of the imputer's and the scaler's ``transform`` (fill the missing
    values, then ``x -= mean; x /= scale`` or ``x *= scale; x += min``), so the values
    are the same bit for bit; without their validation and copies of the whole input.
    Each block is worked on transposed, a column per row: numpy loops over a matrix row
    of a few values cost ~30 ns each, which made ~0.2 s on 1M rows. On many rows two
    threads write a half of the rows each.
    """
    from sklearn.preprocessing import StandardScaler

    imputer, scaler = _numeric_parts(step)
    fills = None if imputer is None else np.asarray(imputer.statistics_, dtype=np.float64)

    def write(rows: range) -> list[None]:
        block = np.empty((len(columns), NUMERIC_BLOCK_ROWS))
        for start in rows:
            target = out[start : start + NUMERIC_BLOCK_ROWS]
            part = block[:, : len(target)]
            for row, values in zip(part, columns, strict=True):
                row[:] = values[start : start + len(target)]
            if fills is not None:
                np.copyto(part, fills[:, None], where=np.isnan(part))
            if isinstance(scaler, StandardScaler):
                part -= scaler.mean_[:, None]
                part /= scaler.scale_[:, None]
            elif scaler is not None:
                part *= scaler.scale_[:, None]
                part += scaler.min_[:, None]
            target[...] = part.T
        return []

    starts = range(0, len(out), NUMERIC_BLOCK_ROWS)
    middle = (len(starts) + 1) // 2
    _in_two(len(out), write, starts[:middle], starts[middle:])


TWO_THREADS_MIN_ROWS = 200_000
"""From this many rows, a numeric step is fitted and written by two threads."""


def _in_two(rows: int, work: Callable[[Any], list[T]], first: Any, second: Any) -> list[T]:
    """``work(first) + work(second)``: in two threads from `TWO_THREADS_MIN_ROWS` rows
    (on 1M rows x 15, the session's preprocessing ran alone on one core), else in turn."""
    if not len(second):
        return work(first)
    if rows < TWO_THREADS_MIN_ROWS:
        return work(first) + work(second)
    with ThreadPoolExecutor(1, thread_name_prefix="numeric-step") as beside:
        later = beside.submit(work, second)
        return work(first) + later.result()
