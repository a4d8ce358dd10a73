"""Lab definitions stored in the workspace: clustering tasks, sessions, cluster metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from clusterlab.core.dataset import EngineName, utc_now
from clusterlab.core.mltask import TaskDesign


class TaskSpec(BaseModel):
    """An AutoML clustering task of the Lab: a dataset and the design of its sessions."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    dataset: str
    design: TaskDesign
    engine: EngineName | None = Field(
        default=None, description="The engine sessions train on; None: the project's."
    )
    created_at: datetime = Field(default_factory=utc_now)


class ClusterMeta(BaseModel):
    """What the analyst says of a cluster; ``id`` is the name the model gave it."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    color: str
    description: str = ""
    suggested_name: str = ""


class ModelSummary(BaseModel):
    """One trained model of a session, as the results table shows it."""

    model_config = ConfigDict(frozen=True)

    id: str
    label: str
    algorithm: str
    params: dict[str, Any]
    pca: bool
    error: str | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict)
    diagnostics: list[str] = Field(default_factory=list)


class SessionSummary(BaseModel):
    """A training session: its models in grid order and what they share."""

    model_config = ConfigDict(frozen=True)

    number: int
    task: str
    rows: int
    data_hash: str
    models: list[ModelSummary]
    sample: str = ""
    """Cache key of the training rows (see services.training_sample)."""
    data_version: str = ""
    """The dataset's version (fingerprint) the session was trained on."""
    design: TaskDesign | None = None
    """The design the session was trained with (the task's may have changed since)."""
    diagnostics: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utc_now)
