"""The shared, read-only asset store: asset trees outside site-packages, one copy for many venvs.

Layout of a store directory: ``<store>/<family>/manifest.json`` plus the files the manifest lists,
exactly as inside the asset package (see the asset contract). ``ENVPOOL_ASSETS_PATH`` names one or
more stores (separated by ``os.pathsep``); the fetch cache of this envpool version is searched after
them. The runtime only reads stores (:mod:`envpool.resolution` checks the version of the tree it
finds); :func:`publish` (used by ``envpool assets export`` and ``envpool assets fetch``) is the one
writer, and it never replaces a good tree.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envpool._version import __version__
from envpool.errors import BrokenInstallError, EnvpoolError
from envpool.manifest import MANIFEST

if TYPE_CHECKING:
    from collections.abc import Callable

ENV_VAR = "ENVPOOL_ASSETS_PATH"
CACHE_ENV_VAR = "ENVPOOL_CACHE_DIR"


class StoreWriteError(EnvpoolError, OSError):
    """A store directory cannot be written, or holds something that must not be replaced."""


@dataclass(frozen=True)
class StoreEntry:
    """One family's asset tree in a store."""

    store: Path  # the store directory
    family: str
    version: str  # from the tree's manifest.json

    @property
    def root(self) -> Path:
        """The family's asset root inside the store."""
        return self.store / self.family


def configured_stores() -> list[Path]:
    """The stores named by ``ENVPOOL_ASSETS_PATH``, in order (empty when it is unset)."""
    value = os.environ.get(ENV_VAR, "")
    return [Path(part).expanduser() for part in value.split(os.pathsep) if part.strip()]


def cache_base() -> Path:
    """The user cache directory of envpool (``ENVPOOL_CACHE_DIR`` overrides platformdirs' choice)."""
    override = os.environ.get(CACHE_ENV_VAR)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("envpool", appauthor=False))


def cache_store(version: str = __version__) -> Path:
    """The store that ``envpool assets fetch`` fills by default, one per envpool version."""
    return cache_base() / "assets" / version


def search_path() -> list[Path]:
    """Where the runtime looks for a family's assets when its asset package is not installed."""
    return [*configured_stores(), cache_store()]


def read_store_manifest(path: Path) -> dict[str, object]:
    """The parsed manifest.json of a store tree; BrokenInstallError names the file when unusable."""
    try:
        data: object = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BrokenInstallError(
            f"the asset store file {path} is unreadable ({exc}). Export or fetch the tree again "
            f"(envpool assets export / envpool assets fetch) into an empty directory."
        ) from exc
    valid = isinstance(data, dict) and isinstance(data.get("version"), str) and isinstance(data.get("files"), dict)
    if not valid:
        raise BrokenInstallError(
            f"the asset store file {path} is not an envpool asset manifest (it needs 'version' and 'files'). "
            "Export or fetch the tree again into an empty directory."
        )
    assert isinstance(data, dict)
    return {str(k): v for k, v in data.items()}


def find(family: str) -> StoreEntry | None:
    """The first store on the search path that holds ``family``, or None."""
    for store in search_path():
        manifest = store / family / MANIFEST
        if manifest.is_file():
            data = read_store_manifest(manifest)
            if data.get("family") not in (None, family):
                raise BrokenInstallError(
                    f"{manifest} describes the {data.get('family')!r} family, not {family!r}: the store layout is "
                    "<store>/<family>/manifest.json. Export the tree again with envpool assets export."
                )
            return StoreEntry(store, family, str(data["version"]))
    return None


def missing_hint(family: str) -> str:
    """One line telling how to satisfy ``family``'s assets with a store instead of the extra."""
    stores = configured_stores()
    if stores:
        where = f"{ENV_VAR}={os.pathsep.join(map(str, stores))} holds no {family}/manifest.json"
    else:
        where = f"{ENV_VAR} is unset"
    return (
        f"or point {ENV_VAR} at an asset store holding {family} {__version__} "
        f"(envpool assets fetch {family}; envpool assets export {family} DIR); {where}."
    )


def stderr_log(message: str) -> None:
    """Print a progress message to stderr."""
    print(message, file=sys.stderr)


#: How ``envpool assets fetch`` lets the user write elsewhere (``publish``'s default ``retry``).
FETCH_RETRY = (
    f"Choose a writable directory with --dest DIR (then set {ENV_VAR}=DIR), or set {CACHE_ENV_VAR} to a "
    "writable cache directory."
)


def export_retry(family: str) -> str:
    """How ``envpool assets export`` lets the user write elsewhere."""
    return f"Choose another directory: envpool assets export {family} DIR (then set {ENV_VAR}=DIR)."


def _free_bytes(path: Path) -> int | None:
    """Free bytes on the file system holding ``path`` (or its nearest existing parent)."""
    for candidate in (path, *path.parents):
        try:
            return shutil.disk_usage(candidate).free
        except OSError:
            continue
    return None


def _writable_error(path: Path, exc: OSError, retry: str = FETCH_RETRY) -> StoreWriteError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        free = _free_bytes(path)
        left = f"{free} bytes free" if free is not None else "free space unknown"
        return StoreWriteError(
            f"cannot write to {path}: no space left on the device ({left}). Nothing was changed: the partial "
            f"copy was removed. Free some space and run the same command again. {retry}"
        )
    return StoreWriteError(f"cannot write to {path}: {exc.strerror or exc}. Nothing was changed. {retry}")


@dataclass(frozen=True)
class PublishResult:
    """What :func:`publish` did."""

    root: Path
    action: str  # "written", "replaced" (a broken tree of the same version) or "present" (already good)


def _existing(
    target: Path,
    family: str,
    version: str,
    is_good: Callable[[Path], list[str]],
    *,
    log: Callable[[str], None],
    quiet: bool,
) -> str:
    """State of ``target``: "absent", "good" or "broken" (same version); StoreWriteError when it must be kept."""
    if not target.exists():
        return "absent"
    manifest = target / MANIFEST
    if not manifest.is_file():
        if target.is_dir() and not any(target.iterdir()):
            if not quiet:
                target.rmdir()
            return "absent"
        raise StoreWriteError(
            f"{target} exists and is not an envpool asset tree (no {MANIFEST}); nothing was changed. "
            "Remove it or choose another directory."
        )
    try:
        found: str | None = str(read_store_manifest(manifest)["version"])
    except BrokenInstallError:
        found = None
    if found is not None and found != version:
        raise StoreWriteError(
            f"{target} holds {family} assets version {found}, not {version}; nothing was changed. "
            "A store holds one version per family: choose another directory, or remove that tree."
        )
    problems = is_good(target) if found is not None else [f"{manifest} is unreadable"]
    if not problems:
        return "good"
    if not quiet:
        log(f"{target} is broken ({'; '.join(problems[:3])}); replacing it")
    return "broken"


def publish(
    store: Path,
    family: str,
    version: str,
    *,
    populate: Callable[[Path], None],
    is_good: Callable[[Path], list[str]],
    log: Callable[[str], None] = stderr_log,
    retry: str = FETCH_RETRY,
    need_bytes: int | None = None,
) -> PublishResult:
    """Create ``store/family`` atomically: ``populate(tmp)`` fills a temporary tree, then a rename.

    ``is_good(root)`` returns the problems of a tree (empty when it verifies). Holding a file lock on
    ``store/.family.lock``: an existing good tree of ``version`` is kept as is; a tree of another version
    or a directory that is not an asset tree raises StoreWriteError (nothing is deleted); a broken tree
    of ``version`` is replaced. Interrupted runs leave only ``.family.tmp-*`` directories, which are never
    read and are removed by the next run. ``retry`` tells how to write elsewhere (in error messages);
    with ``need_bytes``, a file system with less free space is refused before anything is written.
    """
    from filelock import FileLock, Timeout

    target = store / family
    if _existing(target, family, version, is_good, log=log, quiet=True) == "good":
        return PublishResult(target, "present")  # nothing to do: not even a lock file is written
    try:
        store.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(store / f".{family}.lock"))
        try:
            lock.acquire(timeout=1)
        except Timeout:
            log(f"waiting for another process writing {target} (lock {lock.lock_file})...")
            lock.acquire()
    except OSError as exc:
        raise _writable_error(store, exc, retry) from exc
    try:
        for stale in store.glob(f".{family}.tmp-*"):  # left by a killed run; we hold the lock
            shutil.rmtree(stale, ignore_errors=True)
        state = _existing(target, family, version, is_good, log=log, quiet=False)
        if state == "good":  # another process wrote it while we waited
            return PublishResult(target, "present")
        replacing = state == "broken"
        free = _free_bytes(store)
        if need_bytes is not None and free is not None and free < need_bytes:
            raise StoreWriteError(
                f"cannot write to {store}: the {family} tree needs {need_bytes} bytes but its device has {free} "
                f"bytes free. Nothing was changed. Free some space and run the same command again. {retry}"
            )
        staging = store / f".{family}.tmp-{secrets.token_hex(4)}"
        try:
            staging.mkdir()
            tree = staging / family
            tree.mkdir()
            populate(tree)
            problems = is_good(tree)
            if problems:
                raise BrokenInstallError(f"the new {family} tree does not verify: {'; '.join(problems[:5])}")
            for path in tree.rglob("*"):
                if path.is_file():
                    path.chmod(0o444)
            if replacing:
                old = staging / "old"
                target.rename(old)
            tree.rename(target)
        except OSError as exc:
            if isinstance(exc, EnvpoolError):
                raise
            raise _writable_error(store, exc, retry) from exc
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return PublishResult(target, "replaced" if replacing else "written")
    finally:
        lock.release()
