"""`clusterlab model …`: saved models of the Flow, their versions and apply recipes."""

from __future__ import annotations

from typing import Annotated

import typer

from clusterlab.cli.context import state
from clusterlab.cli.flow import job_progress
from clusterlab.cli.output import console, print_json, print_table
from clusterlab.services.saved_models import SavedModel

app = typer.Typer(
    help="Saved models: versions, activation, retraining, apply.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _saved(project: str, model: str) -> SavedModel:
    return state.workspace().project(project).saved_model(model)


@app.command("list")
def list_models(project: str, as_json: JsonOpt = False) -> None:
    """The project's saved models and their active versions."""
    models = state.workspace().project(project).saved_models()
    rows = [
        {"id": m.id, "name": m.name, "active": m.spec.active, "versions": len(m.versions)}
        for m in models
    ]
    if as_json:
        print_json(rows)
        return
    print_table(
        f"Saved models of {project}",
        ["Id", "Name", "Active", "Versions"],
        [(r["id"], r["name"], r["active"] or "", r["versions"]) for r in rows],
    )


@app.command("versions")
def versions(project: str, model: str, as_json: JsonOpt = False) -> None:
    """A saved model's versions, with their source, metrics and changes."""
    saved = _saved(project, model)
    infos = [v.info for v in saved.versions]
    if as_json:
        print_json(
            [{**i.model_dump(mode="json"), "active": i.id == saved.spec.active} for i in infos]
        )
        return
    print_table(
        f"Versions of {saved.id} ({saved.name})",
        ["Version", "Active", "Source", "Model", "Silhouette", "Rows", "Changes"],
        [
            (
                i.id,
                "✓" if i.id == saved.spec.active else "",
                i.source,
                i.label + (" (approximate scoring)" if i.approximate else ""),
                f"{i.metrics.get('silhouette', float('nan')):.3f}",
                f"{i.rows:,}",
                " ".join(i.changes),
            )
            for i in infos
        ],
    )


@app.command("activate")
def activate(project: str, model: str, version: str) -> None:
    """Make a version the one apply recipes score with."""
    _saved(project, model).activate(version)
    console.print(f"{model}: version {version} is active")


@app.command("rollback")
def rollback(project: str, model: str) -> None:
    """Activate the version before the active one."""
    saved = _saved(project, model).rollback()
    console.print(f"{saved.id}: version {saved.active.id} is active")


@app.command("retrain")
def retrain(project: str, model: str) -> None:
    """Run the train recipe on the current data: a new active version, names kept."""
    with job_progress(True) as on_update:
        version = _saved(project, model).retrain(on_update=on_update)
    console.print(f"{model}: version {version.id} is active")
    for change in version.info.changes:
        console.print(f"  {change}", highlight=False)


@app.command("apply")
def apply(
    project: str,
    dataset: str,
    model: str,
    output: str,
    build: Annotated[bool, typer.Option(help="Build the output right away.")] = True,
) -> None:
    """Create an apply recipe: DATASET scored by MODEL into OUTPUT (+ cluster_labels)."""
    p = state.workspace().project(project)
    recipe = p.create_apply_recipe(dataset, model, output)
    console.print(f"Created apply recipe [bold]{recipe.name}[/]")
    if build:
        with job_progress(True) as on_update:
            p.build(output, on_update=on_update)
        console.print(f"Built {output}: {p.dataset(output).rows:,} rows with cluster_labels")
