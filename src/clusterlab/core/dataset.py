"""Dataset and project definitions as stored in the workspace (JSON, validated)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from clusterlab.core.schema import Meaning


def utc_now() -> datetime:
    """The current time in UTC, for timestamps in definitions."""
    return datetime.now(UTC)


class DatasetKind(StrEnum):
    """Managed datasets are Parquet written by ClusterLab; external ones are read in place."""

    MANAGED = "managed"
    EXTERNAL = "external"


class FileFormat(StrEnum):
    """File formats ClusterLab reads."""

    CSV = "csv"
    PARQUET = "parquet"
    JSONL = "jsonl"
    XLSX = "xlsx"


class CsvOptions(BaseModel):
    """How to read a delimited text file; ``None`` means detect it."""

    model_config = ConfigDict(frozen=True)

    delimiter: str | None = None
    encoding: str | None = None
    quote: str | None = None
    header: bool | None = None


class DatasetSpec(BaseModel):
    """The definition of one dataset of a project."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: DatasetKind = DatasetKind.MANAGED
    format: FileFormat | None = None
    path: str | None = Field(default=None, description="The file an external dataset reads.")
    csv: CsvOptions = CsvOptions()
    meaning_overrides: dict[str, Meaning] = Field(default_factory=dict)
    description: str = ""
    import_warnings: tuple[str, ...] = ()
    created_at: datetime = Field(default_factory=utc_now)


EngineName = Literal["local", "spark"]
"""The engines that run recipes and Lab sessions: DuckDB + scikit-learn, or Apache Spark."""


class ProjectSpec(BaseModel):
    """The definition of a project."""

    model_config = ConfigDict(frozen=True)

    key: str
    name: str
    description: str = ""
    engine: EngineName = Field(
        default="local", description="The engine recipes and Lab tasks use unless they name one."
    )
    created_at: datetime = Field(default_factory=utc_now)
