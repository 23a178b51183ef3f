"""Assembly of the envpool-procgen-libs wheel from hash-locked upstream binaries (its PEP 517 backend runs it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools import REPO

if TYPE_CHECKING:
    from pathlib import Path


def package_dir() -> Path:
    """packages/procgen-libs in a checkout; the sdist's root when the wheel is built from the sdist."""
    tree = REPO / "packages" / "procgen-libs"
    return tree if tree.is_dir() else REPO
