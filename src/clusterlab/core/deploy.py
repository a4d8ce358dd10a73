"""Saved models of the Flow: a named model with versions, one of them active.

A saved model is written by its train recipe (or by deploying a Lab model) and read
by apply recipes. Each version is a folder holding the skops artifact, its manifest,
the report, the cluster metadata, how its clusters match the previous version's, and
the drift baseline apply runs are compared with.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from clusterlab.core.dataset import utc_now
from clusterlab.core.ids import validate_name


class SavedModelSpec(BaseModel):
    """A saved model: its id (a Flow name), display name, and active version."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    dataset: str
    task: str | None = None
    active: str | None = None
    created_at: datetime = Field(default_factory=utc_now)

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return validate_name(value, "saved model")


class VersionInfo(BaseModel):
    """One version of a saved model, as its versions list shows it.

    ``source`` says where it came from (``deploy`` of a Lab model, or a ``train``
    recipe run); ``signature`` identifies the recipe spec and input data it was
    trained from, so a smart build skips retraining on unchanged data.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    number: int
    source: str
    label: str
    algorithm: str
    params: dict[str, Any]
    metrics: dict[str, Any] = Field(default_factory=dict)
    approximate: bool = False
    rows: int = 0
    signature: str = ""
    lineage: dict[str, Any] = Field(default_factory=dict)
    changes: list[str] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utc_now)
