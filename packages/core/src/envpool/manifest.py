"""The asset contract: a tree's ``manifest.json`` (each file's sha256 and size) and checking a tree against it.

Every asset tree, inside an asset package or in a store, carries a manifest. This module only reads
and checks; where a family's tree comes from is :mod:`envpool.resolution`'s job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from envpool.errors import BrokenInstallError

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ManifestFile:
    """One file listed in a manifest."""

    path: str  # relative, POSIX separators
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    """A parsed, validated manifest.json."""

    family: str
    distribution: str
    version: str
    files: tuple[ManifestFile, ...]


def safe_relpath(path: str) -> str:
    """``path`` when it is a plain relative POSIX path inside the tree; ValueError otherwise."""
    pure = PurePosixPath(path)
    if not path or "\\" in path or pure.is_absolute() or any(part in ("", ".", "..") for part in path.split("/")):
        raise ValueError(f"unsafe path {path!r} in an asset manifest")
    return path


def parse_manifest(data: object, where: str) -> Manifest:
    """Validate the JSON of a manifest; BrokenInstallError names ``where`` when it is malformed."""
    try:
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        files = data["files"]
        if not isinstance(files, dict):
            raise ValueError("'files' is not an object")
        entries = []
        for rel, info in sorted(files.items()):
            if not isinstance(info, dict):
                raise ValueError(f"entry {rel!r} is not an object")
            sha, size = info["sha256"], info["size"]
            if not isinstance(sha, str) or len(sha) != 64 or not isinstance(size, int) or size < 0:
                raise ValueError(f"entry {rel!r} needs a hex 'sha256' and an int 'size'")
            entries.append(ManifestFile(safe_relpath(rel), sha.lower(), size))
        return Manifest(str(data["family"]), str(data.get("distribution", "")), str(data["version"]), tuple(entries))
    except (KeyError, ValueError) as exc:
        raise BrokenInstallError(f"{where} is not a valid asset manifest ({exc})") from exc


def read_manifest(root: Path) -> Manifest:
    """The manifest of the tree at ``root``; BrokenInstallError when it is missing or unreadable."""
    path = root / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BrokenInstallError(f"the asset manifest {path} is missing or unreadable ({exc})") from exc
    return parse_manifest(data, str(path))


@dataclass(frozen=True)
class Problem:
    """One file of an asset tree that is not as its manifest says."""

    path: str
    kind: Literal["missing", "size", "changed", "unreadable", "manifest"]
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.path} ({self.detail})"


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file."""
    from envpool.package_index import sha256_copy  # the runtime's one sha256 helper (its networking stays unloaded)

    with path.open("rb") as fh:
        return sha256_copy(fh)


def verify_tree(root: Path, family: str, version: str, full: bool = True) -> list[Problem]:
    """Every problem of the tree at ``root`` against its manifest (sizes only unless ``full``)."""
    try:
        manifest = read_manifest(root)
    except BrokenInstallError as exc:
        return [Problem(MANIFEST, "manifest", str(exc))]
    problems = []
    if manifest.family != family or manifest.version != version:
        problems.append(
            Problem(
                MANIFEST,
                "manifest",
                f"describes {manifest.family} {manifest.version}, expected {family} {version}",
            )
        )
    for entry in manifest.files:
        path = root / entry.path
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            problems.append(Problem(entry.path, "missing", f"expected {entry.size} bytes"))
            continue
        except OSError as exc:
            problems.append(Problem(entry.path, "unreadable", str(exc)))
            continue
        if size != entry.size:
            problems.append(Problem(entry.path, "size", f"{size} bytes, expected {entry.size}"))
            continue
        if full:
            try:
                digest = file_sha256(path)
            except OSError as exc:
                problems.append(Problem(entry.path, "unreadable", str(exc)))
                continue
            if digest != entry.sha256:
                problems.append(Problem(entry.path, "changed", f"sha256 {digest}, expected {entry.sha256}"))
    return problems
