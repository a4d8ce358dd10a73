"""Uploaded files: streamed to a private scratch folder with a size limit, never trusted."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from clusterlab.core.errors import InvalidInputError, LimitExceededError
from clusterlab.services.workspace import Workspace

CHUNK = 1024 * 1024
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str | None, default: str = "upload") -> str:
    """A file name with only letters, digits, ``.``, ``_`` and ``-`` (keeps the suffix).

    The browser's name never reaches the file system as given: it may hold ``..`` or ``/``.

    Examples
    --------
    >>> safe_filename("../../etc/pass wd.csv.gz")
    'pass_wd.csv.gz'
    >>> safe_filename("")
    'upload'
    """
    base = Path((name or "").replace("\\", "/")).name
    cleaned = _SAFE.sub("_", base).strip("._")
    return cleaned[:120] or default


@contextmanager
def saved_upload(ws: Workspace, upload: UploadFile, limit: int) -> Iterator[Path]:
    """Write ``upload`` to a scratch file (at most ``limit`` bytes) and yield its path.

    The scratch folder is removed afterwards, whatever happens.
    """
    folder = ws.scratch_dir()
    try:
        dest = folder / safe_filename(upload.filename)
        written = 0
        with dest.open("wb") as out:
            while chunk := upload.file.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    raise LimitExceededError(
                        f"{upload.filename} is larger than the upload limit of {limit:,} bytes; "
                        "raise CLUSTERLAB_MAX_UPLOAD_BYTES or import it from the CLI as an "
                        "external dataset."
                    )
                out.write(chunk)
        if written == 0:
            raise InvalidInputError(f"{upload.filename or 'The file'} is empty: choose another.")
        yield dest
    finally:
        shutil.rmtree(folder, ignore_errors=True)
