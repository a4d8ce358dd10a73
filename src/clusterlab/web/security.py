"""Request checks for a server meant for one machine: known host names, same-origin writes.

The server binds 127.0.0.1, but a web page from another site can still make the
browser call it: checking ``Host`` stops DNS-rebinding, and refusing writes whose
``Origin`` is another site stops cross-site form posts.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]", "testserver"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _host_name(value: str) -> str:
    if value.startswith("["):
        return value.split("]")[0] + "]"
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class LocalOnlyMiddleware:
    """Refuse requests addressed to a foreign host name, and cross-site writes."""

    def __init__(self, app: ASGIApp, allowed_hosts: frozenset[str] = LOCAL_HOSTS) -> None:
        self.app = app
        self.allowed = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        problem = self._problem(request)
        if problem:
            response: Response = JSONResponse({"error": problem, "status": 403}, status_code=403)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _problem(self, request: Request) -> str | None:
        host = _host_name(request.headers.get("host", ""))
        if host not in self.allowed:
            return (
                f"This ClusterLab server answers only on this machine, not as {host!r}: "
                "open it at http://127.0.0.1 with its port."
            )
        origin = request.headers.get("origin")
        writes = request.method not in SAFE_METHODS
        if writes and origin and _host_name(urlsplit(origin).netloc) not in self.allowed:
            return "Changes are accepted only from ClusterLab's own pages."
        return None
