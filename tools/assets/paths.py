"""Where things live: the repository, the artifact cache, the asset packages."""

from __future__ import annotations

import os
from pathlib import Path

from tools import REPO
from tools.release.release_set import package_of_extra

#: The folder of an asset package (and of its sdist) holding the staged members; written by the build.
STAGED = "staged"


def repo_root() -> Path:
    """The repository root (the directory holding VERSION and tools/)."""
    return REPO


def cache_dir() -> Path:
    """The artifact cache: $ENVPOOL_ARTIFACT_CACHE, else .cache/artifacts at the repository root."""
    env = os.environ.get("ENVPOOL_ARTIFACT_CACHE")
    return Path(env) if env else repo_root() / ".cache" / "artifacts"


def package_dir(family: str) -> Path:
    """The source directory of the asset package of ``family`` (its row of the release set's table)."""
    return package_of_extra(family).path


def staging_dir(family: str) -> Path:
    """Where a git-tree build stages a family's members (inside the cache, never in the work tree)."""
    return cache_dir() / "staged" / family
