"""Jinja2 templates of the pages, and the filters they use to show numbers and times."""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"


def number(value: Any, digits: int = 4) -> str:
    """A number as people read it: thousands separators, a few significant digits.

    Examples
    --------
    >>> number(1234567), number(0.123456), number(None)
    ('1,234,567', '0.1235', '')
    """
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, int) or (float(value).is_integer() and abs(value) >= 1000):
        return f"{int(value):,}"
    return f"{value:.{digits}g}"


def percent(share: float | None, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage, e.g. ``12.5%``."""
    return "" if share is None else f"{100 * share:.{digits}f}%"


def when(value: datetime | None) -> str:
    """A timestamp to the second, in the server's local time."""
    return "" if value is None else value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters.update(number=number, percent=percent, when=when)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> Response:
    """Render template ``name`` as the response to ``request``."""
    return templates.TemplateResponse(request, name, context or {}, status_code=status)
