"""``envpool assets fetch`` against a local PEP 503 / PEP 691 index: indexes, configuration, hashes, caching."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

from envpool.manifest import verify_tree

if TYPE_CHECKING:
    from pathlib import Path

from tests.fetch.index import FAMILY, VERSION, IndexState, env_for, fetch_cmd, leftovers, run


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
