"""One Settings object, read from ``CLUSTERLAB_*`` environment variables at the edges
(CLI, web app, Python API) and passed down."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from clusterlab.core.errors import InvalidInputError

GIB = 1024**3


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise InvalidInputError(
            f"{name}={raw!r} is not a whole number: set it to a number such as {default}."
        ) from None


@dataclass(frozen=True)
class Settings:
    """Workspace location and limits.

    Attributes
    ----------
    home : Path
        The workspace directory (``CLUSTERLAB_HOME``, default ``./clusterlab-data``).
    max_upload_bytes : int
        Largest file accepted by an import (``CLUSTERLAB_MAX_UPLOAD_BYTES``, 10 GiB).
    max_archive_bytes : int
        Largest total size a project archive may expand to (``CLUSTERLAB_MAX_ARCHIVE_BYTES``).
    max_archive_members : int
        Most files a project archive may hold.
    kept_versions : int
        Dataset versions kept on disk besides the current one, for readers in progress.
    allow_custom_code : bool
        Whether custom models may run their Python code (``CLUSTERLAB_ALLOW_CUSTOM_CODE``
        = 1); off by default because the code runs with the server's rights.
    """

    home: Path = field(default_factory=lambda: Path("clusterlab-data"))
    max_upload_bytes: int = 10 * GIB
    max_archive_bytes: int = 20 * GIB
    max_archive_members: int = 100_000
    kept_versions: int = 1
    allow_custom_code: bool = False

    @classmethod
    def from_env(cls, home: str | os.PathLike[str] | None = None) -> Settings:
        """Build settings from ``CLUSTERLAB_*`` variables; ``home`` wins over the variable."""
        base = cls()
        return replace(
            base,
            home=Path(home or os.environ.get("CLUSTERLAB_HOME") or base.home),
            max_upload_bytes=_env_int("CLUSTERLAB_MAX_UPLOAD_BYTES", base.max_upload_bytes),
            max_archive_bytes=_env_int("CLUSTERLAB_MAX_ARCHIVE_BYTES", base.max_archive_bytes),
            max_archive_members=_env_int(
                "CLUSTERLAB_MAX_ARCHIVE_MEMBERS", base.max_archive_members
            ),
            kept_versions=_env_int("CLUSTERLAB_KEPT_VERSIONS", base.kept_versions),
            allow_custom_code=os.environ.get("CLUSTERLAB_ALLOW_CUSTOM_CODE", "").lower()
            in ("1", "true", "yes"),
        )
