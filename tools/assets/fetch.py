"""Locked upstream artifacts in the build's cache: fetched through the one index client, verified on every use.

Which index and which certificates: the rule of the one client, ``envpool/package_index.py`` (docs/assets.md,
"Which package index"), loaded by :mod:`tools.common.index`. Used by the asset and library builds.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from tools.assets.paths import cache_dir
from tools.assets.tree import AssetError
from tools.common.hashing import sha256_file
from tools.common.index import client

if TYPE_CHECKING:
    from pathlib import Path

    from tools.assets.lockfile import Artifact


def log(message: str) -> None:
    """A progress line on stderr (build frontends show it)."""
    print(f"[envpool-assets] {message}", file=sys.stderr, flush=True)


def find(name: str, filename: str, index: str | None = None) -> tuple[str, str | None]:
    """The download URL of ``filename`` on the simple index page of project ``name``, and its listed sha256."""
    chosen = client.choose_index(index)
    try:
        files = client.list_files(chosen, name)
    except client.IndexAccessError as exc:
        raise AssetError(f"{filename}: {exc}") from None
    for listed in files:
        if listed.filename == filename:
            return listed.url, listed.sha256
    raise AssetError(f"{filename}: not listed on the index page of {name} ({chosen.describe()})")


def verify(path: Path, artifact: Artifact) -> None:
    """Raise AssetError naming the artifact if the file's sha256 is not the locked one."""
    got = sha256_file(path)
    if got != artifact.sha256:
        raise AssetError(
            f"artifact {artifact.filename}: sha256 mismatch: locked {artifact.sha256}, got {got} ({path}); "
            "delete the cached file to refetch, or re-lock with `python -m tools.assets lock` if the pin changed"
        )


def download(url: str, target: Path, label: str) -> None:
    """Stream ``url`` to ``target`` (which appears only when complete) with progress lines."""
    try:
        client.download(url, target, label=label, log=log)
    except client.IndexAccessError as exc:
        raise AssetError(f"{label}: {exc}") from None


def fetch(artifact: Artifact, cache: Path | None = None) -> Path:
    """The verified cached file of ``artifact``, downloading it from the index if it is not cached."""
    cache = cache or cache_dir()
    path = cache / artifact.filename
    if path.is_file():
        log(f"using cached {artifact.filename}")
    else:
        download(find(artifact.name, artifact.filename)[0], path, artifact.filename)
    verify(path, artifact)
    return path
