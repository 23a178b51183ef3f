"""Where a family's asset files come from, and whether they are intact.

The installed asset package of this version comes first; when it is not installed, an asset store
(``ENVPOOL_ASSETS_PATH``, then the fetch cache) of the same version stands in for it. Every tree
carries a ``manifest.json`` with each file's sha256 and size (see the asset contract).
"""

from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from envpool._version import __version__
from envpool.errors import BrokenInstallError, MissingExtraError, VersionSkewError
from envpool.families import FAMILIES, Family, Sibling, check_siblings, installed_version

MANIFEST = "manifest.json"
_CHUNK = 1 << 20

Origin = Literal["package", "store"]


def asset_sibling(family: Family) -> Sibling | None:
    """The family's asset distribution, if it has one."""
    for sib in family.siblings:
        if sib.import_name.startswith("envpool_assets_"):
            return sib
    return None


def asset_package(family: Family) -> str | None:
    """The import name of the family's asset package, if it has one."""
    sib = asset_sibling(family)
    return None if sib is None else sib.import_name


def asset_families() -> list[str]:
    """The names of the families that have assets."""
    return [name for name, fam in FAMILIES.items() if asset_sibling(fam) is not None]


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
class AssetSource:
    """Where one family's assets are read from."""

    family: str
    origin: Origin
    root: Path
    version: str
    distribution: str  # the asset distribution this tree is (or stands in for)

    def describe(self) -> str:
        """One line: origin, version and root."""
        what = f"package {self.distribution}" if self.origin == "package" else "store"
        return f"{what} {self.version} at {self.root}"

    def fix(self) -> str:
        """How to repair this tree."""
        if self.origin == "package":
            return f'pip install --force-reinstall --no-deps "{self.distribution}=={self.version}"'
        return (
            f"export or fetch the {self.family} tree again into an empty directory "
            f"(envpool assets fetch {self.family} --dest DIR) and point ENVPOOL_ASSETS_PATH at it"
        )


def _family(name: str) -> tuple[Family, Sibling]:
    family = FAMILIES.get(name)
    if family is None:
        raise KeyError(f"unknown family {name!r}; known families: {', '.join(sorted(FAMILIES))}")
    sib = asset_sibling(family)
    if sib is None:
        raise ValueError(f"the {name} family has no assets; families with assets: {', '.join(asset_families())}")
    return family, sib


def locate(family_name: str) -> AssetSource:
    """Where ``family_name``'s assets are: its asset package if installed, else a store.

    Raises MissingExtraError (neither exists), VersionSkewError (the one found has another version)
    or BrokenInstallError (the asset package is installed but cannot be imported).
    """
    from envpool import store

    family, sib = _family(family_name)
    required = sib.version or __version__
    found = installed_version(sib.distribution)
    if found is not None:
        if found != required:
            raise VersionSkewError(
                f"the {family.name} family needs {sib.distribution}=={required} (envpool {__version__}), "
                f"but {sib.distribution} {found} is installed. Fix it with:\n    {family.pip_line()}"
            )
        try:
            module = importlib.import_module(sib.import_name)
            root = Path(module.root())
        except Exception as exc:
            raise BrokenInstallError(
                f"{sib.distribution} {found} is installed but unusable ({type(exc).__name__}: {exc}). "
                f'Reinstall it with:\n    pip install --force-reinstall --no-deps "{sib.distribution}=={found}"'
            ) from exc
        return AssetSource(family.name, "package", root, found, sib.distribution)
    entry = store.find(family.name)
    if entry is None:
        raise MissingExtraError(
            f"the {family.name} family needs {sib.distribution}, which is not installed. "
            f"Install it with:\n    {family.pip_line()}\n{store.missing_hint(family.name)}"
        )
    store.check_store(family.name, required)
    return AssetSource(family.name, "store", entry.root, entry.version, sib.distribution)


@dataclass(frozen=True)
class Problem:
    """One file of an asset tree that is not as its manifest says."""

    path: str
    kind: Literal["missing", "size", "changed", "unreadable", "manifest"]
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.path} ({self.detail})"


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


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


def verify(source: AssetSource, full: bool = True) -> list[Problem]:
    """Every problem of a located asset tree (full sha256 check unless ``full`` is False)."""
    return verify_tree(source.root, source.family, source.version, full)


_checked: dict[str, Path] = {}


def asset_root(family_name: str) -> Path:
    """The directory holding ``family_name``'s assets, after checking versions and file sizes.

    Raises MissingExtraError, VersionSkewError (naming the fix) or BrokenInstallError (naming each
    missing or truncated file) before any file is read by C++. Never writes anything.
    """
    family, _ = _family(family_name)
    check_siblings(family)
    source = locate(family_name)
    if _checked.get(family_name) == source.root:
        return source.root
    problems = verify(source, full=False)
    if problems:
        listed = "\n    ".join(str(p) for p in problems[:10])
        more = f"\n    ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise BrokenInstallError(
            f"the {family_name} assets ({source.describe()}) are broken:\n    {listed}{more}\n"
            f"Fix: {source.fix()}. `envpool assets verify {family_name}` checks every file's sha256."
        )
    _checked[family_name] = source.root
    return source.root
