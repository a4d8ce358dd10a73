"""Trained models of the Lab: clusters (name, color, description), report panels, deploy."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from clusterlab.core.ids import validate_name
from clusterlab.web import deps
from clusterlab.web.api.report_panels import add_panel_routes
from clusterlab.web.reports import resolve_cluster
from clusterlab.web.serialize import model_json, saved_model_json

router = APIRouter(tags=["models"])
MODEL = "/projects/{key}/tasks/{task_id}/sessions/{number}/models/{model_id}"


class ClusterChange(BaseModel):
    """What to change in a cluster; fields left out keep their value."""

    name: str | None = Field(default=None, description="Non-empty and unique within the model.")
    color: str | None = Field(default=None, description="A #RRGGBB color, e.g. #636EFA.")
    description: str | None = None


class DeployRequest(BaseModel):
    """Deploy to the Flow: a new saved model, or a new active version of an existing one."""

    saved_model: str = Field(description="The saved model's id (a Flow name).")
    name: str | None = Field(default=None, description="Display name of a new saved model.")
    update: bool = Field(
        default=False, description="Add this model to the existing saved model and activate it."
    )


@router.get(MODEL)
def get_model(
    request: Request, key: str, task_id: str, number: int, model_id: str
) -> dict[str, Any]:
    """A model: label, params, metrics, and its clusters when it trained."""
    model = deps.model(request, key, task_id, number, model_id)
    data = model_json(model)
    if model.error is None:
        data["clusters"] = [c.model_dump() for c in model.clusters]
    return data


@router.put(MODEL + "/clusters/{cluster}")
def update_cluster(
    request: Request,
    key: str,
    task_id: str,
    number: int,
    model_id: str,
    cluster: str,
    body: ClusterChange,
) -> dict[str, Any]:
    """Change a cluster (by id or current name): its name, color or description."""
    model = deps.model(request, key, task_id, number, model_id)
    cluster_id = resolve_cluster(model, cluster)
    model.update_cluster(cluster_id, name=body.name, color=body.color, description=body.description)
    return next(c.model_dump() for c in model.clusters if c.id == cluster_id)


@router.post(MODEL + "/deploy", status_code=201)
def deploy_model(
    request: Request,
    key: str,
    task_id: str,
    number: int,
    model_id: str,
    body: DeployRequest,
) -> dict[str, Any]:
    """Deploy the model to the Flow as a saved model with a train recipe.

    With ``update`` the existing saved model gets this model as its new active version
    ("activate this version"); otherwise a new saved model and train recipe are made.
    """
    model = deps.model(request, key, task_id, number, model_id)
    validate_name(body.saved_model, "saved model")
    saved = model.deploy(body.saved_model, name=body.name or None, update=body.update)
    return saved_model_json(saved)


class NodeRequest(BaseModel):
    """A node of a two-step model's hierarchy to set as a cluster."""

    node: int = Field(ge=0, description="The node id (leaves are pre-clusters).")


@router.post(MODEL + "/hierarchy/cluster-node")
def set_cluster_node(
    request: Request,
    key: str,
    task_id: str,
    number: int,
    model_id: str,
    body: NodeRequest,
) -> dict[str, Any]:
    """Set a hierarchy node as a cluster (merging or splitting), then re-score the model.

    Metrics, report and artifact are rebuilt; clusters that stay keep their names.
    """
    model = deps.model(request, key, task_id, number, model_id)
    model.set_cluster_node(body.node)
    data = model_json(model)
    data["clusters"] = [c.model_dump() for c in model.clusters]
    return data


add_panel_routes(router, MODEL, deps.model)
