"""A throwaway package index on 127.0.0.1: pypiserver over an upload directory and a read-only wheel directory.

Used by tools/release/rehearsal.py to publish with tools.release.publish exactly as to PyPI and install from the
result. The server binds 127.0.0.1 only, on a free port, with PyPI fallback disabled: a project it
does not hold is missing, never fetched from PyPI. Uploads need no credentials (``-a . -P .``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from tools.release.install_matrix import OURS

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@dataclass(frozen=True)
class Index:
    """A running local index."""

    upload: str  # twine --repository-url
    simple: str  # pip/uv --index-url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def index_server(work: Path, name: str, third: Path) -> Iterator[Index]:
    """A pypiserver on 127.0.0.1 serving ``work/name/uploads`` (writable) and ``third`` (read-only)."""
    if importlib.util.find_spec("pypiserver") is None:
        raise RuntimeError(f"pypiserver is not installed for {sys.executable}: pip install pypiserver")
    uploads = work / name / "uploads"
    uploads.mkdir(parents=True)
    port = _free_port()
    cmd = [sys.executable, "-m", "pypiserver", "run", "-p", str(port), "-i", "127.0.0.1", "-a", ".", "-P", "."]
    cmd += ["--disable-fallback", "--hash-algo", "sha256", str(uploads), str(third)]
    log_path = work / name / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                with contextlib.suppress(OSError), urllib.request.urlopen(f"{base}/health", timeout=2):
                    break
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"pypiserver did not start ({' '.join(cmd)}):\n{log_path.read_text()[-2000:]}")
                time.sleep(0.2)
            print(f"local index {name} at {base}/simple/", flush=True)
            yield Index(f"{base}/", f"{base}/simple/")
        finally:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def seed_thirdparty(cache: Path, dest: Path) -> int:
    """Link every third-party wheel of ``cache`` into ``dest`` (ours left out) and make ``dest`` read-only."""
    dest.mkdir(parents=True)
    count = 0
    for path in sorted(cache.glob("*.whl")):
        if canonicalize_name(path.name.split("-", 1)[0]) in OURS:
            continue
        try:
            os.link(path, dest / path.name)
        except OSError:
            shutil.copy2(path, dest / path.name)
        count += 1
    dest.chmod(0o555)
    return count
