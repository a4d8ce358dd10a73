"""The app factory: one FastAPI app serving the JSON API, the pages and static files."""

from __future__ import annotations

from pathlib import Path

import plotly
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

import clusterlab
from clusterlab.core.errors import StorageError
from clusterlab.services.workspace import Workspace
from clusterlab.web.api import router as api_router
from clusterlab.web.errors import install_error_handlers
from clusterlab.web.pages import router as pages_router
from clusterlab.web.security import LocalOnlyMiddleware
from clusterlab.web.templating import STATIC_DIR

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def create_app(workspace: Workspace) -> FastAPI:
    """Build the web app serving ``workspace``: pages at ``/``, JSON API at ``/api``.

    Parameters
    ----------
    workspace : Workspace
        The workspace every page and endpoint reads and changes.

    Returns
    -------
    FastAPI
        An ASGI app; run it with uvicorn (``clusterlab serve``) or test it with
        ``fastapi.testclient.TestClient``.

    Examples
    --------
    >>> import clusterlab as cl, tempfile
    >>> from fastapi.testclient import TestClient
    >>> client = TestClient(create_app(cl.Workspace(tempfile.mkdtemp())))
    >>> client.get("/api/projects").json()
    []
    """
    app = FastAPI(
        title="ClusterLab",
        version=clusterlab.__version__,
        description="Projects, datasets, the Flow, jobs and the Lab of a ClusterLab workspace.",
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.workspace = workspace
    app.add_middleware(LocalOnlyMiddleware)
    install_error_handlers(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        # The copy shipped inside the installed plotly package: no CDN, works offline.
        if not PLOTLY_JS.is_file():
            raise StorageError(
                f"Plotly.js is missing from the plotly package ({PLOTLY_JS}): reinstall plotly."
            )
        return FileResponse(PLOTLY_JS, media_type="text/javascript")

    app.include_router(api_router)
    app.include_router(pages_router)
    return app
