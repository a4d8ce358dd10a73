"""Limits on the libraries' native thread pools (OpenMP, BLAS), set through one controller.

threadpoolctl's ``threadpool_limits`` looks for the loaded libraries anew each time, by
walking every shared object of the process: ~7 ms of GIL-held Python per use, and a
Lab session on many rows asked for limits ~14 times while its two model threads ran.
One controller, made once the libraries that have pools are loaded, serves them all.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# threadpoolctl comes with scikit-learn (a required dependency of it) and has no types.
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]


@lru_cache(maxsize=1)
def _controller() -> Any:
    # scikit-learn's compiled modules bring the OpenMP runtime; numpy brings BLAS.
    import sklearn.cluster  # noqa: F401

    return ThreadpoolController()


def native_threads(limits: int | None, user_api: str | None = None) -> Any:
    """A context manager limiting the native pools (of ``user_api``, "blas" or
    "openmp", or all) to ``limits`` threads while it is open; None leaves them be.

    Examples
    --------
    >>> import numpy as np
    >>> with native_threads(1):
    ...     float(np.ones((4, 4)) @ np.ones(4) @ np.ones(4))
    16.0
    """
    return _controller().limit(limits=limits, user_api=user_api)
