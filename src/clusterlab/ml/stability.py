"""Choosing k with evidence: stability under resampling, and a recommended k.

A clustering worth naming comes back when the data is drawn again. For each model of
a session that takes a k, `session_stability` refits the same parameters on a few
bootstrap samples of the training matrix and measures how well each refit agrees with
the model on the rows it saw, by the adjusted Rand index (ARI: 1 for the same
partition, about 0 for a random one). `recommend_k` then weighs that stability
against the silhouette and the Davies-Bouldin index and says which k it recommends,
and why, in a sentence.

Cost is bounded whatever the rows: each sample holds at most `DEFAULT_MAX_ROWS` rows
(`QUADRATIC_MAX_ROWS` for algorithms needing a rows × rows matrix), and a model
whose rows × k × columns summed over its samples would pass `DEFAULT_MAX_WORK` gets
fewer samples, or none (its point says so in ``note``).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from clusterlab.core.mltask import FeatureHandling, KMeansSpec, TaskDesign
>>> from clusterlab.ml.training import train_session
>>> rng = np.random.default_rng(0)
>>> centers = [(0, 0), (6, 0), (0, 6), (6, 6)]
>>> frame = pd.DataFrame(np.vstack([rng.normal(c, 0.4, (50, 2)) for c in centers]),
...                      columns=["a", "b"])
>>> design = TaskDesign(features=(FeatureHandling(name="a"), FeatureHandling(name="b")),
...                     algorithms=(KMeansSpec(k=(3, 4, 6), seed=0),))
>>> session = train_session(frame, design)
>>> choice = choose_k(session)
>>> choice.k, choice.model_label
(4, 'K-means (k=4)')
>>> [(row.k, row.stable) for row in choice.table]
[(3, False), (4, True), (6, False)]
>>> choice.reason
'k = 4: the only stable k (ARI 1.00 ± 0.00, silhouette 0.88, Davies-Bouldin 0.17).'

"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from clusterlab.core.errors import InvalidInputError
from clusterlab.core.mltask import AlgorithmType, ModelParams
from clusterlab.ml.algorithms import IntArray, fit_clustering
from clusterlab.ml.preprocess import Matrix
from clusterlab.ml.threads import native_threads
from clusterlab.ml.training import SessionResult, TrainedModel

__all__ = [
    "DEFAULT_MAX_ROWS",
    "DEFAULT_MAX_WORK",
    "DEFAULT_SAMPLES",
    "QUADRATIC_MAX_ROWS",
    "SILHOUETTE_MARGIN",
    "STABLE_ARI",
    "KCandidate",
    "KRecommendation",
    "StabilityPoint",
    "adjusted_rand",
    "bootstrap_stability",
    "choose_k",
    "k_table",
    "model_stability",
    "recommend_k",
    "session_stability",
]

DEFAULT_SAMPLES = 5
"""Bootstrap refits per model."""
DEFAULT_MAX_ROWS = 10_000
"""Rows drawn per bootstrap sample, at most (fewer when the matrix has fewer).

Measured on 1M rows × 15 columns: the ARI of two partitions taken on 10,000 rows has
a standard deviation below 0.01 around their ARI on all rows, less than the spread
between refits. Refits on fewer rows vary more, though: on well-separated clusters
the figures stay put, but on overlapping ones the mean ARI drops with the rows (0.91,
0.88, 0.86 at 20,000, 10,000, 5,000 rows). 10,000 halves the cost of 20,000 for
that small drop.
"""
QUADRATIC_MAX_ROWS = 5_000
"""Rows per sample for agglomerative and spectral clustering (rows × rows memory)."""
DEFAULT_MAX_WORK = 200_000_000
"""Cap on rows × k × columns summed over one model's samples.

Measured here on one thread, a K-means refit (3 restarts) on 10,000 rows × 10 columns
with k = 7 took 0.01–0.12 s (less on clustered data), so its 5 samples use 1.75% of
the cap; one with k = 50 on 100 columns took 0.9–1.4 s and gets 4 samples instead of 5.
A model that cannot afford two samples is skipped: one sample gives no spread and
little evidence.
"""
STABLE_ARI = 0.8
"""Mean ARI from which a model counts as stable."""
SILHOUETTE_MARGIN = 0.05
"""Silhouettes within this of the best count as equally good."""
_ARI_TIE = 0.01
_QUADRATIC = frozenset({AlgorithmType.AGGLOMERATIVE, AlgorithmType.SPECTRAL})
_SINGLE_THREAD_ROWS = 50_000

Labels = np.ndarray[Any, Any]


class StabilityPoint(BaseModel):
    """Stability of one model: mean and std of the ARI over its bootstrap refits.

    ``samples`` is the number of refits that ran and ``rows`` the rows drawn for each;
    ``ari_mean`` and ``ari_std`` are None when none ran, and ``note`` then says why
    (it also says when fewer samples than asked ran).
    """

    model_config = ConfigDict(frozen=True)

    k: int
    label: str
    ari_mean: float | None
    ari_std: float | None
    samples: int
    rows: int = 0
    note: str | None = None


class KCandidate(BaseModel):
    """One row of the choose-k table: a model with a k, its metrics and its stability."""

    model_config = ConfigDict(frozen=True)

    k: int
    label: str
    silhouette: float | None = None
    davies_bouldin: float | None = None
    ari_mean: float | None = None
    ari_std: float | None = None
    stable: bool | None = None
    """ARI mean ≥ `STABLE_ARI`; None when the stability was not measured."""
    samples: int = 0
    note: str | None = None


class KRecommendation(BaseModel):
    """The recommended k, the model it comes from, the reason, and the table weighed.

    ``k`` and ``model_label`` are None when the evidence supports no k.
    """

    model_config = ConfigDict(frozen=True)

    k: int | None
    model_label: str | None
    reason: str
    table: list[KCandidate]


def _work_plan(
    n_rows: int, k: int, n_columns: int, samples: int, max_work: int
) -> tuple[int, str | None]:
    per_fit = n_rows * k * max(n_columns, 1)
    affordable = min(samples, max_work // per_fit)
    if affordable >= samples:
        return samples, None
    size = f"{n_rows:,} rows × k = {k} × {n_columns} columns"
    if affordable < 2:
        return 0, (
            f"Stability not measured: {size} per refit is beyond the work cap of "
            f"{max_work:,}; raise max_work or lower max_rows to measure it."
        )
    return affordable, f"{affordable} of {samples} samples: {size} per refit hit the work cap."


def bootstrap_stability(
    params: ModelParams,
    matrix: Matrix,
    labels: Sequence[Any] | np.ndarray[Any, Any],
    *,
    samples: int = DEFAULT_SAMPLES,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_work: int = DEFAULT_MAX_WORK,
    seed: int = 0,
    allow_custom_code: bool = False,
) -> StabilityPoint:
    """Refit ``params`` on bootstrap samples of ``matrix`` and compare with ``labels``.

    Sample ``b`` draws ``min(rows, max_rows)`` rows with replacement (from a generator
    seeded by ``(seed, b)``, so every model of a session sees the same samples); the
    model is refitted on them, and the ARI is taken between the refit's labels and
    ``labels`` over the distinct rows drawn.

    Parameters
    ----------
    params : ModelParams
        The model's algorithm and parameters (its seed is kept).
    matrix : ndarray of shape (n_rows, n_columns)
        The matrix the model was fitted on (after PCA when the model uses it).
    labels : sequence of shape (n_rows,)
        The model's label (id or name) of each row of ``matrix``.
    samples : int
        Bootstrap refits wanted; fewer run when the work cap is hit.
    max_rows : int
        Rows drawn per sample at most (5,000 at most for agglomerative and spectral).
    max_work : int
        Cap on rows × k × columns summed over the refits.
    seed : int
        Seed of the draws.
    allow_custom_code : bool
        Whether a custom model's code may run.

    Returns
    -------
    StabilityPoint

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.core.mltask import ModelParams
    >>> x = np.vstack([np.random.default_rng(0).normal(c, 0.1, (40, 2)) for c in (0, 5)])
    >>> params = ModelParams(algorithm="kmeans", params={"k": 2, "seed": 0})
    >>> point = bootstrap_stability(params, x, [0] * 40 + [1] * 40, samples=3)
    >>> point.ari_mean, point.samples, point.rows
    (1.0, 3, 80)
    """
    k = params.k
    if k is None:
        raise InvalidInputError(
            f"{params.label} takes no k: stability per k applies to models with a k."
        )
    truth = np.asarray(labels)
    if truth.shape[0] != matrix.shape[0]:
        raise InvalidInputError(
            f"{params.label}: {truth.shape[0]} labels for a matrix of {matrix.shape[0]} "
            "rows; pass one label per row of the matrix the model was fitted on."
        )
    return _stability(
        params,
        matrix,
        truth.__getitem__,
        samples=samples,
        max_rows=max_rows,
        max_work=max_work,
        seed=seed,
        allow_custom_code=allow_custom_code,
    )


def _stability(
    params: ModelParams,
    matrix: Matrix,
    truth_at: Callable[[IntArray], Labels],
    *,
    samples: int,
    max_rows: int,
    max_work: int,
    seed: int,
    allow_custom_code: bool = False,
) -> StabilityPoint:
    """`bootstrap_stability`, with the model's labels of matrix rows given by ``truth_at``.

    Only the labels of the rows drawn are looked up, so that a session's models need
    not each copy a label per row of the whole matrix.
    """
    plan = stability_plan(params, matrix, samples=samples, max_rows=max_rows, max_work=max_work)
    refits = [
        bootstrap_refit(params, matrix, plan, b, seed, allow_custom_code=allow_custom_code)
        for b in range(plan.runs)
    ]
    return stability_point(params, plan, refits, truth_at)


@dataclass(frozen=True)
class StabilityPlan:
    """How a model's stability is measured: ``runs`` refits on ``rows`` rows each, and
    the ``note`` saying why fewer than asked (or none) run."""

    runs: int
    rows: int
    note: str | None


@dataclass(frozen=True)
class Refit:
    """One bootstrap refit: the distinct matrix rows drawn and the refit's label id of
    each, or the refit's error."""

    rows: IntArray | None = None
    labels: IntArray | None = None
    error: str | None = None


def stability_plan(
    params: ModelParams,
    matrix: Matrix,
    *,
    samples: int = DEFAULT_SAMPLES,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_work: int = DEFAULT_MAX_WORK,
) -> StabilityPlan:
    """The refits `bootstrap_stability` runs for ``params`` on ``matrix``."""
    k = params.k
    assert k is not None  # checked by the callers
    if samples < 1:
        raise InvalidInputError(f"samples must be at least 1, not {samples}.")
    cap = min(max_rows, QUADRATIC_MAX_ROWS) if params.algorithm in _QUADRATIC else max_rows
    n_rows = min(matrix.shape[0], cap)
    runs, note = _work_plan(n_rows, k, matrix.shape[1], samples, max_work)
    return StabilityPlan(runs, n_rows, note)


def bootstrap_refit(
    params: ModelParams,
    matrix: Matrix,
    plan: StabilityPlan,
    sample: int,
    seed: int = 0,
    *,
    allow_custom_code: bool = False,
) -> Refit:
    """Refit ``params`` on bootstrap sample number ``sample`` of ``matrix``.

    A refit needs only the matrix, not the model it is compared with: a session may run
    its refits while its models train. A failed refit is returned, not raised.
    """
    threads = 1 if plan.rows < _SINGLE_THREAD_ROWS else None
    drawn = np.random.default_rng([seed, sample]).integers(0, matrix.shape[0], plan.rows)
    with native_threads(limits=threads), warnings.catch_warnings():
        # Refits warn as the model did (no convergence…); the model's report has those.
        warnings.simplefilter("ignore")
        try:
            refit = fit_clustering(params, matrix[drawn], allow_custom_code=allow_custom_code)
        except Exception as exc:  # a failed refit is reported, not raised
            return Refit(error=f"{type(exc).__name__}: {exc}")
    distinct, first = np.unique(drawn, return_index=True)
    return Refit(rows=distinct, labels=refit.label_ids[first])


def stability_point(
    params: ModelParams,
    plan: StabilityPlan,
    refits: Sequence[Refit],
    truth_at: Callable[[IntArray], Labels],
) -> StabilityPoint:
    """The stability of a model from its refits, compared with its labels of matrix rows
    (``truth_at``) by the adjusted Rand index."""
    assert params.k is not None  # checked by the callers
    scores = [
        adjusted_rand(truth_at(r.rows), r.labels)
        for r in refits
        if r.rows is not None and r.labels is not None
    ]
    errors = [r.error for r in refits if r.error is not None]
    note = plan.note
    if errors:
        failed = f"{len(errors)} of {plan.runs} refits failed ({errors[0]})."
        note = f"{note} {failed}" if note else failed
    return StabilityPoint(
        k=params.k,
        label=params.label,
        ari_mean=float(np.mean(scores)) if scores else None,
        ari_std=float(np.std(scores)) if scores else None,
        samples=len(scores),
        rows=plan.rows,
        note=note,
    )


def adjusted_rand(left: Labels, right: Labels) -> float:
    """Adjusted Rand index of two labelings of the same rows (any hashable labels).

    Equals scikit-learn's ``adjusted_rand_score``: the same integer pair counts put in
    the same formula. The pairs are counted from bincounts of hashed label codes rather
    than scikit-learn's sorts of the labels, which took a quarter of `choose_k`'s time on
    cluster names (23 ms against 3 ms here for 20,000 rows).

    Examples
    --------
    >>> adjusted_rand(np.array(["a", "a", "b", "b"]), np.array([1, 1, 0, 0]))
    1.0
    >>> round(adjusted_rand(np.array([0, 0, 1, 2]), np.array([0, 0, 1, 1])), 4)
    0.5714
    """
    rows, columns = _codes(left), _codes(right)
    n = len(rows)
    # Each pair of codes (both below n) as one number, coded again: only the cells seen
    # of the contingency table are counted.
    same_both = _sum_squares(np.bincount(_codes(rows * n + columns)))
    same_left = _sum_squares(np.bincount(rows))
    same_right = _sum_squares(np.bincount(columns))
    # Ordered pairs of distinct rows: together in both, in one labeling only, or in neither.
    tp = same_both - n
    fp = same_right - same_both
    fn = same_left - same_both
    tn = n * n - fp - fn - same_both
    if fn == 0 and fp == 0:
        return 1.0
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


def _codes(labels: Labels) -> IntArray:
    # None and NaN are a label like any other, as in scikit-learn.
    codes, _ = pd.factorize(labels, use_na_sentinel=False)
    return codes.astype(np.int64, copy=False)


def _sum_squares(counts: IntArray) -> int:
    # A Python int: the products of pair counts pass int64 from about 55,000 rows.
    return int(np.dot(counts, counts))


def measures_stability(params: ModelParams) -> bool:
    """Whether a model of ``params`` gets a stability point (when it trains): it takes a
    k and is not custom code."""
    return params.k is not None and params.algorithm is not AlgorithmType.CUSTOM


def _has_k(model: TrainedModel) -> bool:
    return model.ok and measures_stability(model.params)


def model_labels_at(session: SessionResult, model: TrainedModel) -> Callable[[IntArray], Labels]:
    """The labels of ``model`` at rows of its matrix, as `stability_point` reads them."""
    # The labels' integer codes (-1: none), not the names: the same partition, read
    # without touching Python objects while the other model thread runs.
    return _labels_at(np.asarray(model.categorical.codes), session.fit_positions)


def _k_models(session: SessionResult) -> list[TrainedModel]:
    return [m for m in session.models if _has_k(m)]


def session_stability(
    session: SessionResult,
    *,
    samples: int = DEFAULT_SAMPLES,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_work: int = DEFAULT_MAX_WORK,
    seed: int = 0,
) -> list[StabilityPoint]:
    """Stability of every trained model of ``session`` that takes a k, in session order.

    Each model is refitted on the matrix it was fitted on: the session's preprocessed
    matrix, projected by the session's fitted PCA for models using PCA (the projection
    is kept fixed: what is measured is the clustering's stability, not the PCA's).
    Custom models are left out (their code is the user's). See `bootstrap_stability`
    for the options.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from clusterlab.core.mltask import FeatureHandling, KMeansSpec, TaskDesign
    >>> from clusterlab.ml.training import train_session
    >>> x = np.random.default_rng(1).normal(size=(60, 1)) + np.repeat([0, 8], 30)[:, None]
    >>> design = TaskDesign(features=(FeatureHandling(name="a"),),
    ...                     algorithms=(KMeansSpec(k=(2,), seed=0),))
    >>> [(p.k, p.ari_mean) for p in session_stability(train_session(
    ...     pd.DataFrame(x, columns=["a"]), design), samples=2)]
    [(2, 1.0)]
    """
    options = {"samples": samples, "max_rows": max_rows, "max_work": max_work, "seed": seed}
    points = (model_stability(session, model, **options) for model in _k_models(session))
    return [point for point in points if point is not None]


def model_stability(
    session: SessionResult,
    model: TrainedModel,
    *,
    samples: int = DEFAULT_SAMPLES,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_work: int = DEFAULT_MAX_WORK,
    seed: int = 0,
) -> StabilityPoint | None:
    """The stability of one model of ``session`` (see `session_stability`); None for a
    model without a k, a custom one or a failed one.

    Two models' stability may be measured at once, in two threads.
    """
    if not _has_k(model):
        return None
    assert model.labels is not None  # a trained model has labels
    return _stability(
        model.params,
        session.model_matrix(model.params),
        model_labels_at(session, model),
        samples=samples,
        max_rows=max_rows,
        max_work=max_work,
        seed=seed,
    )


def _labels_at(labels: Labels, positions: IntArray) -> Callable[[IntArray], Labels]:
    """Labels of matrix rows, the matrix holding the rows ``positions`` of ``labels``."""
    return lambda rows: labels[positions[rows]]


def k_table(session: SessionResult, points: Sequence[StabilityPoint]) -> list[KCandidate]:
    """The choose-k table: each trained model with a k, its metrics and its stability.

    Points are matched to models by label (models without a point get no stability);
    rows come in session order.
    """
    by_label = {p.label: p for p in points}
    rows = []
    for model in _k_models(session):
        point = by_label.get(model.params.label)
        ari = None if point is None else point.ari_mean
        rows.append(
            KCandidate(
                k=model.params.k or 0,
                label=model.params.label,
                silhouette=model.metric("silhouette"),
                davies_bouldin=model.metric("davies_bouldin"),
                ari_mean=ari,
                ari_std=None if point is None else point.ari_std,
                stable=None if ari is None else ari >= STABLE_ARI,
                samples=0 if point is None else point.samples,
                note=None if point is None else point.note,
            )
        )
    return rows


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _ari(row: KCandidate) -> str:
    return f"ARI {_num(row.ari_mean)} ± {_num(row.ari_std)}"


def _desc(value: float | None) -> float:
    # Sort keys: a missing metric ranks after every present one.
    return -value if value is not None else float("inf")


def _asc(value: float | None) -> float:
    return value if value is not None else float("inf")


def recommend_k(
    table: Sequence[KCandidate],
    *,
    stable_ari: float = STABLE_ARI,
    silhouette_margin: float = SILHOUETTE_MARGIN,
) -> KRecommendation:
    """Recommend a k from the table of models with a k, and say why.

    The rule, in order:

    1. Keep the **stable** models: mean ARI ≥ ``stable_ari`` (0.8). When stability was
       measured for none, fall back on the best silhouette, and say so. When it was
       measured and no model is stable, recommend **no k** (``k`` is None): the
       clusters would come out differently on other draws of the same data.
    2. Among the stable models, **shortlist** those whose silhouette is within
       ``silhouette_margin`` (0.05) of the best stable silhouette (all of them when
       no silhouette is known).
    3. Recommend the **most stable** of the shortlist; ARIs within 0.01 of the highest
       count as equal and are told apart by the lower Davies-Bouldin, then the higher
       silhouette, then the smaller k.

    Examples
    --------
    >>> rows = [KCandidate(k=3, label="K-means (k=3)", silhouette=0.62, davies_bouldin=0.7,
    ...                    ari_mean=0.91, ari_std=0.05, stable=True),
    ...         KCandidate(k=5, label="K-means (k=5)", silhouette=0.60, davies_bouldin=0.6,
    ...                    ari_mean=0.97, ari_std=0.01, stable=True)]
    >>> import textwrap
    >>> print(textwrap.fill(recommend_k(rows).reason, 80))
    k = 5: the most stable of the stable k with a silhouette within 0.05 of the best
    (ARI 0.97 ± 0.01, silhouette 0.60, Davies-Bouldin 0.60).
    """
    rows = list(table)
    if not rows:
        return KRecommendation(
            k=None,
            model_label=None,
            reason="No trained model takes a k: train K-means, a Gaussian mixture or "
            "agglomerative clustering with several k to compare them.",
            table=rows,
        )
    measured = [r for r in rows if r.ari_mean is not None]
    if not measured:
        best = min(rows, key=lambda r: (_desc(r.silhouette), _asc(r.davies_bouldin), r.k))
        return _recommend(
            best,
            f"the best silhouette ({_num(best.silhouette)}); stability was not measured, "
            "so this rests on the silhouette alone",
            rows,
        )
    stable = [r for r in measured if (r.ari_mean or 0.0) >= stable_ari]
    if not stable:
        top = max(measured, key=lambda r: (r.ari_mean or 0.0, -r.k))
        return KRecommendation(
            k=None,
            model_label=None,
            reason=f"No k is clearly supported: none is stable under resampling (the most "
            f"stable, k = {top.k}, has {_ari(top)}, below {stable_ari:g}). The data may "
            "have no clear clusters at these k: try other k, other features or another "
            "algorithm.",
            table=rows,
        )
    shortlist = stable
    known = [r.silhouette for r in stable if r.silhouette is not None]
    if known:
        shortlist = [
            r
            for r in stable
            if r.silhouette is not None and r.silhouette >= max(known) - silhouette_margin
        ]
    most = max(r.ari_mean or 0.0 for r in shortlist)
    tied = [r for r in shortlist if (r.ari_mean or 0.0) >= most - _ARI_TIE]
    best = min(tied, key=lambda r: (_asc(r.davies_bouldin), _desc(r.silhouette), r.k))
    figures = (
        f"({_ari(best)}, silhouette {_num(best.silhouette)}, "
        f"Davies-Bouldin {_num(best.davies_bouldin)})"
    )
    if len(rows) == 1:
        why = f"the only k trained, and it is stable {figures}; train other k to compare"
    elif len(stable) == 1:
        why = f"the only stable k {figures}"
    elif len(shortlist) == 1:
        why = f"the best silhouette of the stable k {figures}"
    else:
        why = (
            f"the most stable of the stable k with a silhouette within "
            f"{silhouette_margin:g} of the best {figures}"
        )
    return _recommend(best, why + _unstable_rival(best, rows, stable_ari), rows)


def _unstable_rival(best: KCandidate, rows: Sequence[KCandidate], stable_ari: float) -> str:
    """Name the unstable model with a better silhouette, when there is one."""
    rivals = [
        r
        for r in rows
        if r.stable is False
        and r.silhouette is not None
        and best.silhouette is not None
        and r.silhouette > best.silhouette
    ]
    if not rivals:
        return ""
    rival = max(rivals, key=lambda r: (r.silhouette or 0.0, -r.k))
    return (
        f"; k = {rival.k} has a higher silhouette ({_num(rival.silhouette)}) but is "
        f"unstable ({_ari(rival)}, below {stable_ari:g})"
    )


def _recommend(best: KCandidate, why: str, rows: list[KCandidate]) -> KRecommendation:
    families = {r.label.replace(f"k={r.k}", "") for r in rows}
    head = f"k = {best.k}" if len(families) == 1 else f"k = {best.k} with {best.label}"
    return KRecommendation(k=best.k, model_label=best.label, reason=f"{head}: {why}.", table=rows)


def choose_k(
    session: SessionResult,
    *,
    samples: int = DEFAULT_SAMPLES,
    max_rows: int = DEFAULT_MAX_ROWS,
    max_work: int = DEFAULT_MAX_WORK,
    seed: int = 0,
) -> KRecommendation:
    """Measure the stability of ``session``'s models with a k and recommend one.

    `session_stability`, then `k_table`, then `recommend_k` with its default rule.
    """
    points = session_stability(
        session, samples=samples, max_rows=max_rows, max_work=max_work, seed=seed
    )
    return recommend_k(k_table(session, points))
