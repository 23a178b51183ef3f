"""``envpool assets export``: write a family's assets, from wherever the runtime finds them, into a store."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from envpool import store
from envpool.errors import BrokenInstallError
from envpool.manifest import MANIFEST, read_manifest, verify_tree
from envpool.resolution import locate

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def export(family: str, dest: Path, log: Callable[[str], None] = store.stderr_log) -> store.PublishResult:
    """Write ``family``'s assets into the store ``dest`` through :func:`envpool.store.publish`.

    The source must verify (every sha256) first; the copy is verified again before it appears.
    """
    source = locate(family)
    problems = source.problems(full=True)
    if problems:
        listed = "; ".join(str(p) for p in problems[:5])
        raise BrokenInstallError(
            f"refusing to export broken {family} assets ({source.describe()}): {listed}. Fix: {source.fix()}"
        )
    manifest = read_manifest(source.root)

    def populate(tree: Path) -> None:
        for entry in manifest.files:
            target = tree / entry.path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source.root / entry.path, target)
        shutil.copyfile(source.root / MANIFEST, tree / MANIFEST)

    def is_good(root: Path) -> list[str]:
        return [str(p) for p in verify_tree(root, family, source.version, full=True)]

    need = sum(entry.size for entry in manifest.files) + (source.root / MANIFEST).stat().st_size
    return store.publish(
        dest,
        family,
        source.version,
        populate=populate,
        is_good=is_good,
        log=log,
        retry=store.export_retry(family),
        need_bytes=need,
    )
