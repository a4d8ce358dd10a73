"""The Lab: AutoML clustering tasks, their design, training jobs and sessions."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel

from clusterlab.core.errors import NotFoundError
from clusterlab.web import deps
from clusterlab.web.charts import elbow_chart
from clusterlab.web.reports import check_trainable, save_design
from clusterlab.web.serialize import job_json, session_json, task_json

router = APIRouter(tags=["lab"])


class NewTask(BaseModel):
    """Lab → AutoML Clustering on a dataset, with a preset."""

    dataset: str
    preset: Literal["kmeans", "anomaly"] = "kmeans"


@router.get("/projects/{key}/tasks")
def list_tasks(request: Request, key: str) -> list[dict[str, Any]]:
    """The project's Lab tasks."""
    return [task_json(t) for t in deps.project(request, key).clustering_tasks()]


@router.post("/projects/{key}/tasks", status_code=201)
def create_task(request: Request, key: str, body: NewTask) -> dict[str, Any]:
    """Create a clustering task; its design is guessed from the dataset's statistics."""
    task = deps.project(request, key).create_clustering_task(body.dataset, body.preset)
    return task_json(task)


@router.get("/projects/{key}/tasks/{task_id}")
def get_task(request: Request, key: str, task_id: str) -> dict[str, Any]:
    """A task with its design and session numbers."""
    return task_json(deps.task(request, key, task_id))


@router.put("/projects/{key}/tasks/{task_id}/design")
def put_design(request: Request, key: str, task_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Replace the task's design (every panel); 422 with the wrong fields if invalid."""
    task = save_design(deps.task(request, key, task_id), body)
    return task_json(task)


@router.post("/projects/{key}/tasks/{task_id}/train", status_code=202)
def train(request: Request, key: str, task_id: str) -> dict[str, Any]:
    """Start a training session as a job; poll ``/api/jobs/{id}`` for progress."""
    task = deps.task(request, key, task_id)
    check_trainable(task)
    return job_json(task.start_training())


@router.get("/projects/{key}/tasks/{task_id}/sessions")
def list_sessions(request: Request, key: str, task_id: str) -> list[dict[str, Any]]:
    """Training sessions, oldest first, with their models and metrics."""
    return [session_json(s) for s in deps.task(request, key, task_id).sessions()]


@router.get("/projects/{key}/tasks/{task_id}/sessions/{number}")
def get_session(request: Request, key: str, task_id: str, number: int) -> dict[str, Any]:
    """One session with its models and metrics."""
    return session_json(deps.session(request, key, task_id, number))


@router.get("/projects/{key}/tasks/{task_id}/sessions/{number}/elbow")
def get_elbow(request: Request, key: str, task_id: str, number: int) -> dict[str, Any]:
    """The elbow chart (metrics against k) as a Plotly figure."""
    figure = elbow_chart(deps.session(request, key, task_id, number))
    if figure is None:
        raise NotFoundError(
            "The elbow chart needs models with at least two values of k in this session: "
            "list several k in the Design tab (Algorithms) and train again."
        )
    data: dict[str, Any] = json.loads(figure.to_json())
    return data
