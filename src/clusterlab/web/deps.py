"""What every route needs: the app's workspace and the entities named in the URL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

from clusterlab.core.errors import NotFoundError
from clusterlab.services.project import Project
from clusterlab.services.workspace import Workspace

if TYPE_CHECKING:
    from clusterlab.services.lab import ClusteringTask, Model, Session
    from clusterlab.services.saved_models import SavedModel, SavedModelVersion


def workspace(request: Request) -> Workspace:
    """The workspace the app serves (set by `create_app`)."""
    ws: Workspace = request.app.state.workspace
    return ws


def project(request: Request, key: str) -> Project:
    """The project ``key`` of the app's workspace; `NotFoundError` if missing."""
    return workspace(request).project(key)


def task(request: Request, key: str, task_id: str) -> ClusteringTask:
    """A Lab task of project ``key``."""
    found = {t.id: t for t in project(request, key).clustering_tasks()}
    if task_id not in found:
        listed = ", ".join(found) or "none yet"
        raise NotFoundError(
            f"Project {key} has no Lab task {task_id!r} (tasks: {listed}). "
            "Open the Lab from a dataset to create one."
        )
    return found[task_id]


def session(request: Request, key: str, task_id: str, number: int) -> Session:
    """Training session ``number`` (from 1) of a Lab task."""
    sessions = task(request, key, task_id).sessions()
    for item in sessions:
        if item.summary.number == number:
            return item
    listed = ", ".join(str(s.summary.number) for s in sessions) or "none yet"
    raise NotFoundError(
        f"Task {task_id} has no session {number} (sessions: {listed}). Train the task first."
    )


def model(request: Request, key: str, task_id: str, number: int, model_id: str) -> Model:
    """A trained model of a session."""
    chosen = session(request, key, task_id, number)
    for item in chosen.models:
        if item.id == model_id:
            return item
    listed = ", ".join(m.id for m in chosen.models)
    raise NotFoundError(f"Session {number} of task {task_id} has no model {model_id!r} ({listed}).")


def saved_model(request: Request, key: str, model_id: str) -> SavedModel:
    """A saved model of project ``key``, by id or display name."""
    return project(request, key).saved_model(model_id)


def version(request: Request, key: str, model_id: str, version_id: str) -> SavedModelVersion:
    """One version (``v1``, ``v2``…) of a saved model."""
    return saved_model(request, key, model_id).version(version_id)
