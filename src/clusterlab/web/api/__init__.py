"""The JSON API under ``/api``, one router per noun, documented at ``/api/docs``."""

from fastapi import APIRouter

from clusterlab.web.api import (
    datasets,
    engines,
    flow,
    jobs,
    lab,
    models,
    projects,
    saved_models,
)

router = APIRouter(prefix="/api")
for _module in (projects, datasets, flow, engines, jobs, lab, models, saved_models):
    router.include_router(_module.router)

__all__ = ["router"]
