"""envpool's robotics asset files (data only; see the asset contract in docs/assets.md).

``root()`` is the directory holding the files, laid out as the paths in envpool's tasks.py;
``manifest()`` lists each file with its sha256, size and license.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from envpool_assets_robotics._version import __version__  # type: ignore[import-not-found,unused-ignore]

__all__ = ["__version__", "manifest", "root"]


def root() -> Path:
    """The directory holding the asset files."""
    return Path(__file__).resolve().parent / "data"


def manifest() -> dict[str, Any]:
    """The build-time manifest: family, distribution, version and every file's sha256/size/license."""
    data: dict[str, Any] = json.loads((root() / "manifest.json").read_text(encoding="utf-8"))
    return data
