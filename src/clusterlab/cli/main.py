"""The `clusterlab` command: thin commands over the services."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from clusterlab.cli import dataset, flow, lab, models, project, serve
from clusterlab.cli.context import state
from clusterlab.cli.output import errors
from clusterlab.core.errors import ClusterLabError

app = typer.Typer(
    name="clusterlab",
    help="ClusterLab: segment your data with visual ML. Workspace: --home or CLUSTERLAB_HOME.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(project.app, name="project")
app.add_typer(dataset.app, name="dataset")
app.add_typer(flow.job_app, name="job")
app.add_typer(lab.app, name="lab")
app.add_typer(models.app, name="model")
app.command("build")(flow.build)
app.command("jobs")(flow.jobs)
app.command("serve")(serve.serve)


@app.callback()
def _root(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            envvar="CLUSTERLAB_HOME",
            help="Workspace directory (default ./clusterlab-data).",
        ),
    ] = None,
) -> None:
    state.home = home


@app.command()
def demo(
    key: Annotated[str, typer.Option(help="Project KEY of the tutorial.")] = "CLUSTERING",
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="Stop after the tutorial; do not serve the UI.")
    ] = False,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the UI.")] = 8000,
) -> None:
    """Run the tutorial: starter project, build, Lab, deploy, apply, join, split; then the UI."""
    from clusterlab.cli.demo import run_demo

    run_demo(key)
    if not no_serve:
        serve.serve(port=port)


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors print one line and exit 2, never a traceback."""
    # Typer reports usage errors itself (exit 2); only our own errors are caught here.
    try:
        app(args=argv, standalone_mode=True)
    except ClusterLabError as exc:
        errors.print(f"[bold red]Error:[/] {exc}", highlight=False, soft_wrap=True)
        return 2
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
