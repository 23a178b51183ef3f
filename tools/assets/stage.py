"""Stage a family's locked members (fetched and hash-checked) into a directory for the wheel build."""

from __future__ import annotations

import json
import shutil
import zipfile
from typing import TYPE_CHECKING

from tools.assets.families import spec
from tools.assets.fetch import fetch, log
from tools.assets.lockfile import Lock, load, lock_path
from tools.assets.lockgen import check_roots, members_from
from tools.assets.paths import STAGED, package_dir, staging_dir
from tools.assets.tasks import assets_of
from tools.assets.tree import AssetError
from tools.common.hashing import sha256_bytes

if TYPE_CHECKING:
    from pathlib import Path


def stage_lock(lock: Lock, dest: Path, cache: Path | None = None, recompute: bool = True) -> Path:
    """Write every member of ``lock`` below ``dest`` (replacing it), each verified against its sha256.

    Artifacts come from the cache or the index (verified too). With ``recompute``, the member list is
    recomputed from the artifact and the task roots recorded in the lock and must equal the lock's.
    """
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    by_artifact = {art.filename: fetch(art, cache) for art in lock.artifacts}
    for art_name, path in by_artifact.items():
        with zipfile.ZipFile(path) as zf:
            if recompute:
                fspec = spec(lock.family)
                expected = sorted(m.path for m in members_from(fspec, zf, art_name, list(lock.roots)))
                if expected != lock.paths():
                    raise AssetError(
                        f"{lock.family}: the lock's members differ from the closure computed from {art_name} "
                        f"(extra {sorted(set(lock.paths()) - set(expected))}, lacking "
                        f"{sorted(set(expected) - set(lock.paths()))}); run `python -m tools.assets lock {lock.family}`"
                    )
            for member in (m for m in lock.members if m.artifact == art_name):
                try:
                    data = zf.read(member.source)
                except KeyError:
                    raise AssetError(f"member {member.path}: {member.source} is not in {art_name}") from None
                got = sha256_bytes(data)
                if got != member.sha256 or len(data) != member.size:
                    raise AssetError(
                        f"member {member.path} ({member.source} in {art_name}): sha256 mismatch: "
                        f"locked {member.sha256} ({member.size} bytes), got {got} ({len(data)} bytes)"
                    )
                target = tmp / member.path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            for lic in lock.licenses:
                if lic.artifact != art_name or lic.source is None:
                    continue
                got = sha256_bytes(zf.read(lic.source))
                if got != lic.sha256:
                    raise AssetError(f"license {lic.file} ({lic.source} in {art_name}): sha256 mismatch")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.replace(dest)
    log(f"staged {len(lock.members)} {lock.family} members in {dest}")
    return dest


def stage(family: str, dest: Path | None = None, pkg_dir: Path | None = None) -> Path:
    """Stage ``family`` after checking its lock against tasks.py; returns the staging directory."""
    lock = load(lock_path(pkg_dir or package_dir(family)))
    check_roots(lock, assets_of(family))
    return stage_lock(lock, dest or staging_dir(family))


def manifest(lock: Lock, version: str) -> str:
    """The asset contract shipped as ``<package>/data/manifest.json``: family, version, every file's hash."""
    data = {
        "family": lock.family,
        "distribution": lock.distribution,
        "version": version,
        "files": {
            m.path: {"sha256": m.sha256, "size": m.size, "license": m.license}
            for m in sorted(lock.members, key=lambda m: m.path)
        },
    }
    return json.dumps(data, indent=2) + "\n"


def stage_package(family: str, version: str) -> Path:
    """Stage ``family``'s members and manifest into its package's ``staged/`` (what its sdist carries)."""
    pkg = package_dir(family)
    lock = load(lock_path(pkg))
    check_roots(lock, assets_of(family))
    dest = stage_lock(lock, pkg / STAGED)
    (dest / "manifest.json").write_text(manifest(lock, version), encoding="utf-8")
    return dest
