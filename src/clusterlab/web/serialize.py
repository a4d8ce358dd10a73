"""Entities as JSON-ready dicts, shared by the API responses and the page scripts."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from clusterlab.services.dataset import Dataset
from clusterlab.services.project import Project
from clusterlab.storage.runtime import Job, LogLine

if TYPE_CHECKING:
    from clusterlab.services.lab import ClusteringTask, Model, Session
    from clusterlab.services.saved_models import SavedModel, SavedModelVersion


def plain(value: Any) -> Any:
    """A cell value JSON can carry: dates as ISO text, NaN as null, bytes as text.

    Examples
    --------
    >>> plain(float("nan")) is None, plain(Decimal("1.5"))
    (True, 1.5)
    """
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return str(value)


def project_json(project: Project) -> dict[str, Any]:
    """A project: KEY, name, description, engine, creation time."""
    spec = project.spec
    return {
        "key": spec.key,
        "name": spec.name,
        "description": spec.description,
        "engine": spec.engine,
        "created_at": spec.created_at.isoformat(),
    }


def dataset_json(dataset: Dataset) -> dict[str, Any]:
    """A dataset's definition and whether it has data (the schema needs a read)."""
    spec = dataset.spec
    return {
        "name": spec.name,
        "kind": spec.kind.value,
        "format": spec.format.value if spec.format else None,
        "has_data": dataset.has_data(),
        "description": spec.description,
        "import_warnings": list(spec.import_warnings),
        "created_at": spec.created_at.isoformat(),
    }


def job_json(job: Job) -> dict[str, Any]:
    """A job as last recorded: status, progress, times and error."""
    return {
        "id": job.id,
        "kind": job.kind,
        "project": job.project,
        "target": job.target,
        "status": job.status.value,
        "finished": job.status.finished,
        "progress": job.progress,
        "progress_text": job.progress_text,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "error": job.error,
        "cancel_requested": job.cancel_requested,
    }


def log_json(line: LogLine) -> dict[str, Any]:
    """One log line of a job."""
    return {
        "seq": line.seq,
        "at": line.at.isoformat(),
        "level": line.level,
        "message": line.message,
    }


def task_json(task: ClusteringTask) -> dict[str, Any]:
    """A Lab task with its design, the numbers of its sessions, and its engine: its own
    (``engine``, null: the project's) and the one it trains on (``runs_on``)."""
    return {
        "id": task.id,
        "name": task.spec.name,
        "dataset": task.spec.dataset,
        "created_at": task.spec.created_at.isoformat(),
        "engine": task.spec.engine,
        "runs_on": task.engine,
        "design": task.design.model_dump(mode="json"),
        "sessions": [s.summary.number for s in task.sessions()],
    }


def model_json(model: Model) -> dict[str, Any]:
    """A trained model of a session: label, params, metrics, error."""
    summary = model.summary
    return {
        "id": summary.id,
        "label": summary.label,
        "algorithm": summary.algorithm,
        "params": plain(summary.params),
        "pca": summary.pca,
        "metrics": plain(summary.metrics),
        "timings": summary.timings,
        "diagnostics": summary.diagnostics,
        "error": summary.error,
    }


def session_json(session: Session) -> dict[str, Any]:
    """A training session with its models."""
    summary = session.summary
    return {
        "number": summary.number,
        "task": summary.task,
        "rows": summary.rows,
        "data_hash": summary.data_hash,
        "created_at": summary.created_at.isoformat(),
        "diagnostics": summary.diagnostics,
        "models": [model_json(m) for m in session.models],
    }


def saved_model_json(saved: SavedModel) -> dict[str, Any]:
    """A saved model as the list shows it: id, display name, active version, train recipe."""
    spec = saved.spec
    return {
        "id": spec.id,
        "name": spec.name,
        "dataset": spec.dataset,
        "task": spec.task,
        "active": spec.active,
        "versions": len(saved.versions),
        "train_recipe": saved.train_recipe,
        "created_at": spec.created_at.isoformat(),
    }


def version_json(version: SavedModelVersion) -> dict[str, Any]:
    """One version: its info (source, metrics, lineage, changes), whether active, clusters."""
    return {
        "id": version.id,
        "active": version.active,
        "info": plain(version.info.model_dump(mode="json")),
        "clusters": [c.model_dump() for c in version.clusters],
        "matching": plain(version.matching),
    }
