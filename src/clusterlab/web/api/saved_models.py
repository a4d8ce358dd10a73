"""Saved models of the Flow: versions, activation, real-time scoring, apply recipes.

``POST .../score`` labels records sent as JSON with the active version, the way an
apply recipe labels a dataset's rows. The loaded model is kept in the app (see
`clusterlab.web.scoring.ModelCache`), so scoring one record does not reload it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from clusterlab.core.ids import validate_name
from clusterlab.web import deps
from clusterlab.web.api.report_panels import add_panel_routes
from clusterlab.web.scoring import MAX_RECORDS, ModelCache, score_records
from clusterlab.web.serialize import plain, saved_model_json, version_json

router = APIRouter(tags=["saved models"])
SAVED = "/projects/{key}/saved-models/{model_id}"
VERSION = SAVED + "/versions/{version_id}"


class Activation(BaseModel):
    """The version apply recipes and scoring use from now on."""

    version: str = Field(description='A version id, e.g. "v1".')


class ScoreRequest(BaseModel):
    """Records to label: each maps column names to values (at least the input features)."""

    records: list[dict[str, Any]] = Field(
        description=f"At most {MAX_RECORDS:,} records; other columns than the inputs are ignored."
    )


class ApplyRequest(BaseModel):
    """An apply recipe: ``dataset`` scored by the saved model into ``output``."""

    dataset: str
    output: str = Field(description="Name of the new dataset holding the scored rows.")
    name: str | None = Field(default=None, description="Recipe name (a default is made).")
    columns: list[str] | None = Field(default=None, description="Input columns kept (all).")
    distance: bool = Field(default=True, description="Add cluster_distance.")


def model_cache(request: Request) -> ModelCache:
    """The app's cache of loaded models (made on first use)."""
    state = request.app.state
    if not hasattr(state, "model_cache"):
        state.model_cache = ModelCache()
    cache: ModelCache = state.model_cache
    return cache


def saved_model_detail(saved: Any) -> dict[str, Any]:
    """A saved model with its versions (oldest first) and the record of its apply runs."""
    return {
        **saved_model_json(saved),
        "versions": [version_json(v) for v in saved.versions],
        "apply_runs": plain(saved.apply_runs()),
    }


@router.get("/projects/{key}/saved-models")
def list_saved_models(request: Request, key: str) -> list[dict[str, Any]]:
    """The project's saved models: id, display name, active version."""
    return [saved_model_json(m) for m in deps.project(request, key).saved_models()]


@router.get(SAVED)
def get_saved_model(request: Request, key: str, model_id: str) -> dict[str, Any]:
    """A saved model with each version's info (source, metrics, changes), whether it is
    active, and its clusters."""
    return saved_model_detail(deps.saved_model(request, key, model_id))


@router.post(SAVED + "/activate")
def activate(request: Request, key: str, model_id: str, body: Activation) -> dict[str, Any]:
    """Make a version the active one (apply recipes and scoring use it)."""
    saved = deps.saved_model(request, key, model_id).activate(body.version)
    return saved_model_detail(saved)


@router.post(SAVED + "/rollback")
def rollback(request: Request, key: str, model_id: str) -> dict[str, Any]:
    """Activate the version before the active one."""
    return saved_model_detail(deps.saved_model(request, key, model_id).rollback())


@router.post(SAVED + "/score")
def score(request: Request, key: str, model_id: str, body: ScoreRequest) -> dict[str, Any]:
    """Label records with the active version.

    Each result has ``cluster_labels`` (the cluster's name), ``cluster_id``,
    ``cluster_distance`` and, for Isolation Forest, ``anomaly_score``; a record
    dropped by the model's missing-value handling gets null. 422 names the record and
    column of a bad value or a missing input; 413 above the records limit.
    """
    saved = deps.saved_model(request, key, model_id)
    return score_records(model_cache(request), saved, body.records)


@router.post(SAVED + "/apply", status_code=201)
def create_apply(request: Request, key: str, model_id: str, body: ApplyRequest) -> dict[str, Any]:
    """Add an apply recipe scoring ``dataset`` into ``output``; build ``output`` to run it."""
    project = deps.project(request, key)
    validate_name(body.output, "dataset")
    recipe = project.create_apply_recipe(
        body.dataset,
        model_id,
        body.output,
        name=body.name or None,
        columns=body.columns,
        distance=body.distance,
    )
    return recipe.model_dump(mode="json")


@router.get(VERSION)
def get_version(request: Request, key: str, model_id: str, version_id: str) -> dict[str, Any]:
    """One version: info, whether active, clusters, and how it matched the previous one."""
    return version_json(deps.version(request, key, model_id, version_id))


add_panel_routes(router, VERSION, deps.version)
