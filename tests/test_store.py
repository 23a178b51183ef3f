"""The shared read-only asset store (ENVPOOL_ASSETS_PATH), in a venv holding only the core.

The trees here are fake (random files at the vizdoom task paths, with a correct manifest): they
test where the core looks, the version check, the integrity checks and export, not the game.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

import envpool
from envpool.tasks import assets_of

if TYPE_CHECKING:
    from pathlib import Path

VERSION = envpool.__version__


def make_tree(store: Path, family: str = "vizdoom", version: str = VERSION, seed: int = 0) -> Path:
    """A store tree of ``family``: every task asset path with random bytes, and its manifest."""
    rng = random.Random(seed)
    root = store / family
    files = {}
    for i, rel in enumerate(assets_of(family)):
        data = rng.randbytes(5000 + 100 * i)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
        files[rel] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "license": "BSD-3-Clause"}
    manifest = {"family": family, "distribution": f"envpool-assets-{family}", "version": version, "files": files}
    (root / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return root


def snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """Size, mtime and mode of everything under ``root`` (to prove nothing was written)."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns, p.stat().st_mode) for p in root.rglob("*")
    } | {".": (0, root.stat().st_mtime_ns, root.stat().st_mode)}


Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def core_python(make_venv: Callable[..., Path]) -> Path:
    """A venv with only the core (no asset package of any family)."""
    return make_venv(["envpool"])


@pytest.fixture
def run(core_python: Path, tmp_path: Path) -> Run:
    """Run ``envpool ARGS`` (or ``python -c CODE`` with code=...) in the core venv with a clean environment."""

    def go(*args: str, code: str | None = None, store: Path | str | None = None) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "ENVPOOL_"))}
        env["ENVPOOL_CACHE_DIR"] = str(tmp_path / "cache")
        if store is not None:
            env["ENVPOOL_ASSETS_PATH"] = str(store)
        cmd = [str(core_python), "-c", code] if code is not None else [str(core_python), "-m", "envpool", *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd="/", timeout=300, check=False)

    return go


ASSET_ROOT = "from envpool.resolution import asset_root; print(asset_root('vizdoom'))"


def test_no_package_and_no_store_is_a_missing_extra(run: Run) -> None:
    proc = run(code=ASSET_ROOT)
    assert proc.returncode == 1
    assert "MissingExtraError" in proc.stderr
    assert f'pip install "envpool[vizdoom]=={VERSION}"' in proc.stderr
    assert "ENVPOOL_ASSETS_PATH is unset" in proc.stderr


def test_store_stands_in_for_the_asset_package(run: Run, tmp_path: Path) -> None:
    store = tmp_path / "store"
    root = make_tree(store)
    before = snapshot(store)
    proc = run(code=ASSET_ROOT, store=store)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(root)
    path = run("assets", "path", "vizdoom", store=store)
    assert path.returncode == 0 and path.stdout.strip() == str(root)
    listing = run("assets", "list", "--json", store=store)
    row = next(r for r in json.loads(listing.stdout) if r["family"] == "vizdoom")
    assert row["origin"] == "store" and row["version"] == VERSION and row["files"] == len(assets_of("vizdoom"))
    verify = run("assets", "verify", "vizdoom", store=store)
    assert verify.returncode == 0 and "vizdoom: OK (store" in verify.stdout
    doctor = run("doctor", "--json", "vizdoom", store=store)
    report = json.loads(doctor.stdout)["families"][0]
    assert report["assets"]["origin"] == "store" and report["assets"]["root"] == str(root)
    assert report["status"] == "ready", report  # the core wheel always carries the vizdoom module
    assert json.loads(doctor.stdout)["environment"]["ENVPOOL_ASSETS_PATH"] == str(store)
    assert snapshot(store) == before  # the runtime never writes into a store


def test_first_store_on_the_path_wins_and_the_cache_comes_last(run: Run, tmp_path: Path) -> None:
    empty, second = tmp_path / "empty", tmp_path / "second"
    empty.mkdir()
    make_tree(second)
    cache_tree = make_tree(tmp_path / "cache" / "assets" / VERSION, seed=1)
    proc = run(code=ASSET_ROOT, store=f"{empty}{os.pathsep}{second}")
    assert proc.stdout.strip() == str(second / "vizdoom"), proc.stderr
    proc = run(code=ASSET_ROOT)  # no ENVPOOL_ASSETS_PATH: the fetch cache of this version
    assert proc.stdout.strip() == str(cache_tree), proc.stderr


def test_store_of_another_version_is_refused(run: Run, tmp_path: Path) -> None:
    store = tmp_path / "store"
    make_tree(store, version="0.0.7")
    proc = run(code=ASSET_ROOT, store=store)
    assert proc.returncode == 1
    assert "VersionSkewError" in proc.stderr
    assert f"needs assets version {VERSION}" in proc.stderr and "holds version 0.0.7" in proc.stderr
    make = run(code="import envpool; envpool.make('DoomNav-MyWayHome-v0')", store=store)
    assert "VersionSkewError" in make.stderr and "0.0.7" in make.stderr
    doctor = run("doctor", "--json", "vizdoom", store=store)
    assert doctor.returncode == 1
    assert json.loads(doctor.stdout)["families"][0]["status"] == "skewed"


@pytest.mark.parametrize("fault", ["truncated", "missing", "changed"])
def test_damaged_store_file_is_named(run: Run, tmp_path: Path, fault: str) -> None:
    store = tmp_path / "store"
    root = make_tree(store)
    rel = assets_of("vizdoom")[-1]
    victim = root / rel
    if fault == "truncated":
        victim.write_bytes(victim.read_bytes()[:100])
    elif fault == "missing":
        victim.unlink()
    else:  # same size, one byte differs: only the sha256 check sees it
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0xFF
        victim.write_bytes(bytes(data))
    verify = run("assets", "verify", "vizdoom", store=store)
    assert verify.returncode == 1
    kind = {"truncated": "size", "missing": "missing", "changed": "changed"}[fault]
    assert f"{kind}: {rel}" in verify.stdout
    assert "fix: export or fetch the vizdoom tree again" in verify.stdout
    doctor = run("doctor", "--json", "vizdoom", store=store)
    assert doctor.returncode == 1
    family = json.loads(doctor.stdout)["families"][0]
    assert family["status"] == "broken" and rel in family["reason"]
    proc = run(code=ASSET_ROOT, store=store)
    if fault == "changed":  # the cheap runtime check looks at sizes only
        assert proc.returncode == 0, proc.stderr
    else:
        assert proc.returncode == 1 and "BrokenInstallError" in proc.stderr and rel in proc.stderr


def test_store_manifest_garbage_is_reported(run: Run, tmp_path: Path) -> None:
    store = tmp_path / "store"
    root = make_tree(store)
    (root / "manifest.json").write_text("{not json")
    proc = run(code=ASSET_ROOT, store=store)
    assert proc.returncode == 1 and "BrokenInstallError" in proc.stderr and "manifest.json" in proc.stderr


def test_store_never_substitutes_for_other_siblings(run: Run, tmp_path: Path) -> None:
    """robotics also needs mujoco-core: a robotics store alone does not make the family usable."""
    store = tmp_path / "store"
    make_tree(store, family="robotics")
    proc = run(code="from envpool.resolution import asset_root; asset_root('robotics')", store=store)
    assert proc.returncode == 1
    assert "MissingExtraError" in proc.stderr and "mujoco-core" in proc.stderr
    assert f'pip install "envpool[robotics]=={VERSION}"' in proc.stderr


def test_export_between_stores(run: Run, tmp_path: Path) -> None:
    source, dest = tmp_path / "source", tmp_path / "dest"
    make_tree(source)
    proc = run("assets", "export", "vizdoom", str(dest), store=source)
    assert proc.returncode == 0, proc.stderr
    assert f"ENVPOOL_ASSETS_PATH={dest}" in proc.stdout
    assert run("assets", "verify", "vizdoom", store=dest).returncode == 0
    assert (dest / "vizdoom" / "manifest.json").read_bytes() == (source / "vizdoom" / "manifest.json").read_bytes()
    before = snapshot(dest)
    again = run("assets", "export", "vizdoom", str(dest), store=source)
    assert again.returncode == 0 and "present" in again.stdout
    assert snapshot(dest) == before


def test_export_keeps_another_version_and_refuses_a_broken_source(run: Run, tmp_path: Path) -> None:
    source, dest = tmp_path / "source", tmp_path / "dest"
    root = make_tree(source)
    make_tree(dest, version="0.0.7")
    before = snapshot(dest)
    proc = run("assets", "export", "vizdoom", str(dest), store=source)
    assert proc.returncode == 1 and "holds vizdoom assets version 0.0.7" in proc.stderr
    assert snapshot(dest) == before
    (root / assets_of("vizdoom")[0]).write_bytes(b"x")
    proc = run("assets", "export", "vizdoom", str(tmp_path / "fresh"), store=source)
    assert proc.returncode == 1 and "refusing to export broken vizdoom assets" in proc.stderr
    assert not (tmp_path / "fresh" / "vizdoom").exists()


def test_bad_family_names(run: Run, tmp_path: Path) -> None:
    for args in (["assets", "path", "doom"], ["assets", "verify", "doom"], ["assets", "export", "doom", "x"]):
        proc = run(*args)
        assert proc.returncode == 2, args
        assert "unknown family 'doom'" in proc.stderr and "vizdoom" in proc.stderr
    proc = run("assets", "path", "classic_control")
    assert proc.returncode == 2 and "families with assets" in proc.stderr
    proc = run("assets", "path", "vizdoom")
    assert proc.returncode == 1 and f'pip install "envpool[vizdoom]=={VERSION}"' in proc.stderr
