"""Requests and results of exploring a dataset: pages of rows and column statistics."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FilterOp(StrEnum):
    """Comparisons a row filter can make."""

    EQ = "eq"
    NE = "ne"
    LT = "lt"
    LE = "le"
    GT = "gt"
    GE = "ge"
    CONTAINS = "contains"
    IS_EMPTY = "is_empty"
    NOT_EMPTY = "not_empty"


class RowFilter(BaseModel):
    """Keep rows where ``column op value`` holds."""

    model_config = ConfigDict(frozen=True)

    column: str
    op: FilterOp = FilterOp.EQ
    value: Any = None


class SortKey(BaseModel):
    """Sort rows by one column."""

    model_config = ConfigDict(frozen=True)

    column: str
    ascending: bool = True


class RowQuery(BaseModel):
    """One page of rows: filters, then sort, then offset and limit."""

    model_config = ConfigDict(frozen=True)

    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=100, ge=0, le=10_000)
    sort: tuple[SortKey, ...] = ()
    filters: tuple[RowFilter, ...] = ()


class TopValue(BaseModel):
    """A frequent value and how many rows hold it."""

    model_config = ConfigDict(frozen=True)

    value: Any
    count: int


class HistogramBin(BaseModel):
    """Rows whose value lies in ``[low, high)`` (the last bin includes ``high``)."""

    model_config = ConfigDict(frozen=True)

    low: float
    high: float
    count: int


class ColumnStats(BaseModel):
    """Statistics of one column, as shown in the explore view's column header."""

    model_config = ConfigDict(frozen=True)

    name: str
    type: str
    meaning: str
    count: int
    missing: int
    distinct: int
    min: Any = None
    max: Any = None
    mean: float | None = None
    std: float | None = None
    top_values: tuple[TopValue, ...] = ()
    histogram: tuple[HistogramBin, ...] = ()

    @property
    def missing_share(self) -> float:
        """Share of rows with no value."""
        return self.missing / self.count if self.count else 0.0


class DatasetStats(BaseModel):
    """Row count and per-column statistics of a dataset."""

    model_config = ConfigDict(frozen=True)

    rows: int
    columns: tuple[ColumnStats, ...]

    def column(self, name: str) -> ColumnStats:
        """The statistics of column ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)
