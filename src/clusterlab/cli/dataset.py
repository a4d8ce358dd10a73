"""`clusterlab dataset …`: import, list, show, stats and export datasets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clusterlab.cli.context import state
from clusterlab.cli.output import console, errors, print_json, print_table, progress_bar
from clusterlab.core.errors import InvalidInputError
from clusterlab.core.explore import RowQuery

app = typer.Typer(help="Import, list, show, describe and export datasets.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@app.command("import")
def import_(
    project: str,
    name: str,
    file: Path,
    format: Annotated[str | None, typer.Option(help="csv, parquet, jsonl or xlsx.")] = None,
    delimiter: Annotated[str | None, typer.Option(help="Field delimiter (detected).")] = None,
    encoding: Annotated[str | None, typer.Option(help="Text encoding (detected).")] = None,
    header: Annotated[
        bool | None, typer.Option("--header/--no-header", help="First row is a header (detected).")
    ] = None,
    external: Annotated[
        bool, typer.Option(help="Read the file in place instead of copying it.")
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing dataset.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import a CSV/TSV (.gz too), Parquet, JSON lines or Excel file as a dataset."""
    p = state.workspace().project(project)
    with progress_bar(f"Importing {file.name}", enabled=not as_json) as progress:
        ds = p.import_dataset(
            name,
            file,
            format=format,
            delimiter=delimiter,
            encoding=encoding,
            header=header,
            external=external,
            overwrite=overwrite,
            progress=progress,
        )
    rows = ds.rows
    if as_json:
        print_json(
            {
                "name": ds.name,
                "rows": rows,
                "columns": len(ds.schema),
                "warnings": list(ds.spec.import_warnings),
            }
        )
        return
    for warning in ds.spec.import_warnings:
        errors.print(f"[yellow]Warning:[/] {warning}", highlight=False)
    console.print(f"Imported [bold]{ds.name}[/]: {rows:,} rows, {len(ds.schema)} columns")


@app.command("list")
def list_(project: str, as_json: JsonOpt = False) -> None:
    """List a project's datasets."""
    datasets = state.workspace().project(project).datasets()
    rows = [
        (d.name, d.spec.kind.value, d.rows, len(d.schema))
        if d.has_data()
        else (d.name, d.spec.kind.value, None, None)
        for d in datasets
    ]
    if as_json:
        print_json([dict(zip(["name", "kind", "rows", "columns"], r, strict=True)) for r in rows])
    elif not rows:
        console.print(
            f"No datasets in {project} yet: `clusterlab dataset import {project} NAME FILE`."
        )
    else:
        print_table(f"Datasets of {project}", ["Name", "Kind", "Rows", "Columns"], rows)


@app.command("show")
def show(
    project: str,
    name: str,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 10,
    offset: Annotated[int, typer.Option(help="Rows to skip.")] = 0,
    sort: Annotated[
        str | None, typer.Option(help="Sort by this column (prefix - for descending).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a dataset's schema and a page of rows."""
    ds = state.workspace().project(project).dataset(name)
    keys = []
    if sort:
        keys.append({"column": sort.lstrip("-"), "ascending": not sort.startswith("-")})
    if limit < 0 or offset < 0:
        raise InvalidInputError("--limit and --offset must be 0 or more.")
    table, total = ds.page(
        RowQuery.model_validate({"offset": offset, "limit": min(limit, 10_000), "sort": keys})
    )
    schema = ds.schema
    if as_json:
        print_json(
            {
                "name": ds.name,
                "rows": total,
                "schema": [c.model_dump() for c in schema.columns],
                "data": table.to_pylist(),
            }
        )
        return
    print_table(
        f"{project}.{name}: {total:,} rows",
        ["Column", "Type", "Meaning"],
        [(c.name, c.type.value, c.meaning.value) for c in schema.columns],
    )
    print_table(None, table.column_names, [list(r.values()) for r in table.to_pylist()])


@app.command("stats")
def stats(project: str, name: str, as_json: JsonOpt = False) -> None:
    """Per-column statistics: missing, distinct, min, max, mean, std, top values."""
    result = state.workspace().project(project).dataset(name).stats()
    if as_json:
        print_json(result.model_dump())
        return
    rows = [
        (
            c.name,
            c.type,
            c.meaning,
            f"{c.missing_share:.1%}",
            c.distinct,
            c.min,
            c.max,
            "" if c.mean is None else f"{c.mean:.4g}",
            "" if c.std is None else f"{c.std:.4g}",
            ", ".join(str(t.value) for t in c.top_values[:3]),
        )
        for c in result.columns
    ]
    print_table(
        f"{project}.{name}: {result.rows:,} rows",
        [
            "Column",
            "Type",
            "Meaning",
            "Missing",
            "Distinct",
            "Min",
            "Max",
            "Mean",
            "Std",
            "Top values",
        ],
        rows,
    )


@app.command("export")
def export(
    project: str,
    name: str,
    file: Path,
    format: Annotated[str | None, typer.Option(help="csv or parquet (from the file name).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Export a dataset to CSV (formula-safe) or Parquet."""
    path = state.workspace().project(project).dataset(name).export(file, format=format)
    if as_json:
        print_json({"path": str(path), "bytes": path.stat().st_size})
    else:
        console.print(f"Exported {project}.{name} to {path}")


@app.command("set-meaning")
def set_meaning(project: str, name: str, column: str, meaning: str) -> None:
    """Override the detected meaning of a column (e.g. text, country, ip_address)."""
    ds = state.workspace().project(project).dataset(name)
    ds.set_meaning(column, meaning)
    console.print(f"{project}.{name}.{column} now has meaning {meaning}")


@app.command("delete")
def delete(
    project: str,
    name: str,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a dataset and its data."""
    p = state.workspace().project(project)
    p.dataset(name)
    if not yes:
        typer.confirm(f"Delete dataset {project}.{name} and its data?", abort=True)
    p.delete_dataset(name)
    console.print(f"Deleted dataset {project}.{name}")
