"""The one exception tree for everything ClusterLab reports to users.

Every message says what was wrong, where (project, dataset, column, line) and how to
fix it, so that the CLI, the REST API and the UI can show it as it is.
"""

from __future__ import annotations


class ClusterLabError(Exception):
    """Base of every error ClusterLab raises to a user."""


class InvalidNameError(ClusterLabError, ValueError):
    """A project key, dataset or other name breaks the naming rules."""


class NotFoundError(ClusterLabError, LookupError):
    """A project, dataset or other entity does not exist."""


class AlreadyExistsError(ClusterLabError):
    """An entity with this name exists and overwriting was not asked for."""


class InvalidInputError(ClusterLabError, ValueError):
    """Input data (a file, an archive, a record) cannot be read as given."""


class LimitExceededError(ClusterLabError):
    """Input is larger than a configured limit (upload size, archive size)."""


class UnsupportedError(ClusterLabError):
    """An option, format or engine capability that is not supported."""


class StorageError(ClusterLabError):
    """The workspace on disk is not in the expected state."""
