"""Validation of the names users give to projects, datasets and other entities.

Names end up in file paths, so they are checked here, before any layer builds a path
from them.
"""

from __future__ import annotations

import re

from clusterlab.core.errors import InvalidNameError

_PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
# Letters (any script), digits, `_` and `-`; no dots, so `..` and hidden files are impossible.
_ENTITY_NAME = re.compile(r"^[^\W][\w-]{0,127}$")


def validate_project_key(key: str) -> str:
    """Return ``key`` if it is a valid project KEY, else raise `InvalidNameError`.

    A KEY starts with an upper-case letter and holds upper-case letters, digits and
    ``_`` (at most 64 characters).

    Examples
    --------
    >>> validate_project_key("CLUSTERING")
    'CLUSTERING'
    """
    if not isinstance(key, str) or not _PROJECT_KEY.fullmatch(key):
        raise InvalidNameError(
            f"Invalid project key {key!r}: use upper-case letters, digits and '_', "
            "starting with a letter (for example CLUSTERING or WEB_2024)."
        )
    return key


def validate_name(name: str, kind: str = "dataset") -> str:
    """Return ``name`` if it is a valid entity name, else raise `InvalidNameError`.

    Names hold letters, digits, ``_`` and ``-`` (at most 128 characters) and do not
    start with ``-`` or ``_``; ``/``, ``.`` and spaces are refused because names
    become file names.

    Examples
    --------
    >>> validate_name("weblogs_prepared")
    'weblogs_prepared'
    """
    if not isinstance(name, str) or not name:
        raise InvalidNameError(f"The {kind} name is empty: give a name such as 'weblogs'.")
    if not _ENTITY_NAME.fullmatch(name) or name.startswith("_"):
        raise InvalidNameError(
            f"Invalid {kind} name {name!r}: use letters, digits, '_' and '-' only "
            "(no '/', '.', or spaces), starting with a letter or digit, at most 128 characters."
        )
    return name
