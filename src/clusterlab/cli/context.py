"""What the root options set for every command."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clusterlab.services.workspace import Workspace


@dataclass
class CliState:
    home: Path | None = None

    def workspace(self) -> Workspace:
        return Workspace(self.home)


state = CliState()
