"""A read-only file tree addressed by POSIX relative paths: a directory or a prefix of a zip."""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import zipfile
    from pathlib import Path


class AssetError(RuntimeError):
    """An asset could not be locked, fetched, verified, staged or resolved; the message names it."""


class Tree(Protocol):
    """Files addressed by normalized POSIX paths relative to the tree's root."""

    def exists(self, rel: str) -> bool:
        """True if ``rel`` names a regular file of the tree."""
        ...

    def read(self, rel: str) -> bytes:
        """The bytes of file ``rel``."""
        ...

    def files(self) -> list[str]:
        """Every file of the tree, sorted."""
        ...


def normalize(rel: str) -> str:
    """``rel`` normalized; raises AssetError if it is absolute or leaves the tree's root."""
    if rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):
        raise AssetError(f"absolute path {rel!r} cannot be packaged")
    norm = posixpath.normpath(rel.replace("\\", "/"))
    if norm == ".." or norm.startswith("../"):
        raise AssetError(f"path {rel!r} leaves the asset root")
    return norm


class DirTree:
    """A directory on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def exists(self, rel: str) -> bool:
        """True if ``rel`` is a regular file below the root."""
        return (self.root / rel).is_file()

    def read(self, rel: str) -> bytes:
        """The bytes of ``rel``."""
        return (self.root / rel).read_bytes()

    def files(self) -> list[str]:
        """Every regular file below the root, as sorted POSIX relative paths."""
        return sorted(p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())


class ZipTree:
    """The members of a zip (a wheel) below ``prefix`` (e.g. ``gymnasium_robotics/envs/assets/``)."""

    def __init__(self, zf: zipfile.ZipFile, prefix: str = "") -> None:
        self.zf = zf
        self.prefix = prefix
        self.infos = {
            info.filename[len(prefix) :]: info
            for info in zf.infolist()
            if info.filename.startswith(prefix) and not info.is_dir()
        }

    def exists(self, rel: str) -> bool:
        """True if ``prefix + rel`` is a member."""
        return rel in self.infos

    def read(self, rel: str) -> bytes:
        """The bytes of member ``prefix + rel``."""
        return self.zf.read(self.infos[rel])

    def files(self) -> list[str]:
        """Every member below the prefix, relative to it, sorted."""
        return sorted(self.infos)

    def compress_size(self, rel: str) -> int:
        """The member's stored (compressed) size in the zip."""
        return self.infos[rel].compress_size
