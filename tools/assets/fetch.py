"""The one package-index client of the tools: list a project's files, fetch pinned ones, verify, cache.

Used by the asset and library builds (fetch) and by tools.release.publish (what an index already lists).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

from tools.assets.paths import cache_dir
from tools.assets.tree import AssetError

if TYPE_CHECKING:
    from pathlib import Path

    from tools.assets.lockfile import Artifact

DEFAULT_INDEX = "https://pypi.org/simple"
CHUNK = 1 << 20
#: file name -> (absolute download URL, listed sha256 or None)
Files = dict[str, tuple[str, str | None]]


def log(message: str) -> None:
    """A progress line on stderr (build frontends show it)."""
    print(f"[envpool-assets] {message}", file=sys.stderr, flush=True)


def sha256_of(path: Path) -> str:
    """The hex sha256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def index_url() -> str:
    """The simple index to use: $PIP_INDEX_URL, $UV_DEFAULT_INDEX/$UV_INDEX_URL, pip's config, else PyPI."""
    for var in ("PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL"):
        if os.environ.get(var):
            return os.environ[var].rstrip("/")
    try:
        out = subprocess.run(
            [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip().rstrip("/")
    except (OSError, subprocess.SubprocessError):
        pass
    return DEFAULT_INDEX


def _ssl_context() -> ssl.SSLContext:
    cafile = os.environ.get("PIP_CERT") or os.environ.get("SSL_CERT_FILE")
    return ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()


def _open(url: str, accept: str | None = None) -> Any:
    headers = {"Cache-Control": "no-cache", **({"Accept": accept} if accept else {})}
    request = urllib.request.Request(url, headers=headers)
    context = _ssl_context() if url.startswith("https:") else None
    return urllib.request.urlopen(request, timeout=180, context=context)


class _Anchors(HTMLParser):
    """The links of a PEP 503 page, keyed by file name (the last path component of each URL)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            path = urllib.parse.urlsplit(href).path
            self.links[urllib.parse.unquote(path.rsplit("/", 1)[-1])] = href


def project_files(
    name: str, index: str | None = None, *, missing_ok: bool = False
) -> dict[str, tuple[str, str | None]]:
    """Every file the simple index page (PEP 691 JSON or PEP 503 HTML) of project ``name`` lists.

    File name -> (absolute download URL, listed sha256 or None). With ``missing_ok`` a project the
    index does not know (404) gives ``{}``; any other failure raises AssetError naming the page.
    """
    index = (index or index_url()).rstrip("/")
    project = re.sub(r"[-_.]+", "-", name).lower()
    page = f"{index}/{project}/"
    try:
        with _open(page, "application/vnd.pypi.simple.v1+json, text/html;q=0.1") as resp:
            body = resp.read()
            ctype = resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        if missing_ok and exc.code == 404:
            return {}
        raise AssetError(f"cannot read the index page {page}: {exc}") from None
    except OSError as exc:
        raise AssetError(f"cannot read the index page {page}: {exc}") from None
    links: dict[str, str]
    if "json" in ctype:
        links = {}
        for entry in json.loads(body)["files"]:
            sha = entry.get("hashes", {}).get("sha256")
            links[entry["filename"]] = entry["url"].split("#", 1)[0] + (f"#sha256={sha}" if sha else "")
    else:
        parser = _Anchors()
        parser.feed(body.decode("utf-8", "replace"))
        links = parser.links
    files: Files = {}
    for filename, href in links.items():
        url, _, fragment = urllib.parse.urljoin(page, href).partition("#")
        files[filename] = (url, fragment[len("sha256=") :] if fragment.startswith("sha256=") else None)
    return files


def find(name: str, filename: str, index: str | None = None) -> tuple[str, str | None]:
    """The download URL of ``filename`` on the simple index page of project ``name``, and its listed sha256."""
    try:
        files = project_files(name, index)
    except AssetError as exc:
        raise AssetError(f"{filename}: {exc}") from None
    if filename not in files:
        raise AssetError(f"{filename}: not listed on the index page of {name} ({index or index_url()})")
    return files[filename]


def verify(path: Path, artifact: Artifact) -> None:
    """Raise AssetError naming the artifact if the file's sha256 is not the locked one."""
    got = sha256_of(path)
    if got != artifact.sha256:
        raise AssetError(
            f"artifact {artifact.filename}: sha256 mismatch: locked {artifact.sha256}, got {got} ({path}); "
            "delete the cached file to refetch, or re-lock with `python -m tools.assets lock` if the pin changed"
        )


def download(url: str, target: Path, label: str) -> None:
    """Stream ``url`` to ``target`` with progress lines."""
    tmp = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _open(url) as resp, tmp.open("wb") as out:
            total = int(resp.headers.get("Content-Length") or 0)
            log(f"downloading {label} ({total / 1e6:.1f} MB) from {urllib.parse.urlsplit(url).netloc or url}")
            done, next_report = 0, 0.25
            for chunk in iter(lambda: resp.read(CHUNK), b""):
                out.write(chunk)
                done += len(chunk)
                if total and done / total >= next_report:
                    log(f"  {label}: {done / 1e6:.1f}/{total / 1e6:.1f} MB")
                    next_report += 0.25
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AssetError(f"{label}: download from {url} failed: {exc}") from None
    tmp.replace(target)


def fetch(artifact: Artifact, cache: Path | None = None) -> Path:
    """The verified cached file of ``artifact``, downloading it from the index if it is not cached."""
    cache = cache or cache_dir()
    path = cache / artifact.filename
    if path.is_file():
        log(f"using cached {artifact.filename}")
    else:
        download(find(artifact.name, artifact.filename)[0], path, artifact.filename)
    verify(path, artifact)
    return path
