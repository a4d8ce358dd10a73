"""`clusterlab serve`: the web UI and REST API on this machine."""

from __future__ import annotations

import ipaddress
import threading
import webbrowser
from typing import Annotated

import typer

from clusterlab.cli.context import state
from clusterlab.cli.output import console
from clusterlab.core.errors import UnsupportedError

LOCAL_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1 or localhost).

    Examples
    --------
    >>> [is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "10.0.0.2")]
    [True, True, True, False, False]
    """
    if host.lower() in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (this machine only).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open the UI in a browser.")
    ] = False,
) -> None:
    """Serve the web UI and the REST API (docs at /api/docs) until Ctrl-C."""
    if not is_loopback(host):
        raise UnsupportedError(
            f"Refusing to listen on {host}: without authentication anyone who can reach it "
            "could read and change every project. ClusterLab has no authentication yet, so "
            "it listens on this machine only: use --host 127.0.0.1 (the default), and reach "
            "it from elsewhere through an SSH tunnel (ssh -L 8000:127.0.0.1:8000 …)."
        )
    import uvicorn

    from clusterlab.services.job_server import preload, warm_up
    from clusterlab.web import create_app

    ws = state.workspace()
    warm_up()  # the UI's first training or build starts warm
    # And its first model view: imported while the browser opens.
    threading.Thread(target=preload, name="preload", daemon=True).start()
    app = create_app(ws)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    console.print(f"ClusterLab serves [bold]{ws.home}[/] at [link={url}]{url}[/] (Ctrl-C stops)")
    if not no_browser:
        # Opened a moment later, once the server listens.
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")
