"""Train a Lab session's models and write each one as soon as it is trained.

Once the rows are preprocessed (`prepare_session`), each model of the grid is three
pieces of work: training it, writing it (artifact, summary panels, labels) and
measuring its stability. Writing needs only that model; stability is a few bootstrap
refits, which need only the matrix, then their agreement with the model's labels.
On many rows all of it runs in two threads, one native thread each, taking the most
urgent waiting task first: trainings, then writes, then refits. A model is written
while the next trains, and the refits, small and many, fill what is left, so that
both cores stay busy to the end. (With the refits queued behind each model's write,
one core idled ~0.1-0.3 s at the end of a 1M-row session while the other finished.)

On fewer rows, or with algorithms that do not train two at a time, the same pieces
run one after the other.
"""

from __future__ import annotations

import itertools
import math
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from clusterlab.core.lab import ModelSummary
from clusterlab.ml.numeric_steps import Matrix
from clusterlab.ml.stability import (
    KRecommendation,
    StabilityPoint,
    bootstrap_refit,
    k_table,
    measures_stability,
    model_labels_at,
    model_stability,
    recommend_k,
    stability_plan,
    stability_point,
)
from clusterlab.ml.threads import native_threads
from clusterlab.ml.training import (
    SessionResult,
    TrainedModel,
    largest_k_first,
    session_threads,
    train_model,
    trains_two_at_a_time,
)
from clusterlab.services.model_store import ModelStore

T = TypeVar("T")

_TRAIN, _WRITE, _REFIT = 0, 1, 2
"""Task urgencies in `_UrgentFirst`: trainings first, then writes, then refits."""


class _UrgentFirst:
    """A pool of threads that always run the most urgent waiting task (the lowest
    urgency number; the first submitted among equals), unlike `ThreadPoolExecutor`'s
    first-in first-out queue. Its exit waits for the threads; after an error it
    cancels the tasks that have not started."""

    def __init__(self, threads: int) -> None:
        self._tasks: queue.PriorityQueue[tuple[float, int, Any]] = queue.PriorityQueue()
        self._order = itertools.count()
        self._failed = threading.Event()
        self._threads = [
            threading.Thread(target=self._work, name=f"model_{n}", daemon=True)
            for n in range(threads)
        ]

    def __enter__(self) -> _UrgentFirst:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if kind is not None:
            self._failed.set()
        for _ in self._threads:
            self._tasks.put((math.inf, next(self._order), None))
        for thread in self._threads:
            thread.join()

    def submit(self, urgency: int, fn: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        self._tasks.put((urgency, next(self._order), (fn, args, future)))
        return future

    def _work(self) -> None:
        while True:
            _, _, task = self._tasks.get()
            if task is None:  # a thread's end, queued after every task
                return
            fn, args, future = task
            if self._failed.is_set():
                future.cancel()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # handed to whoever reads the future
                future.set_exception(exc)


def train_and_write(
    result: SessionResult,
    staging: Path,
    progress: Callable[[float, str], None],
    log: Callable[[str], None],
    *,
    allow_custom_code: bool = False,
) -> tuple[list[ModelSummary], KRecommendation]:
    """Train every model of ``result``'s grid into ``result.models`` and write model
    ``i`` into ``staging / f"m{i}"``; the models' summaries in grid order, and the
    recommended k.

    Profiles, importance, scatter and rules wait for the first view of each model.
    """
    grid = result.design.grid()
    store = ModelStore(result, log, defer_panels=True)
    steps = itertools.count(1)
    total = 2 * len(grid) + 1  # each model trained then written, then k chosen
    reporting = threading.Lock()

    def step(message: str) -> None:
        # Two threads report: one at a time, so that the bar never moves back.
        with reporting:
            progress(next(steps) / total, message)

    def train(i: int) -> TrainedModel:
        model = train_model(result, grid[i], allow_custom_code=allow_custom_code)
        step(f"Trained {model.params.label}")
        return model

    def write(i: int, model: TrainedModel) -> ModelSummary:
        summary = store.write(model, staging / f"m{i}")
        step(f"Wrote {model.params.label}")
        return summary

    threads = session_threads(result)
    models: dict[int, TrainedModel] = {}
    summaries: dict[int, ModelSummary] = {}
    points: list[StabilityPoint | None] = []
    if trains_two_at_a_time(result, threads):
        progress(0.0, f"Training {len(grid)} models, two at a time")
        order = largest_k_first(grid)

        def matrix(i: int) -> Matrix:
            return result.model_matrix(grid[i])

        plans = {
            i: stability_plan(grid[i], matrix(i)) for i in order if measures_stability(grid[i])
        }
        writes: dict[int, Future[ModelSummary]] = {}
        with native_threads(limits=1), _UrgentFirst(2) as pool:

            def train_then_queue(i: int) -> TrainedModel:
                model = train(i)
                writes[i] = pool.submit(_WRITE, write, i, model)
                return model

            trains = {i: pool.submit(_TRAIN, train_then_queue, i) for i in order}
            refits = {
                i: [
                    pool.submit(_REFIT, bootstrap_refit, grid[i], matrix(i), plan, b)
                    for b in range(plan.runs)
                ]
                for i, plan in plans.items()
            }
            models = {i: future.result() for i, future in trains.items()}
            summaries = {i: future.result() for i, future in writes.items()}
            for i, plan in plans.items():
                if models[i].ok:
                    found = [future.result() for future in refits[i]]
                    labels = model_labels_at(result, models[i])
                    points.append(stability_point(grid[i], plan, found, labels))
    else:
        with native_threads(limits=threads):
            for i in range(len(grid)):
                models[i] = train(i)
                summaries[i] = write(i, models[i])
                points.append(model_stability(result, models[i]))
    result.models.extend(models[i] for i in range(len(grid)))
    progress((total - 1) / total, "Choosing k")
    choice = recommend_k(k_table(result, [p for p in points if p is not None]))
    return [summaries[i] for i in range(len(grid))], choice
