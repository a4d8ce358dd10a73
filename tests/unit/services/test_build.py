"""Building the Flow as jobs: order, smart skips, atomic outputs, failures, cancel."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pandas as pd
import pytest

import clusterlab as cl
from clusterlab.core.errors import AlreadyExistsError, InvalidInputError
from clusterlab.flow.dag import FlowCycleError
from clusterlab.services.jobs import JobFailedError, cancel_job, start_job, wait_job
from clusterlab.storage.runtime import JobStatus


def views() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "visitor_id": ["a", "a", "b", "c", "c", "c"],
            "page": ["/", "/blog/x", "/", "/products/y", "/", "/blog/z"],
            "n": [1, 2, 3, 4, 5, 6],
        }
    )


def group_recipe(name: str = "by_visitor", source: str = "copy") -> dict[str, object]:
    return {
        "name": name,
        "type": "group",
        "inputs": [source],
        "outputs": ["by_visitor"],
        "params": {
            "keys": ["visitor_id"],
            "aggregations": [{"column": "n", "aggregations": ["sum", "max"]}],
        },
    }


@pytest.fixture
def flow(project: cl.Project) -> cl.Project:
    project.create_dataset("views", views())
    project.create_recipe(
        {"name": "sync_views", "type": "sync", "inputs": ["views"], "outputs": ["copy"]}
    )
    project.create_recipe(group_recipe())
    return project


def test_build_all_runs_in_order(flow: cl.Project) -> None:
    job = flow.build_all()
    assert job.status is JobStatus.SUCCEEDED
    out = flow.dataset("by_visitor").to_pandas().sort_values("visitor_id")
    assert out.columns.tolist() == ["visitor_id", "count", "n_sum", "n_max"]
    assert out["count"].tolist() == [2, 1, 3]
    assert out["n_sum"].tolist() == [3, 3, 15]
    logs = [line.message for line in flow.workspace.runtime.logs(job.id)]
    assert any("sync_views: wrote 6 rows to copy" in m for m in logs)
    assert logs.index(next(m for m in logs if m.startswith("sync_views: running"))) < logs.index(
        next(m for m in logs if m.startswith("by_visitor: running"))
    )
    # The worker's own CPU time and peak memory come last: a Python process with DuckDB
    # needs tens of MiB.
    assert logs[-3].startswith("Done: ")
    assert float(logs[-2].removeprefix("CPU time: ").removesuffix(" s")) > 0
    peak = float(logs[-1].removeprefix("Peak memory: ").removesuffix(" MiB").replace(",", ""))
    assert 20 < peak < 4096


def test_smart_build_skips_unchanged_and_force_rebuilds(flow: cl.Project) -> None:
    flow.build("by_visitor")
    version = flow.dataset("by_visitor").versions.current()
    job = flow.build("by_visitor")
    logs = " ".join(line.message for line in flow.workspace.runtime.logs(job.id))
    assert "up to date, skipped" in logs
    assert flow.dataset("by_visitor").versions.current() == version
    flow.build("by_visitor", force=True)
    assert flow.dataset("by_visitor").versions.current() != version
    flow.create_dataset("views", views().head(3), overwrite=True)
    flow.build("by_visitor")
    assert flow.dataset("by_visitor").rows == 2


def test_build_without_upstream_needs_built_inputs(flow: cl.Project) -> None:
    with pytest.raises(JobFailedError, match="has no data yet"):
        flow.build("by_visitor", upstream=False)


def test_missing_column_fails_and_keeps_previous_version(flow: cl.Project) -> None:
    flow.build_all()
    before = flow.dataset("by_visitor").to_pandas()
    flow.create_dataset("views", views().drop(columns=["n"]), overwrite=True)
    with pytest.raises(JobFailedError, match="'n'"):
        flow.build_all()
    assert flow.dataset("by_visitor").to_pandas().equals(before)
    data_dir = flow.workspace.layout.dataset_data_dir(flow.key, "by_visitor")
    assert not [p for p in data_dir.iterdir() if p.name.startswith(".staging")]


def test_cycles_and_two_writers_are_refused(flow: cl.Project) -> None:
    with pytest.raises(FlowCycleError, match="cycle"):
        flow.create_recipe(
            {"name": "back", "type": "sync", "inputs": ["by_visitor"], "outputs": ["views"]}
        )
    with pytest.raises(InvalidInputError, match="written by two recipes"):
        flow.create_recipe(
            {"name": "again", "type": "sync", "inputs": ["views"], "outputs": ["copy"]}
        )
    with pytest.raises(AlreadyExistsError):
        flow.create_recipe(group_recipe())
    assert [r.name for r in flow.recipes_specs()] == ["by_visitor", "sync_views"]


def add_slow_group(project: cl.Project) -> None:
    """A group recipe over 4M rows: long enough to cancel or kill while it runs."""
    rows = 4_000_000
    project.create_dataset("big", pd.DataFrame({"k": range(rows), "v": range(rows)}))
    project.create_recipe(
        {
            "name": "slow",
            "type": "group",
            "inputs": ["big"],
            "outputs": ["grouped"],
            "params": {
                "keys": ["k"],
                "aggregations": [{"column": "v", "aggregations": ["median", "std"]}],
            },
        }
    )


def test_cancel_a_running_build(project: cl.Project, tmp_path: Path) -> None:
    add_slow_group(project)
    ws = project.workspace
    job = start_job(ws, "build", project.key, {"datasets": ["grouped"]})
    deadline = time.monotonic() + 30
    while ws.runtime.get_job(job.id).status is not JobStatus.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    cancel_job(ws, job.id)
    finished = wait_job(ws, job.id)
    assert finished.status is JobStatus.CANCELLED
    assert project.dataset("grouped").versions.current() is None


def test_killed_build_is_marked_failed_and_publishes_nothing(project: cl.Project) -> None:
    add_slow_group(project)
    ws = project.workspace
    job = start_job(ws, "build", project.key, {"datasets": ["grouped"]})
    deadline = time.monotonic() + 30
    while (pid := ws.runtime.get_job(job.id).pid) is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    os.kill(pid, signal.SIGKILL)
    finished = wait_job(ws, job.id)
    assert finished.status is JobStatus.FAILED
    assert "process died" in (finished.error or "")
    assert project.dataset("grouped").versions.current() is None


def test_unparsed_dates_and_unknown_ips_are_counted_in_the_log(project: cl.Project) -> None:
    frame = pd.DataFrame(
        {
            "ts": ["2024-03-01 10:00:00", "01/03/2024", "not a date", "2024-03-02 11:30:00"],
            "ip": ["81.56.12.3", "10.0.0.1", "999.1.1.1", ""],
        }
    )
    project.create_dataset("raw", frame)
    project.create_recipe(
        {
            "name": "prep",
            "type": "prepare",
            "inputs": ["raw"],
            "outputs": ["prepared"],
            "params": {
                "steps": [
                    {"type": "parse_date", "column": "ts", "formats": ["%Y-%m-%d %H:%M:%S"]},
                    {"type": "geoip", "column": "ip", "outputs": ["country"]},
                ]
            },
        }
    )
    job = project.build("prepared")
    logs = [line.message for line in project.workspace.runtime.logs(job.id)]
    assert (
        "prep: 2 cells of ts could not be parsed as dates and were left empty in ts_parsed" in logs
    )
    assert "prep: 2 addresses of ip are unknown to the GeoIP database (empty ip_country)" in logs
    out = project.dataset("prepared").to_pandas()
    assert out["ts_parsed"].isna().tolist() == [False, True, True, False]
    assert out["ip_country"].notna().tolist() == [True, False, False, False]


def test_recipe_reads_an_external_latin1_file(project: cl.Project, tmp_path: Path) -> None:
    source = tmp_path / "villes.csv"
    source.write_bytes("ville;habitants\nMontréal;1762949\nSão Paulo;11451245\n".encode("latin-1"))
    project.import_dataset("villes", source, external=True)
    project.create_recipe(
        {"name": "copy", "type": "sync", "inputs": ["villes"], "outputs": ["out"]}
    )
    project.build("out")
    assert project.dataset("out").to_pandas()["ville"].tolist() == ["Montréal", "São Paulo"]
    assert not list((project.workspace.home / ".staging").iterdir())
