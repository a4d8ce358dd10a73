"""A Lab session writes and measures each model while the next ones train."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clusterlab.core.mltask import FeatureHandling, KMeansSpec, TaskDesign
from clusterlab.ml.stability import choose_k
from clusterlab.ml.training import (
    prepare_session,
    session_threads,
    train_session,
    trains_two_at_a_time,
)
from clusterlab.services.lab_training import _UrgentFirst, train_and_write
from clusterlab.services.model_store import ModelStore, read_report


def _rows(n_per_blob: int) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    centres = [(0.0, 0.0), (6.0, 1.0), (2.0, 7.0)]
    return pd.concat(
        [
            pd.DataFrame(
                {"x": rng.normal(cx, 2.0, n_per_blob), "y": rng.normal(cy, 2.0, n_per_blob)}
            )
            for cx, cy in centres
        ],
        ignore_index=True,
    )


def _design() -> TaskDesign:
    return TaskDesign(
        features=(FeatureHandling(name="x"), FeatureHandling(name="y")),
        algorithms=(KMeansSpec(k=(2, 3, 4), seed=0),),
    )


def _write_after(frame: pd.DataFrame, design: TaskDesign, folder: Path):
    """The same session trained one model at a time, then written, then k chosen."""
    reference = train_session(frame, design, threads=1)
    store = ModelStore(reference, lambda _m: None, defer_panels=True)
    summaries = [store.write(m, folder / f"m{i}") for i, m in enumerate(reference.models)]
    return summaries, choose_k(reference)


def _compare(pipelined: Path, after: Path, summaries, expected) -> None:
    for i, (got, want) in enumerate(zip(summaries, expected, strict=True)):
        assert got.label == want.label
        assert got.error is None
        assert got.metrics == want.metrics
        ours, theirs = read_report(pipelined / f"m{i}"), read_report(after / f"m{i}")
        for panel in ("clusters", "observations", "heatmap", "detailed_metrics"):
            assert getattr(ours, panel) == getattr(theirs, panel), panel


def test_models_written_while_the_next_train_equal_those_written_after(tmp_path) -> None:
    # 60,000 rows: K-means models train two at a time, and are written meanwhile.
    frame, design = _rows(20_000), _design()
    prepared = prepare_session(frame, design)
    assert trains_two_at_a_time(prepared, session_threads(prepared))
    seen: list[tuple[float, str]] = []
    summaries, choice = train_and_write(
        prepared, tmp_path / "pipelined", lambda f, m: seen.append((f, m)), lambda _m: None
    )
    expected, expected_choice = _write_after(frame, design, tmp_path / "after")
    _compare(tmp_path / "pipelined", tmp_path / "after", summaries, expected)
    assert choice == expected_choice
    assert [m.params.k for m in prepared.models] == [2, 3, 4]
    messages = {m for _, m in seen}
    assert {"Trained K-means (k=4)", "Wrote K-means (k=4)", "Choosing k"} <= messages
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions)  # two threads report, yet the bar never moves back
    assert all(0.0 <= f < 1.0 for f in fractions)


def test_few_rows_train_write_and_measure_one_model_after_the_other(tmp_path) -> None:
    frame, design = _rows(300), _design()
    prepared = prepare_session(frame, design)
    assert not trains_two_at_a_time(prepared, session_threads(prepared))
    summaries, choice = train_and_write(
        prepared, tmp_path / "pipelined", lambda _f, _m: None, lambda _m: None
    )
    expected, expected_choice = _write_after(frame, design, tmp_path / "after")
    _compare(tmp_path / "pipelined", tmp_path / "after", summaries, expected)
    assert choice == expected_choice


def test_the_pool_runs_the_most_urgent_waiting_task_first_and_cancels_after_an_error():
    ran: list[str] = []
    release = threading.Event()
    with _UrgentFirst(1) as pool:
        busy = pool.submit(0, release.wait)  # holds the only thread while the rest queue
        later = [pool.submit(u, ran.append, name) for u, name in ((2, "c"), (1, "b"), (0, "a"))]
        same = pool.submit(1, ran.append, "b2")  # after "b": submitted later
        release.set()
        for future in [busy, *later, same]:
            future.result()
    assert ran == ["a", "b", "b2", "c"]
    release.clear()
    futures = {}

    def stop_midway() -> None:
        with _UrgentFirst(1) as pool:
            pool.submit(0, release.wait)
            futures["waiting"] = pool.submit(1, ran.append, "never")
            futures["failing"] = pool.submit(0, lambda: 1 / 0)
            threading.Timer(0.2, release.set).start()  # after the error below
            raise RuntimeError("the caller stops")

    with pytest.raises(RuntimeError):
        stop_midway()
    assert futures["waiting"].cancelled()
    assert futures["failing"].cancelled()
    assert "never" not in ran
    with _UrgentFirst(1) as pool:
        failed = pool.submit(0, lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failed.result()
