"""`clusterlab lab …`: AutoML clustering tasks, training, models, reports, cluster names."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pandas as pd
import typer

from clusterlab.cli.context import state
from clusterlab.cli.flow import job_progress
from clusterlab.cli.output import console, print_json, print_table
from clusterlab.core.errors import InvalidInputError
from clusterlab.services.lab import ClusteringTask, Model

app = typer.Typer(help="The Lab: AutoML clustering tasks and their models.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
EngineOpt = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="local (scikit-learn) or spark (pyspark.ml); default: the project's engine.",
    ),
]


def _task(project: str, task_id: str) -> ClusteringTask:
    return state.workspace().project(project).clustering_task(task_id)


def _model(project: str, task_id: str, model_id: str, session: int | None) -> Model:
    sessions = _task(project, task_id).sessions()
    if not sessions:
        raise InvalidInputError(f"Task {task_id} has no session yet: `clusterlab lab train`.")
    chosen = sessions[-1] if session is None else sessions[session - 1]
    for model in chosen.models:
        if model.id == model_id:
            return model
    known = ", ".join(m.id for m in chosen.models)
    raise InvalidInputError(f"No model {model_id!r} in session {chosen.summary.number} ({known}).")


@app.command("create")
def create(
    project: str,
    dataset: str,
    preset: Annotated[str, typer.Option(help="kmeans (k = 3, 5, 7) or anomaly.")] = "kmeans",
    engine: EngineOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an AutoML clustering task on a dataset (design guessed from its statistics)."""
    task = state.workspace().project(project).create_clustering_task(dataset, preset, engine)
    if as_json:
        print_json({"task": task.id, "dataset": dataset, "engine": task.engine})
    else:
        console.print(f"Created task [bold]{task.id}[/] on {dataset} ({task.engine} engine)")


@app.command("design")
def design(
    project: str,
    task_id: str,
    reject: Annotated[list[str] | None, typer.Option(help="Reject this column.")] = None,
    use: Annotated[list[str] | None, typer.Option(help="Use this column as input.")] = None,
    algorithm: Annotated[str | None, typer.Option(help="Enable this algorithm.")] = None,
    params: Annotated[
        str | None, typer.Option(help='Its params as JSON, e.g. {"k": [3, 5]}.')
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the task's design, or change features and algorithms."""
    task = _task(project, task_id)
    if params and not algorithm:
        raise InvalidInputError(
            "--params sets an algorithm's parameters: name it with --algorithm."
        )
    for column in reject or []:
        task.reject_feature(column)
    for column in use or []:
        task.use_feature(column)
    if algorithm:
        try:
            values = json.loads(params or "{}")
        except ValueError as exc:
            raise InvalidInputError(f"--params is not valid JSON: {exc}") from None
        task.set_algorithm(algorithm, **values)
    if as_json:
        print_json(task.design.model_dump(mode="json"))
        return
    print_table(
        f"Features of task {task.id}",
        ["Column", "Role", "Type", "Reason"],
        [(f.name, f.role.value, f.type.value, f.reject_reason or "") for f in task.design.features],
    )
    console.print("Models: " + ", ".join(p.label for p in task.design.grid()))


@app.command("train")
def train(
    project: str,
    task_id: str,
    engine: Annotated[
        str | None,
        typer.Option(
            "--engine",
            help="Switch the task to this engine (local or spark) for this and later "
            "sessions; refused while its design uses what that engine cannot train.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Train a session (one model per algorithm and parameter value) as a job."""
    task = _task(project, task_id)
    if engine is not None:
        task.set_engine(engine)
    with job_progress(not as_json) as on_update:
        session = task.train(on_update=on_update)
    if as_json:
        print_json({"session": session.summary.number, "models": [m.id for m in session.models]})
    else:
        _print_models(_records(session.results()), session.summary.number)


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The results table's rows, with None where a model has no value (a failed model's
    metrics, a trained model's error): the frame holds NaN there, which printed as
    "nan" in tables and as NaN, which is not JSON, with --json."""
    records: list[dict[str, Any]] = (
        table.astype(object).where(table.notna(), None).to_dict("records")
    )
    return records


def _print_models(rows: list[dict[str, object]], number: int) -> None:
    def fmt(v: object) -> str:
        return "" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)

    print_table(
        f"Session {number}",
        ["Model", "Algorithm", "Silhouette", "Inertia", "Davies-Bouldin", "Clusters", "Error"],
        [
            [
                fmt(r.get(k))
                for k in (
                    "model",
                    "label",
                    "silhouette",
                    "inertia",
                    "davies_bouldin",
                    "n_clusters",
                    "error",
                )
            ]
            for r in rows
        ],
    )


@app.command("models")
def models(
    project: str,
    task_id: str,
    sort: Annotated[str, typer.Option(help="Sort by this metric.")] = "silhouette",
    as_json: JsonOpt = False,
) -> None:
    """The latest session's results table, sorted by a metric."""
    sessions = _task(project, task_id).sessions()
    if not sessions:
        raise InvalidInputError(f"Task {task_id} has no session yet: `clusterlab lab train`.")
    table = sessions[-1].results()
    if sort in table.columns:
        table = table.sort_values(
            sort, ascending=sort in {"inertia", "davies_bouldin", "bic", "aic"}
        )
    if as_json:
        print_json(_records(table))
    else:
        _print_models(_records(table), sessions[-1].summary.number)


@app.command("report")
def report(
    project: str,
    task_id: str,
    model_id: str,
    session: Annotated[int | None, typer.Option(help="Session number (default: latest).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """A model's clusters and their top observations."""
    model = _model(project, task_id, model_id, session)
    observations = model.report.observations()
    if as_json:
        print_json({"metrics": model.metrics, "observations": observations.to_dict("records")})
        return
    console.print(f"{model.summary.label}: silhouette {model.metrics.get('silhouette')}")
    print_table(
        None,
        ["Cluster", "Size", "Observation"],
        [
            (r["cluster"], f"{r['size']:,} ({r['share']:.2%})", r["sentence"])
            for r in observations.to_dict("records")
        ],
    )


@app.command("rename")
def rename(
    project: str,
    task_id: str,
    model_id: str,
    old: str,
    new: str,
    session: Annotated[int | None, typer.Option(help="Session number (default: latest).")] = None,
) -> None:
    """Rename a cluster of a model."""
    _model(project, task_id, model_id, session).rename_cluster(old, new)
    console.print(f"Renamed {old!r} to {new!r}")


@app.command("deploy")
def deploy(
    project: str,
    task_id: str,
    model_id: str,
    saved_model: Annotated[str, typer.Argument(help="Id of the saved model in the Flow.")],
    name: Annotated[str | None, typer.Option(help="Display name of a new saved model.")] = None,
    update: Annotated[
        bool, typer.Option("--update", help="Add as the active version of an existing one.")
    ] = False,
    session: Annotated[int | None, typer.Option(help="Session number (default: latest).")] = None,
) -> None:
    """Deploy a model to the Flow as a saved model with its train recipe."""
    saved = _model(project, task_id, model_id, session).deploy(
        saved_model, name=name, update=update
    )
    console.print(
        f"Deployed to saved model [bold]{saved.id}[/] (active version {saved.active.id}); "
        f"train recipe {saved.train_recipe}"
    )
