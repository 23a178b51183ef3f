"""Assembly of the envpool-procgen-libs wheel from hash-locked upstream binaries (its PEP 517 backend runs it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools import REPO
from tools.release.release_set import package_of_kind

if TYPE_CHECKING:
    from pathlib import Path


def package_dir() -> Path:
    """The library package's directory in a checkout; the sdist's root when the wheel is built from the sdist."""
    tree = package_of_kind("library").path
    return tree if tree.is_dir() else REPO
