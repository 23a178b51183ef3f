"""A local PEP 503 / PEP 691 index on 127.0.0.1 serving a vizdoom asset wheel built here (the fetch tests).

The index serves a small asset wheel with the layout of the real ones; every fault test checks that
nothing partial is left behind.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import random
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import envpool
from envpool.tasks import assets_of

if TYPE_CHECKING:
    from pathlib import Path

VERSION = envpool.__version__
FAMILY = "vizdoom"
DIST = "envpool-assets-vizdoom"
PKG = "envpool_assets_vizdoom"


def build_asset_wheel(out_dir: Path, version: str = VERSION, size: int = 3_000_000) -> Path:
    """A wheel laid out as the asset contract says, with the vizdoom task files (random content)."""
    rng = random.Random(0)
    files = {rel: rng.randbytes(size if i == 0 else 1000 + 17 * i) for i, rel in enumerate(assets_of(FAMILY))}
    manifest = {
        "family": FAMILY,
        "distribution": DIST,
        "version": version,
        "files": {
            rel: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "license": "BSD-3-Clause"}
            for rel, data in files.items()
        },
    }
    dist_info = f"{PKG}-{version}.dist-info"
    members: dict[str, bytes] = {
        f"{PKG}/__init__.py": (
            b"from pathlib import Path\n__version__ = '" + version.encode() + b"'\n"
            b"def root():\n    return Path(__file__).resolve().parent / 'data'\n"
            b"def manifest():\n    import json\n    return json.loads((root() / 'manifest.json').read_text())\n"
        ),
        f"{PKG}/data/manifest.json": json.dumps(manifest, indent=1).encode(),
        **{f"{PKG}/data/{rel}": data for rel, data in files.items()},
        f"{dist_info}/METADATA": f"Metadata-Version: 2.4\nName: {DIST}\nVersion: {version}\n".encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, data in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append(f"{dist_info}/RECORD,,")
    members[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{PKG}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


@dataclass
class IndexState:
    """What the test index serves and how it misbehaves."""

    files: dict[str, Path] = field(default_factory=dict)  # filename -> wheel path
    cut_after: int | None = None  # close the connection after this many body bytes
    wrong_hash: bool = False  # publish a sha256 that does not match
    no_hash: bool = False  # publish no hash at all
    delay: float = 0.0  # seconds between 64 KiB chunks
    downloads: int = 0  # wheel GETs started
    sent: int = 0  # wheel body bytes sent, over all downloads
    lock: threading.Lock = field(default_factory=threading.Lock)


def _normalize(name: str) -> str:
    return name.replace("_", "-").replace(".", "-").lower()


class _Handler(http.server.BaseHTTPRequestHandler):
    state: IndexState

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, body: bytes, ctype: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        st = self.state
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        if len(parts) == 2 and parts[0] == "simple":
            project = parts[1]
            listed = {n: p for n, p in st.files.items() if _normalize(n.split("-")[0]) == project}
            if not listed:
                self.send_error(404)
                return
            entries = []
            for name, path in sorted(listed.items()):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                if st.wrong_hash:
                    digest = "0" * 64
                entries.append((name, f"../../files/{name}", {} if st.no_hash else {"sha256": digest}))
            if "application/vnd.pypi.simple.v1+json" in self.headers.get("Accept", ""):
                data = {
                    "meta": {"api-version": "1.0"},
                    "name": project,
                    "files": [{"filename": n, "url": u, "hashes": h} for n, u, h in entries],
                }
                self._send(json.dumps(data).encode(), "application/vnd.pypi.simple.v1+json")
            else:
                links = "".join(
                    f'<a href="{u}{"#sha256=" + h["sha256"] if h else ""}">{n}</a><br/>' for n, u, h in entries
                )
                self._send(f"<!DOCTYPE html><html><body>{links}</body></html>".encode(), "text/html")
            return
        if len(parts) == 2 and parts[0] == "files" and parts[1] in st.files:
            body = st.files[parts[1]].read_bytes()
            with st.lock:
                st.downloads += 1
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            limit = len(body) if st.cut_after is None else st.cut_after
            pos = 0
            try:
                while pos < limit:
                    chunk = body[pos : min(limit, pos + 65536)]
                    self.wfile.write(chunk)
                    self.wfile.flush()
                    pos += len(chunk)
                    with st.lock:
                        st.sent += len(chunk)
                    if st.delay:
                        time.sleep(st.delay)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
            return
        self.send_error(404)


def env_for(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: a private cache, no asset store, no pip configuration."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "ENVPOOL_ASSETS", "XDG_CACHE"))}
    env.update({"ENVPOOL_CACHE_DIR": str(tmp_path / "cache"), "PIP_CONFIG_FILE": os.devnull, **extra})
    return env


def fetch_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "envpool", "assets", "fetch", FAMILY, *args]


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd="/", timeout=300, check=False)


def leftovers(store: Path) -> list[str]:
    """Anything in the store besides lock files and good trees."""
    return sorted(p.name for p in store.iterdir() if not p.name.endswith(".lock")) if store.exists() else []
