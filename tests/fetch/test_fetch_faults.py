"""``envpool assets fetch`` faults: signals, killed runs, read-only places, other versions, missing projects."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from typing import TYPE_CHECKING

import pytest

from envpool.manifest import verify_tree
from envpool.tasks import assets_of

if TYPE_CHECKING:
    from pathlib import Path

from tests.fetch.index import (
    DIST,
    FAMILY,
    PKG,
    VERSION,
    IndexState,
    _Handler,
    build_asset_wheel,
    env_for,
    fetch_cmd,
    leftovers,
    run,
)


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
