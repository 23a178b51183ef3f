"""``envpool assets fetch``: download the pinned asset wheel from a package index into a store.

For machines where pip cannot install the asset wheel (air-gapped clusters, read-only images, one
copy shared by many venvs). The index is the one pip is configured with (``--index-url``, else
``PIP_INDEX_URL``, else pip's config files, else PyPI), read through the simple API (PEP 503 HTML or
PEP 691 JSON). The wheel's sha256 must match the hash the index publishes, and each unpacked file
must match the wheel's manifest; the tree appears in the store only by an atomic rename, under a
file lock, so an interrupted or concurrent fetch never leaves a partial tree in use.
"""

from __future__ import annotations

import configparser
import hashlib
import http.client
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, TYPE_CHECKING

from envpool import store
from envpool._version import __version__
from envpool.assets import _family, parse_manifest, safe_relpath, verify_tree
from envpool.errors import EnvpoolError

if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_INDEX = "https://pypi.org/simple"
_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
_CHUNK = 1 << 16
_TIMEOUT = 60.0


class FetchError(EnvpoolError):
    """The asset wheel could not be found, downloaded or checked; nothing was installed."""


def normalize(name: str) -> str:
    """A distribution name normalized as in PEP 503."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _pip_config_index() -> str | None:
    """``index-url`` from pip's configuration files (global, then user, then site; later wins)."""
    files: list[Path] = []
    env_file = os.environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return None
    xdg = [Path(p) for p in os.environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep) if p]
    files += [p / "pip" / "pip.conf" for p in xdg] + [Path("/etc/pip.conf")]
    home = Path.home()
    config_home = Path(os.environ.get("XDG_CONFIG_HOME", home / ".config"))
    files += [home / ".pip" / "pip.conf", config_home / "pip" / "pip.conf", Path(sys.prefix) / "pip.conf"]
    if env_file:
        files.append(Path(env_file))
    parser = configparser.RawConfigParser()
    found: str | None = None
    for path in files:
        try:
            parser.read(path, encoding="utf-8")
        except (OSError, configparser.Error):
            continue
        for section in ("global", "download", "install"):
            if parser.has_option(section, "index-url"):
                found = parser.get(section, "index-url")
    return found


def index_url(given: str | None = None) -> str:
    """The index to use: ``given``, else PIP_INDEX_URL, else pip's config, else PyPI."""
    return (given or os.environ.get("PIP_INDEX_URL") or _pip_config_index() or DEFAULT_INDEX).strip()


@dataclass(frozen=True)
class IndexFile:
    """One file listed on a project's simple-API page."""

    filename: str
    url: str
    sha256: str | None


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


def _open(url: str) -> http.client.HTTPResponse:
    request = urllib.request.Request(url, headers={"Accept": _ACCEPT, "User-Agent": f"envpool/{__version__}"})
    response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=_TIMEOUT)
    return response


def list_files(index: str, distribution: str) -> list[IndexFile]:
    """The files the index lists for ``distribution`` (PEP 691 JSON or PEP 503 HTML)."""
    url = f"{index.rstrip('/')}/{normalize(distribution)}/"
    if url.startswith("file:"):  # a mirror on disk (as pip reads it): the page is the directory's index.html
        local = Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
        if not local.is_dir():
            raise FetchError(f"the index {index} has no project {distribution} ({local} does not exist)")
        url += "index.html"
    try:
        with _open(url) as response:
            body = response.read()
            final = response.geturl()
            ctype = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise FetchError(f"the index {index} has no project {distribution} ({url}: HTTP 404)") from exc
        raise FetchError(f"the index {index} answered HTTP {exc.code} for {url}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise FetchError(f"cannot reach the index {index} ({url}): {exc}") from exc
    files: list[IndexFile] = []
    if "json" in ctype:
        try:
            data = json.loads(body)
            for item in data["files"]:
                hashes = item.get("hashes") or {}
                url_ = urllib.parse.urljoin(final, item["url"])
                files.append(IndexFile(item["filename"], url_, hashes.get("sha256")))
        except (ValueError, KeyError, TypeError) as exc:
            raise FetchError(f"the index page {url} is not valid PEP 691 JSON ({exc})") from exc
        return files
    parser = _Links()
    parser.feed(body.decode("utf-8", "replace"))
    for href, text in parser.links:
        absolute = urllib.parse.urljoin(final, href)
        base, _, fragment = absolute.partition("#")
        sha = dict(urllib.parse.parse_qsl(fragment)).get("sha256")
        name = text or urllib.parse.unquote(base.rsplit("/", 1)[-1])
        files.append(IndexFile(name, base, sha))
    return files


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


def _progress(label: str, total: int | None) -> Callable[[int], None]:
    """A progress printer to stderr for downloads of 1 MB or more."""
    if total is None or total < 1_000_000:
        return lambda done: None
    tty = sys.stderr.isatty()
    last = [0.0]

    def show(done: int) -> None:
        now = time.monotonic()
        if done < total and now - last[0] < (0.2 if tty else 2.0):
            return
        last[0] = now
        text = f"{label}: {done / 1e6:.1f}/{total / 1e6:.1f} MB ({100 * done // total}%)"
        end = "\n" if (done >= total or not tty) else ""
        print(("\r" + text) if tty else text, end=end, file=sys.stderr, flush=True)

    return show


def download(file: IndexFile, dest: Path, log: Callable[[str], None]) -> None:
    """Download ``file`` to ``dest``, checking length and the published sha256 (FetchError otherwise)."""
    if not file.sha256:
        raise FetchError(
            f"the index publishes no sha256 for {file.filename} ({file.url}); refusing an unchecked download"
        )
    digest = hashlib.sha256()
    done = 0
    try:
        with _open(file.url) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            log(f"downloading {file.url}" + (f" ({total / 1e6:.1f} MB)" if total else ""))
            show = _progress(file.filename, total)
            out: IO[bytes]
            with dest.open("wb") as out:
                while chunk := response.read(_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    show(done)
    except urllib.error.HTTPError as exc:
        raise FetchError(f"downloading {file.url} failed: HTTP {exc.code}; nothing was installed") from exc
    except http.client.IncompleteRead as exc:
        raise FetchError(
            f"the download of {file.filename} was cut after {done + len(exc.partial)} bytes; nothing was "
            "installed. Run the same command again."
        ) from exc
    except (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError) as exc:
        raise FetchError(
            f"the download of {file.filename} failed after {done} bytes ({exc}); nothing was installed. "
            "Run the same command again."
        ) from exc
    if total is not None and done != total:
        raise FetchError(
            f"the download of {file.filename} was cut after {done} of {total} bytes; nothing was installed. "
            "Run the same command again."
        )
    if digest.hexdigest() != file.sha256.lower():
        raise FetchError(
            f"sha256 mismatch for {file.filename}: the index publishes {file.sha256.lower()}, the download "
            f"has {digest.hexdigest()}; nothing was installed. Check the index ({file.url})."
        )


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
            if name.endswith("/" + store.MANIFEST) and ".dist-info/" not in name:
                raw = zf.read(name)
                try:
                    data = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(data, dict) and data.get("family") == family:
                    prefix, manifest_bytes = name[: -len(store.MANIFEST)], raw
                    break
        if prefix is None:
            raise FetchError(f"{wheel.name} holds no manifest.json of the {family} family")
        manifest = parse_manifest(json.loads(manifest_bytes), f"{wheel.name}:{prefix}{store.MANIFEST}")
        if manifest.version != version:
            raise FetchError(f"{wheel.name} carries {family} assets version {manifest.version}, not {version}")
        for entry in manifest.files:
            rel = safe_relpath(entry.path)
            target = tree / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            try:
                with zf.open(prefix + rel) as src, target.open("wb") as out:
                    while chunk := src.read(1 << 20):
                        out.write(chunk)
                        digest.update(chunk)
            except KeyError as exc:
                raise FetchError(f"{wheel.name} lacks {prefix}{rel}, which its manifest lists") from exc
            if digest.hexdigest() != entry.sha256:
                raise FetchError(f"{wheel.name}: {rel} does not match the sha256 of its manifest")
        (tree / store.MANIFEST).write_bytes(manifest_bytes)


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
    family, sib = _family(family_name)
    version = sib.version or __version__
    target_store = dest if dest is not None else store.cache_store(version)
    url = index_url(index)

    def populate(tree: Path) -> None:
        wheel_file = pick_wheel(list_files(url, sib.distribution), sib.distribution, version)
        wheel = tree.parent / wheel_file.filename
        download(wheel_file, wheel, log)
        unpack(wheel, family.name, version, tree)
        wheel.unlink()

    def problems(root: Path) -> list[str]:
        return [str(p) for p in verify_tree(root, family.name, version, full=True)]

    return store.publish(target_store, family.name, version, populate=populate, is_good=problems, log=log)
