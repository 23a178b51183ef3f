"""Fetch pinned artifacts from the package index (pip's configured index), verify and cache them."""

from __future__ import annotations

import hashlib
import json
import os
import re
import ssl
import subprocess
import sys
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
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    context = _ssl_context() if url.startswith("https:") else None
    return urllib.request.urlopen(request, timeout=180, context=context)


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: dict[str, str] = {}
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_data(self, data: str) -> None:
        if self._href is not None and data.strip():
            self.links[data.strip()] = self._href
            self._href = None


def find(name: str, filename: str, index: str | None = None) -> tuple[str, str | None]:
    """The download URL of ``filename`` on the simple index page of project ``name``, and its listed sha256."""
    index = index or index_url()
    project = re.sub(r"[-_.]+", "-", name).lower()
    page = f"{index}/{project}/"
    try:
        with _open(page, "application/vnd.pypi.simple.v1+json, text/html;q=0.1") as resp:
            body = resp.read()
            ctype = resp.headers.get("Content-Type", "")
    except OSError as exc:
        raise AssetError(f"{filename}: cannot read the index page {page}: {exc}") from None
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
    if filename not in links:
        raise AssetError(f"{filename}: not listed on {page}")
    url, _, fragment = urllib.parse.urljoin(page, links[filename]).partition("#")
    sha256 = fragment[len("sha256=") :] if fragment.startswith("sha256=") else None
    return url, sha256


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
