"""Native thread limits through the shared controller apply, and are undone, as
threadpoolctl's own."""

from __future__ import annotations

import sklearn.cluster  # noqa: F401  (loads the OpenMP runtime, as training does)
from threadpoolctl import threadpool_info

from clusterlab.ml.threads import native_threads


def _threads() -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for library in threadpool_info():
        found.setdefault(library["user_api"], set()).add(library["num_threads"])
    return found


def test_limits_apply_inside_and_are_undone_after():
    before = _threads()
    assert {"blas", "openmp"} <= set(before)  # numpy's BLAS, scikit-learn's OpenMP
    with native_threads(1):
        assert _threads() == {"blas": {1}, "openmp": {1}}
    assert _threads() == before
    with native_threads(1, user_api="blas"):
        inside = _threads()
        assert inside["blas"] == {1}
        assert inside["openmp"] == before["openmp"]
    with native_threads(None):
        assert _threads() == before
    assert _threads() == before
