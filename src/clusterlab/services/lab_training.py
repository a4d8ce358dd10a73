"""Train a Lab session's models and write each one as soon as it is trained.

Once the rows are preprocessed (`prepare_session`), each model of the grid is three
pieces of work: training it, writing it (artifact, summary panels, labels) and
measuring its stability (bootstrap refits for choosing k). The last two need only
that model, so on many rows the three run in one pool of two threads, one native
thread each: a model is written and measured while the next trains, and both cores
stay busy to the end. Before, the writes and the refits waited for the last model,
and then shared the cores unevenly (one writer beside the refits).

On fewer rows, or with algorithms that do not train two at a time, the same pieces
run one after the other.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from clusterlab.core.lab import ModelSummary
from clusterlab.ml.stability import (
    KRecommendation,
    StabilityPoint,
    k_table,
    model_stability,
    recommend_k,
)
from clusterlab.ml.threads import native_threads
from clusterlab.ml.training import (
    SessionResult,
    TrainedModel,
    largest_k_first,
    session_threads,
    train_model,
    trains_two_at_a_time,
    two_model_threads,
)
from clusterlab.services.model_store import ModelStore


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
        writes: dict[int, Future[ModelSummary]] = {}
        measures: list[Future[StabilityPoint | None]] = []
        with two_model_threads() as pool:

            def train_then_queue(i: int) -> TrainedModel:
                model = train(i)
                # Queued behind the models still waiting to train.
                writes[i] = pool.submit(write, i, model)
                measures.append(pool.submit(model_stability, result, model))
                return model

            trains = {i: pool.submit(train_then_queue, i) for i in largest_k_first(grid)}
            models = {i: future.result() for i, future in trains.items()}
            summaries = {i: future.result() for i, future in writes.items()}
            points = [future.result() for future in measures]
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
