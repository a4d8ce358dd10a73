"""Helpers shared by tests."""

from __future__ import annotations

from pathlib import Path


def tree(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` with its content, to assert nothing changed."""
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }
