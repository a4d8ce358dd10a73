"""Datasets: definition and schema, pages of rows, column statistics, charts, upload."""

from __future__ import annotations

import json
import shutil
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import FileResponse
from pydantic import BaseModel, ValidationError
from starlette.background import BackgroundTask

from clusterlab.core.errors import AlreadyExistsError, InvalidInputError
from clusterlab.core.explore import RowFilter, RowQuery, SortKey
from clusterlab.web import deps
from clusterlab.web.charts import CHART_KINDS, dataset_chart
from clusterlab.web.serialize import dataset_json, plain
from clusterlab.web.uploads import saved_upload

router = APIRouter(tags=["datasets"])


class MeaningChange(BaseModel):
    """The meaning to give a column (overrides the detected one)."""

    meaning: str


def parse_filters(raw: str | None) -> tuple[RowFilter, ...]:
    """Filters from the ``filters`` query parameter: a JSON list of {column, op, value}."""
    if not raw:
        return ()
    try:
        items = json.loads(raw)
        if not isinstance(items, list):
            raise ValueError("not a list")
        return tuple(RowFilter.model_validate(item) for item in items)
    except (ValueError, ValidationError) as exc:
        raise InvalidInputError(
            "filters must be a JSON list such as "
            '[{"column": "country", "op": "eq", "value": "France"}] '
            f"(ops: eq, ne, lt, le, gt, ge, contains, is_empty, not_empty): {exc}"
        ) from None


@router.get("/projects/{key}/datasets")
def list_datasets(request: Request, key: str) -> list[dict[str, Any]]:
    """The project's datasets, by name."""
    return [dataset_json(d) for d in deps.project(request, key).datasets()]


@router.get("/projects/{key}/datasets/{name}")
def get_dataset(request: Request, key: str, name: str) -> dict[str, Any]:
    """A dataset: definition, and when it has data its row count and schema."""
    dataset = deps.project(request, key).dataset(name)
    info = dataset_json(dataset)
    if info["has_data"]:
        info["rows"] = dataset.rows
        info["schema"] = [c.model_dump(mode="json") for c in dataset.schema.columns]
    return info


@router.get("/projects/{key}/datasets/{name}/rows")
def get_rows(
    request: Request,
    key: str,
    name: str,
    offset: int = Query(0, ge=0),
    limit: int = Query(50, ge=1, le=1000),
    sort: str | None = Query(None, description="Column to sort on."),
    descending: bool = False,
    filters: str | None = Query(None, description="JSON list of {column, op, value}."),
) -> dict[str, Any]:
    """One page of rows after filters and sort, and how many rows match."""
    dataset = deps.project(request, key).dataset(name)
    query = RowQuery(
        offset=offset,
        limit=limit,
        sort=(SortKey(column=sort, ascending=not descending),) if sort else (),
        filters=parse_filters(filters),
    )
    table, total = dataset.page(query)
    columns = table.column_names
    rows = [[plain(v) for v in row.values()] for row in table.to_pylist()]
    return {"columns": columns, "rows": rows, "total": total, "offset": offset, "limit": limit}


@router.get("/projects/{key}/datasets/{name}/stats")
def get_stats(request: Request, key: str, name: str) -> dict[str, Any]:
    """Per-column statistics: type, meaning, missing share, top values, histogram."""
    stats = deps.project(request, key).dataset(name).stats()
    data: dict[str, Any] = plain(stats.model_dump(mode="json"))
    for column, col in zip(data["columns"], stats.columns, strict=True):
        column["missing_share"] = col.missing_share
    return data


@router.put("/projects/{key}/datasets/{name}/schema/{column}")
def set_meaning(
    request: Request, key: str, name: str, column: str, body: MeaningChange
) -> dict[str, Any]:
    """Override the meaning of a column (schema editor)."""
    dataset = deps.project(request, key).dataset(name).set_meaning(column, body.meaning)
    return dataset.schema.column(column).model_dump(mode="json")


@router.get("/projects/{key}/datasets/{name}/chart")
def get_chart(
    request: Request,
    key: str,
    name: str,
    kind: str = Query("histogram", description=f"One of {', '.join(CHART_KINDS)}."),
    x: str = Query(..., description="Column on the x axis."),
    y: str | None = Query(None, description="Column on the y axis (scatter)."),
) -> dict[str, Any]:
    """A Plotly figure (JSON) of one or two columns, drawn from a sample of rows."""
    dataset = deps.project(request, key).dataset(name)
    figure: dict[str, Any] = json.loads(dataset_chart(dataset, kind, x, y).to_json())
    return figure


@router.post("/projects/{key}/datasets", status_code=201)
def upload_dataset(
    request: Request,
    key: str,
    file: Annotated[
        UploadFile, File(description="CSV/TSV (gzip ok), Parquet, JSON lines or Excel.")
    ],
    name: Annotated[str, Form(description="Name of the new dataset.")],
    overwrite: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    """Upload a file and import it as a managed dataset (format detected)."""
    ws = deps.workspace(request)
    project = deps.project(request, key)
    # Refuse a taken (or invalid) name before reading a possibly large upload.
    if project.has_dataset(name) and not overwrite:
        raise AlreadyExistsError(
            f"Dataset {name!r} already exists in project {key}: choose another name or tick "
            "'overwrite'."
        )
    with saved_upload(ws, file, ws.settings.max_upload_bytes) as path:
        dataset = project.import_dataset(name, path, overwrite=overwrite)
    return dataset_json(dataset)


@router.get("/projects/{key}/datasets/{name}/export", response_class=FileResponse)
def export_dataset(
    request: Request, key: str, name: str, format: str = Query("csv", pattern="^(csv|parquet)$")
) -> FileResponse:
    """Download the dataset as CSV or Parquet."""
    ws = deps.workspace(request)
    dataset = deps.project(request, key).dataset(name)
    folder = ws.scratch_dir()
    try:
        path = dataset.export(folder / f"{name}.{format}", format)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        path,
        filename=path.name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )
