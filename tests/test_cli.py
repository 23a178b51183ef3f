"""The ``envpool`` command: start-up cost, ``doctor`` on real venvs, ``assets verify`` on real wheels.

Venvs come from the wheelhouse (make_venv). The skewed case installs, with --no-deps, a copy of the
real asset wheel whose version was rewritten; the corrupted case edits a file in site-packages.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import envpool
from tests.helpers import replace_file
from tools.common.distfile import with_version

VERSION = envpool.__version__
MakeVenv = Callable[..., Path]


def run(python: Path, *args: str, code: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m envpool ARGS`` (or ``python -c CODE``) with a clean, private environment."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "ENVPOOL_", "LD_"))}
    full["ENVPOOL_CACHE_DIR"] = str(python.parent.parent / "no-cache")
    full.update(env)
    cmd = [str(python), "-c", code] if code is not None else [str(python), "-m", "envpool", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=full, cwd="/", timeout=600, check=False)


def doctor(python: Path, *families: str, **env: str) -> tuple[int, dict[str, Any]]:
    proc = run(python, "doctor", "--json", *families, **env)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def family(report: dict[str, Any], name: str) -> dict[str, Any]:
    families = report["families"]
    assert isinstance(families, list)
    return next(f for f in families if f["name"] == name)


@pytest.fixture(scope="module")
def core_python(make_venv: MakeVenv) -> Path:
    return make_venv(["envpool"])


def test_console_script_and_module(core_python: Path) -> None:
    script = core_python.parent / "envpool"
    proc = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == f"envpool {VERSION}"
    proc = run(core_python, "--help")
    assert proc.returncode == 0 and "doctor" in proc.stdout and "assets" in proc.stdout
    proc = run(core_python)
    assert proc.returncode == 2 and "required" in proc.stderr


def test_cli_start_imports_nothing_heavy(core_python: Path) -> None:
    code = (
        "import sys; from envpool.cli import main; rc = main(['assets', 'list']); "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'gymnasium') "
        "or m.startswith('envpool._') and m not in ('envpool._version',)); print(heavy); sys.exit(rc)"
    )
    proc = run(core_python, code=code)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_doctor_on_the_core_alone(core_python: Path) -> None:
    rc, report = doctor(core_python)
    assert rc == 0
    py = report["python"]
    assert isinstance(py, dict)
    assert py["interpreter_tag"] == f"cp{sys.version_info.major}{sys.version_info.minor}"
    assert py["platform_tag"].startswith("linux_")
    dists = {d["name"]: d for d in report["distributions"]}
    assert dists["envpool"]["version"] == VERSION and dists["envpool"]["ok"]
    classic = family(report, "classic_control")
    assert classic["status"] == "ready"
    libs = classic["libraries"]
    assert isinstance(libs, list)
    ext = [lib for lib in libs if "_classic_control" in lib["path"]]
    assert ext and ext[0]["owner"] == "envpool", libs
    for name in ("vizdoom", "robotics", "procgen"):
        f = family(report, name)
        assert f["status"] == "missing", f
        assert f["fix"] == f'pip install "envpool[{name}]=={VERSION}"'
    text = run(core_python, "doctor")
    assert text.returncode == 0
    assert re.search(r"vizdoom: MISSING\n\s+assets: none", text.stdout), text.stdout
    assert "classic_control: READY" in text.stdout


def test_doctor_exit_status_and_environment(core_python: Path) -> None:
    rc, _ = doctor(core_python, "classic_control")
    assert rc == 0
    rc, report = doctor(core_python, "classic_control", "vizdoom")
    assert rc == 1
    assert family(report, "vizdoom")["status"] == "missing"
    proc = run(core_python, "doctor", "vizdom")
    assert proc.returncode == 2 and "unknown family 'vizdom'" in proc.stderr and "vizdoom" in proc.stderr
    rc, report = doctor(core_python, "classic_control", LD_LIBRARY_PATH="/nonexistent/lib")
    assert rc == 0, report  # reported, not a failure: classic_control is still ready
    assert family(report, "classic_control")["status"] == "ready"
    assert report["environment"] == {"LD_LIBRARY_PATH": "/nonexistent/lib"}
    text = run(core_python, "doctor", "classic_control", LD_LIBRARY_PATH="/nonexistent/lib")
    assert text.returncode == 0, text.stderr
    assert "LD_LIBRARY_PATH=/nonexistent/lib" in text.stdout


# --- with the real vizdoom asset wheel ----------------------------------------------------------


@pytest.fixture(scope="module")
def vizdoom_wheel(wheelhouse: Path) -> Path:
    wheels = sorted(wheelhouse.glob(f"envpool_assets_vizdoom-{VERSION}-*.whl"))
    if not wheels:
        pytest.skip(f"no envpool_assets_vizdoom {VERSION} wheel in {wheelhouse} yet")
    return wheels[0]


def site_root(python: Path) -> Path:
    proc = run(python, code="import envpool_assets_vizdoom as m; print(m.root())")
    assert proc.returncode == 0, proc.stderr
    return Path(proc.stdout.strip())


DOOM_RUN = (
    "import envpool, numpy as np\n"
    "env = envpool.make('DoomNav-MyWayHome-v0', num_envs=2)\n"
    "obs, info = env.reset()\n"
    "obs, rew, term, trunc, info = env.step(np.zeros(2, dtype=np.int64))\n"
    "print(env.spec.native_options['asset_root'])\n"
)


def test_doctor_vizdoom_ready(make_venv: MakeVenv, vizdoom_wheel: Path) -> None:
    python = make_venv(["envpool[vizdoom]"])
    rc, report = doctor(python, "vizdoom")
    f = family(report, "vizdoom")
    assert rc == 0 and f["status"] == "ready", f
    assets = f["assets"]
    assert isinstance(assets, dict)
    assert assets["origin"] == "package" and assets["version"] == VERSION
    libs = f["libraries"]
    assert isinstance(libs, list)
    assert any("_vizdoom" in lib["path"] and lib["owner"] == "envpool" for lib in libs), libs
    dists = {d["name"]: d for d in report["distributions"]}
    assert dists["envpool-assets-vizdoom"]["ok"]
    verify = run(python, "assets", "verify")
    assert verify.returncode == 0 and "vizdoom: OK (package envpool-assets-vizdoom" in verify.stdout


def test_doctor_vizdoom_skewed(make_venv: MakeVenv, vizdoom_wheel: Path, tmp_path: Path) -> None:
    python = make_venv(["envpool[vizdoom]"])
    skewed = with_version(vizdoom_wheel, "0.0.9", tmp_path)
    make_venv.install(python, [str(skewed)], no_deps=True)  # type: ignore[attr-defined]
    rc, report = doctor(python, "vizdoom")
    f = family(report, "vizdoom")
    assert rc == 1 and f["status"] == "skewed", f
    assert "envpool-assets-vizdoom 0.0.9 is installed" in str(f["reason"])
    assert f["fix"] == f'pip install "envpool[vizdoom]=={VERSION}"'
    dists = {d["name"]: d for d in report["distributions"]}
    assert dists["envpool-assets-vizdoom"]["ok"] is False and dists["envpool-assets-vizdoom"]["pin"] == VERSION
    assert run(python, "doctor").returncode == 1  # unnamed: a skewed family is still an error
    proc = run(python, code=DOOM_RUN)
    assert "VersionSkewError" in proc.stderr and "0.0.9" in proc.stderr


def test_doctor_and_verify_catch_a_modified_file(make_venv: MakeVenv, vizdoom_wheel: Path) -> None:
    python = make_venv(["envpool[vizdoom]"])
    root = site_root(python)
    manifest = json.loads((root / "manifest.json").read_text())
    rel = max(manifest["files"], key=lambda r: manifest["files"][r]["size"])
    victim = root / rel
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x5A  # same size: only the sha256 check sees it
    replace_file(victim, bytes(data))
    verify = run(python, "assets", "verify", "vizdoom")
    assert verify.returncode == 1
    assert f"changed: {rel}" in verify.stdout
    assert "pip install --force-reinstall --no-deps" in verify.stdout
    rc, report = doctor(python, "vizdoom")
    f = family(report, "vizdoom")
    assert rc == 1 and f["status"] == "broken" and rel in str(f["reason"])
    replace_file(victim, bytes(data[:1000]))  # truncated: the runtime's size check refuses it
    proc = run(python, code=DOOM_RUN)
    assert "BrokenInstallError" in proc.stderr and rel in proc.stderr


def test_two_core_venvs_share_one_exported_store(make_venv: MakeVenv, vizdoom_wheel: Path, tmp_path: Path) -> None:
    full = make_venv(["envpool[vizdoom]"])
    store = tmp_path / "store"
    proc = run(full, "assets", "export", "vizdoom", str(store))
    assert proc.returncode == 0, proc.stderr
    before = sorted((str(p), p.stat().st_mtime_ns) for p in store.rglob("*"))
    for _ in range(2):
        core = make_venv(["envpool"])
        assert run(core, code="import envpool_assets_vizdoom").returncode != 0  # really only the core
        proc = run(core, code=DOOM_RUN, ENVPOOL_ASSETS_PATH=str(store))
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip().splitlines()[-1] == str(store / "vizdoom")
        rc, report = doctor(core, "vizdoom", ENVPOOL_ASSETS_PATH=str(store))
        f = family(report, "vizdoom")
        assert rc == 0 and f["status"] == "ready" and f["assets"]["origin"] == "store", f
    assert sorted((str(p), p.stat().st_mtime_ns) for p in store.rglob("*")) == before
