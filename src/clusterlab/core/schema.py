"""Dataset schemas: per column a storage type and a meaning.

The storage type is how values are stored (Parquet types); the meaning is what the
values are (an IP address, a country, ...), detected from values and overridable by
users, as in DSS.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from clusterlab.core.errors import NotFoundError


class StorageType(StrEnum):
    """How a column's values are stored."""

    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"


class Meaning(StrEnum):
    """What a column's values represent, detected from values."""

    IP_ADDRESS = "ip_address"
    COUNTRY = "country"
    URL = "url"
    USER_AGENT = "user_agent"
    EMAIL = "email"
    DATE = "date"
    INTEGER = "integer"
    DECIMAL = "decimal"
    BOOLEAN = "boolean"
    TEXT = "text"


class Column(BaseModel):
    """One column of a dataset schema."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: StorageType
    meaning: Meaning
    meaning_overridden: bool = False


class Schema(BaseModel):
    """The ordered columns of a dataset."""

    model_config = ConfigDict(frozen=True)

    columns: tuple[Column, ...]

    @property
    def names(self) -> list[str]:
        """Column names in order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """Return the column called ``name`` or raise `NotFoundError`."""
        for col in self.columns:
            if col.name == name:
                return col
        raise NotFoundError(f"No column {name!r}; the columns are: {', '.join(self.names)}.")

    def with_meaning(self, name: str, meaning: Meaning) -> Schema:
        """Return a copy where column ``name`` has the user-chosen ``meaning``."""
        self.column(name)
        cols = tuple(
            c.model_copy(update={"meaning": meaning, "meaning_overridden": True})
            if c.name == name
            else c
            for c in self.columns
        )
        return Schema(columns=cols)

    def __len__(self) -> int:
        return len(self.columns)
