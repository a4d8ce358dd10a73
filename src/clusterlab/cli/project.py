"""`clusterlab project …`: create, list, rename, delete, export and import projects, and
choose the engine their recipes run on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clusterlab.cli.context import state
from clusterlab.cli.output import console, print_json, print_table
from clusterlab.services.engine_choice import recipe_engines
from clusterlab.services.project import Project

app = typer.Typer(
    help="Create, list, rename, delete, export and import projects; choose their engine.",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@app.command("create")
def create(
    key: Annotated[str, typer.Argument(help="Project KEY: upper-case letters, digits and _.")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    starter: Annotated[
        str | None, typer.Option(help="Fill the project from a starter: 'weblogs'.")
    ] = None,
    rows: Annotated[
        int | None, typer.Option(help="Starter size: page views to generate (default 200,000+).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a project."""
    ws = state.workspace()
    project = ws.create_project(key, name=name, starter=starter, rows=rows)
    if as_json:
        print_json({"key": project.key, "name": project.name})
    else:
        console.print(f"Created project [bold]{project.key}[/] in {ws.home}")


@app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List projects."""
    projects = state.workspace().projects()
    rows = [(p.key, p.name, len(p.datasets()), p.spec.created_at) for p in projects]
    if as_json:
        print_json(
            [dict(zip(["key", "name", "datasets", "created_at"], r, strict=True)) for r in rows]
        )
    elif not rows:
        console.print("No projects yet: create one with `clusterlab project create KEY`.")
    else:
        print_table("Projects", ["KEY", "Name", "Datasets", "Created"], rows)


@app.command("rename")
def rename(key: str, name: str, as_json: JsonOpt = False) -> None:
    """Change a project's display name."""
    project = state.workspace().rename_project(key, name)
    if as_json:
        print_json({"key": project.key, "name": project.name})
    else:
        console.print(f"Project {project.key} is now named {project.name!r}")


@app.command("delete")
def delete(
    key: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a project and all its data."""
    ws = state.workspace()
    ws.project(key)
    if not yes:
        typer.confirm(f"Delete project {key} and all its data?", abort=True)
    ws.delete_project(key)
    console.print(f"Deleted project {key}")


@app.command("export")
def export(key: str, file: Path, as_json: JsonOpt = False) -> None:
    """Export a project (definitions and current data) to a zip file."""
    path = state.workspace().export_project(key, file)
    if as_json:
        print_json({"key": key, "path": str(path), "bytes": path.stat().st_size})
    else:
        console.print(f"Exported {key} to {path} ({path.stat().st_size:,} bytes)")


@app.command("import")
def import_(
    file: Path,
    key: Annotated[str | None, typer.Option(help="Import under this KEY instead.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a project zip made by `clusterlab project export`."""
    project = state.workspace().import_project(file, key=key)
    if as_json:
        print_json({"key": project.key, "name": project.name})
    else:
        console.print(
            f"Imported project [bold]{project.key}[/] with {len(project.datasets())} datasets"
        )


# For --recipe: the recipe follows its project's engine again.
PROJECT_ENGINE = "project"


@app.command("set-engine")
def set_engine(
    key: str,
    engine: Annotated[
        str,
        typer.Argument(
            help="local or spark; with --recipe also 'project' (follow the project's engine)."
        ),
    ],
    recipe: Annotated[
        str | None, typer.Option(help="Set this recipe's engine instead of the project's.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Choose the engine a project's recipes (or one recipe) run on in builds."""
    project = state.workspace().project(key)
    if recipe is not None:
        spec = project.set_recipe_engine(recipe, None if engine == PROJECT_ENGINE else engine)
        if as_json:
            print_json({"key": key, "recipe": spec.name, "engine": spec.engine})
        else:
            shown = spec.engine or f"the project's ({project.engine})"
            console.print(f"Recipe {spec.name} runs on {shown}")
        return
    project.set_engine(engine)
    if as_json:
        print_json({"key": key, "engine": project.engine})
        return
    console.print(f"Project {key} runs its recipes on {project.engine} unless they name one")
    _print_engines(project)


@app.command("engines")
def engines(key: str, as_json: JsonOpt = False) -> None:
    """Where each recipe runs in a build without --engine, and what stops it there."""
    project = state.workspace().project(key)
    if as_json:
        print_json(
            {
                "engine": project.engine,
                "recipes": [
                    {
                        "name": r.recipe.name,
                        "engine": r.choice.engine,
                        "own_engine": r.recipe.engine,
                        "problems": r.problems,
                    }
                    for r in recipe_engines(project)
                ],
            }
        )
        return
    console.print(f"Project {key}: engine {project.engine}")
    _print_engines(project)


def _print_engines(project: Project) -> None:
    rows = [
        (r.recipe.name, r.recipe.type, r.choice.describe(), "; ".join(r.problems) or "-")
        for r in recipe_engines(project)
    ]
    if rows:
        print_table("Recipes", ["Recipe", "Type", "Runs on", "Cannot run because"], rows)
