"""Errors as users see them: JSON with a plain message for the API, a page for the UI.

Every `ClusterLabError` already says what was wrong and how to fix it, so its message
is shown as it is; anything else is an internal error, logged on the server and shown
as one sentence (never a stack trace).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from clusterlab.core.errors import (
    AlreadyExistsError,
    ClusterLabError,
    InvalidInputError,
    InvalidNameError,
    LimitExceededError,
    NotFoundError,
    StorageError,
    UnsupportedError,
)

log = logging.getLogger("clusterlab.web")

# Most specific first: InvalidNameError is also a ValueError like InvalidInputError.
STATUS_BY_ERROR: tuple[tuple[type[ClusterLabError], int], ...] = (
    (NotFoundError, 404),
    (InvalidNameError, 400),
    (AlreadyExistsError, 409),
    (LimitExceededError, 413),
    (InvalidInputError, 422),
    (UnsupportedError, 400),
    (StorageError, 409),
)
INTERNAL_MESSAGE = (
    "Something went wrong inside ClusterLab. The details are in the server log; "
    "try again, and report it if it happens again."
)


def status_for(exc: ClusterLabError) -> int:
    """The HTTP status of a ClusterLab error (400 when no finer one applies).

    Examples
    --------
    >>> status_for(NotFoundError("no such project"))
    404
    """
    for kind, status in STATUS_BY_ERROR:
        if isinstance(exc, kind):
            return status
    return 400


def wants_json(request: Request) -> bool:
    """Whether the caller is the API (JSON) rather than a browser page."""
    return request.url.path.startswith("/api/")


def error_response(request: Request, status: int, message: str) -> Response:
    """The error as JSON ``{"error", "status"}`` for the API, else as an error page."""
    if wants_json(request):
        return JSONResponse({"error": message, "status": status}, status_code=status)
    from clusterlab.web.templating import render

    return render(request, "error.html", {"status": status, "message": message}, status=status)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for problem in exc.errors():
        where = ".".join(str(p) for p in problem.get("loc", ()) if p not in ("body", "query"))
        parts.append(f"{where or 'request'}: {problem.get('msg', 'invalid value')}")
    return "The request is not valid: " + "; ".join(parts) + "."


def install_error_handlers(app: FastAPI) -> None:
    """Map ClusterLab errors, bad requests and unexpected failures to plain messages."""

    @app.exception_handler(ClusterLabError)
    async def _clusterlab(request: Request, exc: ClusterLabError) -> Response:
        return error_response(request, status_for(exc), str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 422, _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"There is no page at {request.url.path}: go back to the projects list."
        return error_response(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        log.exception("Internal error on %s %s", request.method, request.url.path)
        return error_response(request, 500, INTERNAL_MESSAGE)
