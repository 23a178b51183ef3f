"""``envpool assets fetch`` against a local PEP 503 / PEP 691 index on 127.0.0.1, with faults.

The index serves a small asset wheel built here (the same layout as the real ones), or the real
vizdoom asset wheel of the wheelhouse when it exists. Every fault leaves nothing partial behind.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

import envpool
from envpool.manifest import verify_tree
from envpool.tasks import assets_of

if TYPE_CHECKING:
    from collections.abc import Iterator
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


@pytest.fixture
def index(tmp_path: Path) -> Iterator[tuple[str, IndexState]]:
    """A simple index on 127.0.0.1 serving a freshly built vizdoom asset wheel."""
    state = IndexState()
    wheel = build_asset_wheel(tmp_path / "wheels")
    state.files[wheel.name] = wheel
    handler = type("Handler", (_Handler,), {"state": state})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


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


def test_fetch_html_index_into_dest(index: tuple[str, IndexState], tmp_path: Path) -> None:
    url, state = index
    dest = tmp_path / "store"
    proc = run(fetch_cmd("--index-url", url, "--dest", str(dest)), env_for(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "written" in proc.stdout and f"ENVPOOL_ASSETS_PATH={dest}" in proc.stdout
    assert verify_tree(dest / FAMILY, FAMILY, VERSION) == []
    assert "MB (100%)" in proc.stderr  # progress of a file over 1 MB goes to stderr
    assert leftovers(dest) == [FAMILY]
    # A second run keeps the good tree and downloads nothing.
    mtimes = {p: p.stat().st_mtime_ns for p in (dest / FAMILY).rglob("*")}
    proc = run(fetch_cmd("--index-url", url, "--dest", str(dest)), env_for(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "present" in proc.stdout
    assert state.downloads == 1
    assert mtimes == {p: p.stat().st_mtime_ns for p in (dest / FAMILY).rglob("*")}


def test_fetch_json_index_from_pip_index_url_into_cache(index: tuple[str, IndexState], tmp_path: Path) -> None:
    url, _ = index
    proc = run(fetch_cmd(), env_for(tmp_path, PIP_INDEX_URL=url))
    assert proc.returncode == 0, proc.stderr
    tree = tmp_path / "cache" / "assets" / VERSION / FAMILY
    assert verify_tree(tree, FAMILY, VERSION) == []


def test_fetch_default_cache_follows_xdg(index: tuple[str, IndexState], tmp_path: Path) -> None:
    url, _ = index
    env = env_for(tmp_path, PIP_INDEX_URL=url, XDG_CACHE_HOME=str(tmp_path / "xdg"))
    del env["ENVPOOL_CACHE_DIR"]
    proc = run(fetch_cmd(), env)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "xdg" / "envpool" / "assets" / VERSION / FAMILY / "manifest.json").is_file()


def test_fetch_reads_pip_config_file(index: tuple[str, IndexState], tmp_path: Path) -> None:
    url, _ = index
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nindex-url = {url}\n")
    proc = run(fetch_cmd("--dest", str(tmp_path / "s")), env_for(tmp_path, PIP_CONFIG_FILE=str(conf)))
    assert proc.returncode == 0, proc.stderr


def test_cut_download_leaves_nothing(index: tuple[str, IndexState], tmp_path: Path) -> None:
    url, state = index
    state.cut_after = 1_000_000  # of about 3 MB
    dest = tmp_path / "store"
    proc = run(fetch_cmd("--index-url", url, "--dest", str(dest)), env_for(tmp_path))
    assert proc.returncode == 1
    assert "was cut after" in proc.stderr and "nothing was installed" in proc.stderr
    assert leftovers(dest) == []
    state.cut_after = None  # the next run succeeds
    proc = run(fetch_cmd("--index-url", url, "--dest", str(dest)), env_for(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert verify_tree(dest / FAMILY, FAMILY, VERSION) == []


def test_hash_mismatch_is_refused(index: tuple[str, IndexState], tmp_path: Path) -> None:
    url, state = index
    state.wrong_hash = True
    dest = tmp_path / "store"
    proc = run(fetch_cmd("--index-url", url, "--dest", str(dest)), env_for(tmp_path))
    assert proc.returncode == 1
    assert "sha256 mismatch" in proc.stderr and "0" * 64 in proc.stderr
    assert leftovers(dest) == []


def test_unhashed_index_is_refused(index: tuple[str, IndexState], tmp_path: Path) -> None:
    url, state = index
    state.no_hash = True
    proc = run(fetch_cmd("--index-url", url, "--dest", str(tmp_path / "s")), env_for(tmp_path))
    assert proc.returncode == 1
    assert "publishes no sha256" in proc.stderr
    assert leftovers(tmp_path / "s") == []


def test_two_concurrent_fetches_download_once(index: tuple[str, IndexState], tmp_path: Path) -> None:
    url, state = index
    state.delay = 0.05  # over 2 s for the wheel: the second process waits for the first one's lock
    dest = tmp_path / "store"
    env = env_for(tmp_path)
    procs = [
        subprocess.Popen(
            fetch_cmd("--index-url", url, "--dest", str(dest)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd="/",
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sorted("written" in o[0] for o in outs) == [False, True]
    assert any("present" in o[0] for o in outs)
    assert any("waiting for another process" in o[1] for o in outs), outs  # they did overlap
    assert state.downloads == 1
    assert verify_tree(dest / FAMILY, FAMILY, VERSION) == []
    assert leftovers(dest) == [FAMILY]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_fetch_leaves_nothing(index: tuple[str, IndexState], tmp_path: Path, sig: int) -> None:
    url, state = index
    state.delay = 0.05
    dest = tmp_path / "store"
    proc = subprocess.Popen(
        fetch_cmd("--index-url", url, "--dest", str(dest)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(tmp_path),
        cwd="/",
    )
    deadline = time.monotonic() + 60
    while state.sent < 300_000 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert state.sent >= 300_000, "the download never started"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert leftovers(dest) == []
    state.delay = 0.0
    proc2 = run(fetch_cmd("--index-url", url, "--dest", str(dest)), env_for(tmp_path))
    assert proc2.returncode == 0, proc2.stderr


def test_killed_fetch_leftovers_are_never_used(index: tuple[str, IndexState], tmp_path: Path) -> None:
    url, state = index
    state.delay = 0.05
    dest = tmp_path / "store"
    proc = subprocess.Popen(fetch_cmd("--index-url", url, "--dest", str(dest)), env=env_for(tmp_path), cwd="/")
    deadline = time.monotonic() + 60
    while state.sent < 300_000 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert state.sent >= 300_000, "the download never started"
    proc.kill()  # no cleanup can run
    proc.wait(60)
    stale = leftovers(dest)
    assert stale and FAMILY not in stale, stale  # the partial download is only in a temporary directory
    state.delay = 0.0
    proc2 = run(fetch_cmd("--index-url", url, "--dest", str(dest)), env_for(tmp_path))
    assert proc2.returncode == 0, proc2.stderr
    assert leftovers(dest) == [FAMILY]  # the stale temporary directory was removed under the lock


@pytest.mark.parametrize("where", ["dest", "cache"])
def test_read_only_destination(index: tuple[str, IndexState], tmp_path: Path, where: str) -> None:
    url, _ = index
    dest = tmp_path / "ro"
    dest.mkdir()
    env = env_for(tmp_path)
    if where == "dest":
        cmd = fetch_cmd("--index-url", url, "--dest", str(dest / "store"))
        written = dest / "store"
    else:  # the default: the user cache
        cmd = fetch_cmd("--index-url", url)
        env["ENVPOOL_CACHE_DIR"] = str(dest / "cache")
        written = dest / "cache" / "assets" / VERSION
    if os.geteuid() != 0:
        dest.chmod(0o555)
    else:  # root ignores permissions: mount a read-only tmpfs in a private mount namespace
        probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
        if probe.returncode != 0:
            pytest.skip("running as root without mount namespaces: cannot make a read-only directory")
        script = 'mount -t tmpfs -o ro tmpfs "$1" && shift && exec "$@"'
        cmd = ["unshare", "-m", "sh", "-c", script, "sh", str(dest), *cmd]
    try:
        proc = run(cmd, env)
    finally:
        dest.chmod(0o755)
    assert proc.returncode == 1
    assert f"cannot write to {written}" in proc.stderr and "Nothing was changed" in proc.stderr
    assert "Read-only file system" in proc.stderr or "Permission denied" in proc.stderr
    assert "--dest DIR" in proc.stderr


def test_read_only_cache_names_the_way_out(index: tuple[str, IndexState], tmp_path: Path) -> None:
    url, _ = index
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")  # the cache path lies under a file: no process can create it
    proc = run(fetch_cmd("--index-url", url), env_for(tmp_path, ENVPOOL_CACHE_DIR=str(blocker / "c")))
    assert proc.returncode == 1
    assert "cannot write to" in proc.stderr and "ENVPOOL_CACHE_DIR" in proc.stderr


def test_other_version_in_dest_is_kept(index: tuple[str, IndexState], tmp_path: Path) -> None:
    url, state = index
    tree = tmp_path / "store" / FAMILY
    tree.mkdir(parents=True)
    manifest = {"family": FAMILY, "distribution": DIST, "version": "0.0.1", "files": {}}
    (tree / "manifest.json").write_text(json.dumps(manifest))
    proc = run(fetch_cmd("--index-url", url, "--dest", str(tmp_path / "store")), env_for(tmp_path))
    assert proc.returncode == 1
    assert "holds vizdoom assets version 0.0.1" in proc.stderr and "nothing was changed" in proc.stderr
    assert json.loads((tree / "manifest.json").read_text()) == manifest
    assert state.downloads == 0


def test_broken_tree_of_same_version_is_replaced(index: tuple[str, IndexState], tmp_path: Path) -> None:
    url, _ = index
    dest = tmp_path / "store"
    assert run(fetch_cmd("--index-url", url, "--dest", str(dest)), env_for(tmp_path)).returncode == 0
    victim = dest / FAMILY / assets_of(FAMILY)[0]
    victim.chmod(0o644)
    with victim.open("r+b") as fh:
        fh.truncate(10)
    proc = run(fetch_cmd("--index-url", url, "--dest", str(dest)), env_for(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "replaced" in proc.stdout and "is broken" in proc.stderr
    assert verify_tree(dest / FAMILY, FAMILY, VERSION) == []
    assert leftovers(dest) == [FAMILY]


def test_missing_project_and_version(index: tuple[str, IndexState], tmp_path: Path) -> None:
    url, state = index
    proc = run(
        [sys.executable, "-m", "envpool", "assets", "fetch", "robotics", "--index-url", url, "--dest", str(tmp_path)],
        env_for(tmp_path),
    )
    assert proc.returncode == 1 and "has no project envpool-assets-robotics" in proc.stderr
    other = build_asset_wheel(tmp_path / "other", version="9.9.9", size=10)
    state.files = {other.name: other}
    proc = run(fetch_cmd("--index-url", url, "--dest", str(tmp_path / "s")), env_for(tmp_path))
    assert proc.returncode == 1
    assert f"no wheel of {DIST}=={VERSION}" in proc.stderr and "9.9.9" in proc.stderr


def test_fetch_from_a_mirror_on_disk(tmp_path: Path) -> None:
    """An air-gapped mirror: a PEP 503 tree of static files, given as a file:// index URL."""
    wheel = build_asset_wheel(tmp_path / "mirror" / "files", size=2000)
    page = tmp_path / "mirror" / "simple" / "envpool-assets-vizdoom" / "index.html"
    page.parent.mkdir(parents=True)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    page.write_text(f'<html><body><a href="../../files/{wheel.name}#sha256={digest}">{wheel.name}</a></body></html>')
    url = (tmp_path / "mirror" / "simple").as_uri()
    proc = run(fetch_cmd("--index-url", url, "--dest", str(tmp_path / "store")), env_for(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert verify_tree(tmp_path / "store" / FAMILY, FAMILY, VERSION) == []
    proc = run(
        [sys.executable, "-m", "envpool", "assets", "fetch", "robotics", "--index-url", url, "--dest", str(tmp_path)],
        env_for(tmp_path),
    )
    assert proc.returncode == 1 and "has no project envpool-assets-robotics" in proc.stderr


def test_unknown_family_and_unreachable_index(tmp_path: Path) -> None:
    proc = run([sys.executable, "-m", "envpool", "assets", "fetch", "doom"], env_for(tmp_path))
    assert proc.returncode == 2 and "unknown family 'doom'" in proc.stderr and "vizdoom" in proc.stderr
    proc = run(fetch_cmd("--index-url", "http://127.0.0.1:9/simple", "--dest", str(tmp_path)), env_for(tmp_path))
    assert proc.returncode == 1 and "cannot reach the index" in proc.stderr


def test_fetch_real_wheel_from_wheelhouse_index(wheelhouse: Path, tmp_path: Path) -> None:
    """The real asset wheel of the wheelhouse, served by a generated PEP 503 index."""
    wheels = sorted(wheelhouse.glob(f"{PKG}-{VERSION}-*.whl"))
    if not wheels:
        pytest.skip(f"no {PKG} {VERSION} wheel in {wheelhouse}")
    state = IndexState(files={w.name: w for w in wheels})
    handler = type("Handler", (_Handler,), {"state": state})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/simple"
        proc = run(fetch_cmd("--index-url", url, "--dest", str(tmp_path / "store")), env_for(tmp_path))
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 0, proc.stderr
    tree = tmp_path / "store" / FAMILY
    assert verify_tree(tree, FAMILY, VERSION) == []
    with zipfile.ZipFile(wheels[0]) as zf:
        inner = json.loads(zf.read(f"{PKG}/data/manifest.json"))
    assert set(json.loads((tree / "manifest.json").read_text())["files"]) == set(inner["files"])
