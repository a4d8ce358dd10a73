"""The HTML pages, one router per noun; they read the same services as the API."""

from fastapi import APIRouter

from clusterlab.web.pages import (
    datasets,
    flow,
    home,
    jobs,
    lab,
    models,
    recipes,
    saved_models,
)

router = APIRouter(include_in_schema=False)
for _module in (home, flow, datasets, recipes, lab, models, saved_models, jobs):
    router.include_router(_module.router)

__all__ = ["router"]
