"""Hatchling build hook of an envpool asset package (packages/assets-*/hatch_build.py link here).

From the git tree it stages the locked members with the repository's ``tools.assets`` (fetching
the pinned upstream artifact into the artifact cache and checking every sha256); from an sdist it
uses the members the sdist carries in ``staged/``, so building the wheel needs no network. Either
way every member is checked against ``assets.lock.json`` before it is packaged. The wheel also gets
a generated ``_version.py`` and ``data/manifest.json`` (the asset contract).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

STAGED = "staged"  # folder of the sdist holding the staged members
LOCK = "assets.lock.json"


class AssetBuildError(RuntimeError):
    """A member is missing or not the locked file."""


def verify_staged(staged: Path, lock: dict[str, Any]) -> None:
    """Raise AssetBuildError naming the first staged member that is missing or differs from the lock."""
    for member in lock["members"]:
        path = staged / member["path"]
        if not path.is_file():
            raise AssetBuildError(f"member {member['path']}: missing from {staged}")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != member["sha256"]:
            raise AssetBuildError(
                f"member {member['path']} ({member['source']} in {member['artifact']}): sha256 mismatch: "
                f"locked {member['sha256']}, staged {digest}"
            )


def stage_from_repository(package_root: Path, family: str) -> Path:
    """Stage the members with the repository's tools.assets (git-tree builds only)."""
    repo = package_root.resolve().parents[1]
    if not (repo / "tools" / "assets" / "stage.py").is_file():
        raise AssetBuildError(
            f"{package_root}: no {STAGED}/ folder (not an sdist) and no tools/assets in {repo} (not the git tree); "
            "build from the envpool repository or from the package's sdist"
        )
    sys.path.insert(0, str(repo))
    try:
        from tools.assets.stage import stage
        from tools.assets.tree import AssetError

        try:
            return stage(family, pkg_dir=package_root)
        except AssetError as exc:
            raise AssetBuildError(str(exc)) from None
    finally:
        sys.path.remove(str(repo))


class AssetBuildHook(BuildHookInterface):  # type: ignore[misc,type-arg,unused-ignore]
    """Stage (or reuse) the locked members and add them, the manifest and the version module."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Called by hatchling before it builds the sdist or the wheel."""
        root = Path(self.root)
        lock: dict[str, Any] = json.loads((root / LOCK).read_text(encoding="utf-8"))
        # Reproducible archives: hatchling stamps every entry with SOURCE_DATE_EPOCH.
        os.environ.setdefault("SOURCE_DATE_EPOCH", str(lock["source_date_epoch"]))
        staged = root / STAGED
        if not staged.is_dir():
            staged = stage_from_repository(root, lock["family"])
        verify_staged(staged, lock)
        include: dict[str, str] = build_data["force_include"]
        members = sorted(lock["members"], key=lambda m: m["path"])
        if self.target_name == "sdist":
            # hatchling adds the repository's .gitignore to every sdist; ours lists its files explicitly
            for source in [s for s, target in include.items() if target == ".gitignore"]:
                del include[source]
            version_file = root / "VERSION"
            # The sdist must carry the real file, not the repository's symlink. (This hook file is a
            # symlink too: hatchling always adds it as it is, and tools.build dereferences it.)
            if version_file.is_symlink():
                include[str(version_file.resolve())] = "VERSION"
            for member in members:
                include[str(staged / member["path"])] = f"{STAGED}/{member['path']}"
            return
        if self.target_name != "wheel":
            return
        package = lock["import_name"]
        self._generated = Path(tempfile.mkdtemp(prefix="envpool-assets-build-"))
        manifest = {
            "family": lock["family"],
            "distribution": lock["distribution"],
            "version": self.metadata.version,
            "files": {m["path"]: {"sha256": m["sha256"], "size": m["size"], "license": m["license"]} for m in members},
        }
        (self._generated / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        (self._generated / "_version.py").write_text(
            f'"""The version of this asset package (generated at build time)."""\n\n'
            f'__version__ = "{self.metadata.version}"\n',
            encoding="utf-8",
        )
        include[str(self._generated / "_version.py")] = f"{package}/_version.py"
        include[str(self._generated / "manifest.json")] = f"{package}/data/manifest.json"
        for member in members:
            include[str(staged / member["path"])] = f"{package}/data/{member['path']}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the generated files."""
        generated = getattr(self, "_generated", None)
        if generated is not None:
            shutil.rmtree(generated, ignore_errors=True)
