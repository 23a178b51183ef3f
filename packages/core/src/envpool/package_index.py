"""The one package-index client: which index and certificates to use, what it lists, a checked download.

Shared by ``envpool assets fetch`` and the build tools, which load this very file by path
(``tools/common/index.py``); so it uses the standard library only and imports nothing from envpool.
The rule for which index wins is written once, here, and in docs/assets.md ("Which package index"):

Index, the first one set:

1. the URL given explicitly (``envpool assets fetch --index-url``, ``tools.release.publish --index-url``);
2. ``PIP_INDEX_URL``;
3. ``UV_DEFAULT_INDEX``, then ``UV_INDEX_URL`` (uv's names for the same setting);
4. ``index-url`` in pip's configuration files, read as ``pip install`` reads them: ``[install]`` over
   ``[global]``; the site-wide files (``$XDG_CONFIG_DIRS/pip/pip.conf``, ``/etc/pip.conf``), then the
   user's (``~/.pip/pip.conf``, ``$XDG_CONFIG_HOME/pip/pip.conf``; skipped when ``PIP_CONFIG_FILE``
   names an existing file), then the environment's (``sys.prefix/pip.conf``), then ``PIP_CONFIG_FILE``;
   a later file wins. ``PIP_CONFIG_FILE=/dev/null`` turns every file off, as in pip;
5. PyPI, ``https://pypi.org/simple``.

Certificates of an https index, the first one set: ``PIP_CERT``, ``cert`` in pip's configuration
files (same files and order), ``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE``; else the system's trust store.

This module also holds the runtime's one sha256 helper (:func:`sha256_copy`), since it must stand alone.
"""

from __future__ import annotations

import configparser
import hashlib
import http.client
import json
import os
import re
import ssl
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_INDEX = "https://pypi.org/simple"
INDEX_VARIABLES = ("PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL")
CERT_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")  # after PIP_CERT and pip's ``cert`` setting
TIMEOUT = 60.0
_CHUNK = 1 << 20
_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
#: errors of the network side of a transfer; a local write error (e.g. a full disk) is not one of them
_NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError)


class IndexAccessError(Exception):
    """The index cannot be read, or does not list what was asked for."""


class ProjectNotFound(IndexAccessError):
    """The index has no page for the project (HTTP 404, or no directory in a mirror on disk)."""


class DownloadError(IndexAccessError):
    """A download failed; ``transient`` when running it again may succeed (cut or unreachable)."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Setting:
    """A chosen value and where it came from (a variable, a pip configuration file, or the default)."""

    value: str
    source: str

    def describe(self) -> str:
        """``value (from source)``, for messages."""
        return f"{self.value} (from {self.source})"


def pip_config_files() -> list[Path]:
    """pip's configuration files in the order pip reads them (a later one wins); empty for PIP_CONFIG_FILE=/dev/null."""
    env_file = os.environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return []
    xdg_dirs = [Path(p) for p in os.environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep) if p]
    files = [d / "pip" / "pip.conf" for d in xdg_dirs] + [Path("/etc/pip.conf")]
    if not (env_file and Path(env_file).exists()):
        home = Path.home()
        config_home = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
        files += [home / ".pip" / "pip.conf", config_home / "pip" / "pip.conf"]
    files.append(Path(sys.prefix) / "pip.conf")
    if env_file:
        files.append(Path(env_file))
    return files


def pip_setting(name: str) -> Setting | None:
    """The value ``pip install`` takes for ``name`` from its configuration files (``[install]`` over ``[global]``)."""
    found: dict[str, Setting] = {}
    for path in pip_config_files():
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (OSError, configparser.Error, UnicodeDecodeError):
            continue
        for section in ("global", "install"):
            if not parser.has_section(section):
                continue
            for key, value in parser.items(section):
                if key.lstrip("-").replace("_", "-") == name and value.strip():
                    found[section] = Setting(value.strip(), f"pip config {path} [{section}]")
    return found.get("install") or found.get("global")


def choose_index(given: str | None = None, given_as: str = "--index-url") -> Setting:
    """The simple index to use, by the rule of this module's docstring."""
    if given:
        return Setting(given.strip().rstrip("/"), given_as)
    for var in INDEX_VARIABLES:
        value = os.environ.get(var, "").strip()
        if value:
            return Setting(value.rstrip("/"), var)
    configured = pip_setting("index-url")
    if configured is not None:
        return Setting(configured.value.rstrip("/"), configured.source)
    return Setting(DEFAULT_INDEX, "the default")


def choose_certificates() -> Setting | None:
    """The CA bundle (file or directory) to trust for https, by this module's rule; None: the system's store."""
    value = os.environ.get("PIP_CERT", "").strip()
    chosen = Setting(value, "PIP_CERT") if value else pip_setting("cert")
    if chosen is None:
        for var in CERT_VARIABLES:
            value = os.environ.get(var, "").strip()
            if value:
                chosen = Setting(value, var)
                break
    if chosen is not None and not Path(chosen.value).exists():
        raise IndexAccessError(
            f"the certificates {chosen.describe()} do not exist; point it at a CA bundle (PEM) or unset it"
        )
    return chosen


def ssl_context() -> ssl.SSLContext:
    """A verifying TLS context trusting the chosen certificates."""
    chosen = choose_certificates()
    if chosen is None:
        return ssl.create_default_context()
    if Path(chosen.value).is_dir():
        return ssl.create_default_context(capath=chosen.value)
    return ssl.create_default_context(cafile=chosen.value)


def normalize(name: str) -> str:
    """A distribution name normalized as in PEP 503."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _open(url: str, accept: str | None = None) -> http.client.HTTPResponse:
    headers = {"User-Agent": "envpool-index-client", "Cache-Control": "no-cache"}
    if accept:
        headers["Accept"] = accept
    context = ssl_context() if url.startswith("https:") else None
    request = urllib.request.Request(url, headers=headers)
    response: http.client.HTTPResponse = urllib.request.urlopen(request, timeout=TIMEOUT, context=context)
    return response


@dataclass(frozen=True)
class IndexFile:
    """One file listed on a project's simple-API page."""

    filename: str
    url: str
    sha256: str | None


class _Links(HTMLParser):
    """The link targets of a PEP 503 page."""

    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def _parse_page(body: bytes, ctype: str, page: str) -> list[IndexFile]:
    files: list[IndexFile] = []
    if "json" in ctype:
        try:
            for item in json.loads(body)["files"]:
                hashes = item.get("hashes") or {}
                url = urllib.parse.urljoin(page, item["url"]).partition("#")[0]
                files.append(IndexFile(item["filename"], url, hashes.get("sha256")))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise IndexAccessError(f"the index page {page} is not valid PEP 691 JSON ({exc})") from exc
        return files
    parser = _Links()
    parser.feed(body.decode("utf-8", "replace"))
    for href in parser.hrefs:  # the file name is the URL's last path component, as pip reads it
        base, _, fragment = urllib.parse.urljoin(page, href).partition("#")
        name = urllib.parse.unquote(urllib.parse.urlsplit(base).path.rsplit("/", 1)[-1])
        files.append(IndexFile(name, base, dict(urllib.parse.parse_qsl(fragment)).get("sha256")))
    return files


def list_files(index: Setting, distribution: str) -> list[IndexFile]:
    """Every file the simple index page of ``distribution`` lists (PEP 691 JSON or PEP 503 HTML).

    A ``file:`` index is a mirror on disk laid out as PEP 503 (``<index>/<project>/index.html``), as pip
    reads it. Raises ProjectNotFound when the index has no such project, IndexAccessError otherwise.
    """
    url = f"{index.value.rstrip('/')}/{normalize(distribution)}/"
    if url.startswith("file:"):
        local = Path(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
        if not local.is_dir():
            raise ProjectNotFound(
                f"the index {index.describe()} has no project {distribution} ({local} does not exist)"
            )
        url += "index.html"
    try:
        with _open(url, _ACCEPT) as response:
            body = response.read()
            page = response.geturl()
            ctype = response.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise ProjectNotFound(
                f"the index {index.describe()} has no project {distribution} ({url}: HTTP 404)"
            ) from exc
        raise IndexAccessError(f"the index {index.describe()} answered HTTP {exc.code} for {url}") from exc
    except (*_NETWORK_ERRORS, OSError) as exc:
        raise IndexAccessError(f"cannot reach the index {index.describe()} ({url}): {exc}") from exc
    return _parse_page(body, ctype, page)


def sha256_copy(src: IO[bytes], dst: IO[bytes] | None = None, on_chunk: Callable[[int], None] | None = None) -> str:
    """The hex sha256 of everything read from ``src``, written on to ``dst`` if given (the runtime's one helper).

    ``on_chunk(total_bytes_so_far)`` is called after each chunk.
    """
    digest = hashlib.sha256()
    done = 0
    while chunk := src.read(_CHUNK):
        digest.update(chunk)
        if dst is not None:
            dst.write(chunk)
        done += len(chunk)
        if on_chunk is not None:
            on_chunk(done)
    return digest.hexdigest()


def _progress(label: str, total: int | None) -> Callable[[int], None]:
    """A progress printer to stderr for downloads of 1 MB or more (one line, redrawn, on a terminal)."""
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


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def download(
    url: str, dest: Path, *, sha256: str | None = None, label: str | None = None, log: Callable[[str], None] = _stderr
) -> str:
    """Stream ``url`` to ``dest`` and return its hex sha256; ``dest`` appears only when complete.

    The length is checked against Content-Length and, with ``sha256``, the digest against it. Raises
    DownloadError (``transient`` for a cut or failed transfer); errors writing ``dest`` (OSError) pass through.
    """
    label = label or dest.name
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    done = [0]
    try:
        with _open(url) as response, part.open("wb") as out:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            log(f"downloading {url}" + (f" ({total / 1e6:.1f} MB)" if total else ""))
            show = _progress(label, total)

            def count(n: int) -> None:
                done[0] = n
                show(n)

            got = sha256_copy(response, out, count)
        if total is not None and done[0] != total:
            raise DownloadError(f"the download of {label} was cut after {done[0]} of {total} bytes", transient=True)
        if sha256 is not None and got != sha256.lower():
            raise DownloadError(
                f"sha256 mismatch for {label}: expected {sha256.lower()}, the download has {got} ({url})",
                transient=False,
            )
        part.replace(dest)
        return got
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"downloading {url} failed: HTTP {exc.code}", transient=False) from exc
    except http.client.IncompleteRead as exc:
        cut = done[0] + len(exc.partial)
        raise DownloadError(f"the download of {label} was cut after {cut} bytes", transient=True) from exc
    except _NETWORK_ERRORS as exc:
        raise DownloadError(f"the download of {label} failed after {done[0]} bytes ({exc})", transient=True) from exc
    finally:
        part.unlink(missing_ok=True)
