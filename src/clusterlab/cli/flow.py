"""`clusterlab build`, `clusterlab jobs` and `clusterlab job …`: run the Flow and follow jobs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from clusterlab.cli.context import state
from clusterlab.cli.output import bar_on_stderr, console, print_json, print_table
from clusterlab.core.errors import InvalidInputError
from clusterlab.services.jobs import cancel_job
from clusterlab.storage.runtime import Job

job_app = typer.Typer(help="Follow and control one job.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@contextmanager
def job_progress(enabled: bool) -> Iterator[Callable[[Job], None] | None]:
    """A progress bar fed by job updates (progress fraction and text)."""
    if not enabled:
        yield None
        return
    with bar_on_stderr() as bar:
        task = bar.add_task("Starting", total=1.0)
        yield lambda job: bar.update(
            task, completed=job.progress, description=job.progress_text or job.status.value
        )


def build(
    project: str,
    datasets: Annotated[list[str] | None, typer.Argument(help="Datasets to build.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Build every dataset of the Flow.")] = False,
    force: Annotated[bool, typer.Option(help="Rebuild even if nothing changed.")] = False,
    no_upstream: Annotated[
        bool, typer.Option("--no-upstream", help="Build only these datasets, not their inputs.")
    ] = False,
    engine: Annotated[
        str | None,
        typer.Option(
            help="Run every recipe on local (DuckDB) or spark (CLUSTERLAB_SPARK_*); "
            "by default each runs on its own engine, else the project's."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build datasets of the Flow (with what they depend on) as a job."""
    p = state.workspace().project(project)
    if not all_ and not datasets:
        raise InvalidInputError(
            "Name the datasets to build, or pass --all to build the whole Flow."
        )
    with job_progress(not as_json) as on_update:
        if all_:
            job = p.build_all(force=force, engine=engine, on_update=on_update)
        else:
            job = p.build(
                *(datasets or []),
                force=force,
                upstream=not no_upstream,
                engine=engine,
                on_update=on_update,
            )
    lines = [line.message for line in p.workspace.runtime.logs(job.id)]
    if as_json:
        print_json({"job": job.id, "status": job.status.value, "log": lines})
        return
    for line in lines:
        console.print(f"  {line}", highlight=False)
    console.print(f"Build [bold]{job.id}[/] {job.status.value}")


def jobs(project: str, limit: int = 20, as_json: JsonOpt = False) -> None:
    """List a project's jobs, newest first."""
    ws = state.workspace()
    ws.project(project)
    ws.runtime.fail_dead_jobs()
    found = ws.runtime.list_jobs(project=project, limit=limit)
    rows = [
        (j.id, j.kind, j.status.value, f"{j.progress:.0%}", j.created_at, j.error or "")
        for j in found
    ]
    if as_json:
        keys = ["id", "kind", "status", "progress", "created_at", "error"]
        print_json([dict(zip(keys, r, strict=True)) for r in rows])
    elif not rows:
        console.print(f"No jobs in {project} yet: `clusterlab build {project} --all`.")
    else:
        print_table(
            f"Jobs of {project}", ["Id", "Kind", "Status", "Progress", "Created", "Error"], rows
        )


@job_app.command("log")
def job_log(job_id: str, as_json: JsonOpt = False) -> None:
    """Print a job's status and log lines."""
    ws = state.workspace()
    job = ws.runtime.get_job(job_id)
    lines = ws.runtime.logs(job_id)
    if as_json:
        print_json(
            {
                "job": job.id,
                "status": job.status.value,
                "error": job.error,
                "log": [
                    {"at": line.at, "level": line.level, "message": line.message} for line in lines
                ],
            }
        )
        return
    console.print(f"Job {job.id} ({job.kind}, {job.project}): {job.status.value}")
    for line in lines:
        console.print(f"{line.at:%H:%M:%S} {line.level:<7} {line.message}", highlight=False)


@job_app.command("cancel")
def job_cancel(job_id: str) -> None:
    """Cancel a queued or running job; its unpublished outputs are discarded."""
    job = cancel_job(state.workspace(), job_id)
    console.print(
        f"Job {job.id}: {job.status.value}{' (stopping)' if job.cancel_requested else ''}"
    )
