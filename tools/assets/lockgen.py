"""Generate and check a family's lock from the registered tasks and the pinned upstream artifact."""

from __future__ import annotations

import zipfile
from typing import TYPE_CHECKING

from tools.assets.families import FamilySpec, spec
from tools.assets.fetch import fetch, find, log
from tools.assets.lockfile import Artifact, LicenseFile, Lock, Member, load, lock_path, save
from tools.assets.paths import cache_dir, package_dir
from tools.assets.tasks import assets_of
from tools.assets.tree import AssetError, ZipTree
from tools.common.hashing import sha256_bytes, sha256_file

if TYPE_CHECKING:
    from pathlib import Path


def members_from(fspec: FamilySpec, zf: zipfile.ZipFile, artifact: str, roots: list[str]) -> list[Member]:
    """The members the family takes from an open artifact, computed from the task roots."""
    tree = ZipTree(zf, fspec.source_prefix)
    out = []
    for path in fspec.expand(tree, roots):
        info = tree.infos[path]
        data = zf.read(info)
        out.append(
            Member(
                artifact, info.filename, path, sha256_bytes(data), len(data), info.compress_size, fspec.license_of(path)
            )
        )
    return out


def generate(family: str, pkg_dir: Path | None = None, cache: Path | None = None) -> Lock:
    """Lock ``family``: fetch its pinned artifact (checked against the index's sha256), compute the
    members from tasks.py, copy the upstream license texts into the package, and write the lock."""
    fspec = spec(family)
    pkg_dir = pkg_dir or package_dir(family)
    _url, listed_sha = find(fspec.artifact_name, fspec.artifact_filename)
    if not listed_sha:
        raise AssetError(f"{fspec.artifact_filename}: the index lists no sha256 to pin")
    provisional = Artifact(fspec.artifact_name, fspec.artifact_version, fspec.artifact_filename, listed_sha, 0)
    path = fetch(provisional, cache)
    artifact = Artifact(provisional.name, provisional.version, provisional.filename, listed_sha, path.stat().st_size)
    roots = assets_of(family)
    with zipfile.ZipFile(path) as zf:
        members = members_from(fspec, zf, artifact.filename, roots)
        licenses = []
        for source, dest in fspec.upstream_licenses:
            data = zf.read(source)
            (pkg_dir / dest).parent.mkdir(parents=True, exist_ok=True)
            (pkg_dir / dest).write_bytes(data)
            licenses.append(LicenseFile(dest, sha256_bytes(data), artifact.filename, source))
    upstream = {dest for _source, dest in fspec.upstream_licenses}
    for local in sorted((pkg_dir / "licenses").glob("*")):
        rel = local.relative_to(pkg_dir).as_posix()
        if local.is_file() and rel not in upstream:
            licenses.append(LicenseFile(rel, sha256_file(local), None, None))
    lock = Lock(
        family=family,
        distribution=fspec.distribution,
        import_name=fspec.import_name,
        roots=tuple(roots),
        artifacts=(artifact,),
        members=tuple(members),
        licenses=tuple(licenses),
    )
    save(lock, lock_path(pkg_dir))
    log(f"wrote {lock_path(pkg_dir)}: {len(members)} members, {sum(m.size for m in members)} bytes")
    return lock


def check_roots(lock: Lock, roots: list[str]) -> None:
    """Raise AssetError if the lock does not match the registered tasks' asset list."""
    fix = f"run `python -m tools.assets lock {lock.family}`"
    missing = sorted(set(roots) - set(lock.paths()))
    if missing:
        raise AssetError(f"tasks.py lists {', '.join(missing)}, which the {lock.family} lock lacks; {fix}")
    if sorted(lock.roots) != sorted(roots):
        gone = sorted(set(lock.roots) - set(roots))
        raise AssetError(f"the {lock.family} lock was made for roots no task uses any more ({', '.join(gone)}); {fix}")


def check(family: str, pkg_dir: Path | None = None, tasks_file: Path | None = None) -> list[str]:
    """Verify ``family``'s lock against tasks.py, the spec and the committed license files.

    Returns notes; raises AssetError on the first mismatch. If the artifact is cached, the member list
    is recomputed from it and must equal the lock's.
    """
    fspec = spec(family)
    pkg_dir = pkg_dir or package_dir(family)
    lock = load(lock_path(pkg_dir))
    fix = f"run `python -m tools.assets lock {family}`"
    roots = assets_of(family, tasks_file)
    check_roots(lock, roots)
    if [a.filename for a in lock.artifacts] != [fspec.artifact_filename]:
        raise AssetError(
            f"the {family} lock pins {[a.filename for a in lock.artifacts]}, the spec {fspec.artifact_filename}; {fix}"
        )
    for lic in lock.licenses:
        file = pkg_dir / lic.file
        if not file.is_file() or sha256_file(file) != lic.sha256:
            raise AssetError(f"{file}: missing or not the locked license text; {fix}")
    notes = []
    cached = cache_dir() / fspec.artifact_filename
    if cached.is_file():
        with zipfile.ZipFile(cached) as zf:
            expected = [m.path for m in members_from(fspec, zf, fspec.artifact_filename, roots)]
        if expected != lock.paths():
            extra = sorted(set(lock.paths()) - set(expected))
            lacking = sorted(set(expected) - set(lock.paths()))
            raise AssetError(f"the {family} lock is stale (extra: {extra}, lacking: {lacking}); {fix}")
        notes.append(f"{family}: member list recomputed from the cached artifact: {len(expected)} files, exact")
    else:
        notes.append(f"{family}: artifact not cached, member list not recomputed (staging does it)")
    return notes
