"""``envpool[procgen]`` in a minimal Debian root: no Qt, no libGL, no glib, no compiler there.

The root is ``debootstrap --variant=minbase --include=python3,python3-venv bookworm`` (about a
minute; cached under .cache/minimal-bookworm). A venv is made inside it with chroot, envpool is
installed from the wheelhouse and the third-party cache only (bind-mounted read-only), and a
procgen env is stepped. The same root without the extra gives the missing-extra error.

Needs root, chroot, mount and debootstrap (CI: ``apt-get install -y debootstrap``); without them
the tests are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.family("procgen")

SUITE = "bookworm"
MIRROR = os.environ.get("ENVPOOL_DEBIAN_MIRROR", "http://deb.debian.org/debian")
MARKER = ".envpool-minimal-root-complete"


def _require_tools() -> None:
    if os.geteuid() != 0:
        pytest.skip("the minimal-image test needs root (debootstrap, chroot, mount)")
    for tool in ("debootstrap", "chroot", "mount", "umount"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install -y debootstrap)")


def _build_root(target: Path) -> None:
    """debootstrap into a temporary directory, then move it into place (a cache is complete or absent)."""
    tmp = target.with_name(target.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["debootstrap", "--variant=minbase", "--include=python3,python3-venv", SUITE, str(tmp), MIRROR]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
    (tmp / MARKER).write_text(f"{SUITE} minbase python3 python3-venv\n")
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)


@pytest.fixture(scope="module")
def minimal_root(repo_root: Path, wheelhouse: Path, thirdparty: Path) -> Iterator[Path]:
    """The cached minimal root with the wheelhouse and third-party cache mounted under /mnt."""
    _require_tools()
    root = repo_root / ".cache" / "minimal-bookworm"
    if not (root / MARKER).is_file():
        _build_root(root)
    mounts: list[Path] = []
    try:
        for name, src in (("wheelhouse", wheelhouse), ("thirdparty", thirdparty)):
            point = root / "mnt" / name
            point.mkdir(parents=True, exist_ok=True)
            subprocess.run(["mount", "--bind", str(src), str(point)], check=True)
            mounts.append(point)
            subprocess.run(["mount", "-o", "remount,bind,ro", str(point)], check=True)
        proc = root / "proc"
        proc.mkdir(exist_ok=True)
        subprocess.run(["mount", "-t", "proc", "proc", str(proc)], check=True)
        mounts.append(proc)
        yield root
    finally:
        for point in reversed(mounts):
            subprocess.run(["umount", "-l", str(point)], check=False)


def _chroot(root: Path, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8"}
    res = subprocess.run(["chroot", str(root), *cmd], capture_output=True, text=True, env=env, timeout=900, check=False)
    if check and res.returncode != 0:
        raise AssertionError(f"chroot {' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res


@pytest.fixture
def chroot_venv(minimal_root: Path) -> Iterator[str]:
    """A fresh venv inside the root (its path as seen from inside), removed afterwards."""
    inside = f"/opt/venv-{uuid.uuid4().hex[:8]}"
    _chroot(minimal_root, "/usr/bin/python3", "-m", "venv", inside)
    try:
        yield inside
    finally:
        shutil.rmtree(minimal_root / inside.lstrip("/"), ignore_errors=True)


def _pip_install(root: Path, venv: str, requirement: str) -> None:
    _chroot(
        root,
        f"{venv}/bin/python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-index",
        "--find-links",
        "/mnt/wheelhouse",
        "--find-links",
        "/mnt/thirdparty",
        requirement,
    )


def test_root_is_minimal(minimal_root: Path) -> None:
    """The root really lacks what the library wheel provides, and has no compiler."""
    libdirs = [minimal_root / "usr/lib/x86_64-linux-gnu", minimal_root / "usr/lib"]
    for pattern in ("libQt5Core.so*", "libQt5Gui.so*", "libGL.so*", "libglib-2.0.so*", "libicuuc.so*", "libX11.so*"):
        found = [p for d in libdirs for p in d.glob(pattern)]
        assert not found, f"the minimal root has {found}"
    for tool in ("cc", "gcc", "g++", "c++"):
        assert not (minimal_root / "usr/bin" / tool).exists(), tool
    version = _chroot(minimal_root, "/usr/bin/python3", "-c", "import sys; print(sys.version_info[:2])").stdout
    assert version.strip() == "(3, 11)"


STEP = """
import numpy as np, envpool, envpool_procgen_libs
for task in ("QtMaze-v0", "QtDodge-v0"):
    env = envpool.make(task, num_envs=4, seed=0)
    obs, _ = env.reset()
    for _ in range(50):
        obs, rew, term, trunc, info = env.step(np.random.default_rng(0).integers(0, 15, size=4))
    assert obs.shape == (4, 64, 64, 3) and obs.dtype == np.uint8
    assert len(np.unique(obs[0].reshape(-1, 3), axis=0)) > 4
    env.close()
from envpool import _procgen  # private; importable once the family was loaded
libdir = str(envpool_procgen_libs.library_dir())
assert _procgen.qt_core_path().startswith(libdir), _procgen.qt_core_path()
maps = open("/proc/self/maps").read()
qt = sorted({line.split()[-1] for line in maps.splitlines() if "libQt5" in line or "libicu" in line or "libGL" in line})
assert qt and all(p.startswith(libdir) for p in qt), qt
print("OK", _procgen.qt_version(), len(qt))
"""


def test_procgen_steps_in_minimal_root(minimal_root: Path, chroot_venv: str) -> None:
    _pip_install(minimal_root, chroot_venv, "envpool[procgen]")
    res = _chroot(minimal_root, f"{chroot_venv}/bin/python", "-c", STEP, check=False)
    assert res.returncode == 0 and res.stdout.startswith("OK 5."), res.stdout + res.stderr


def test_missing_extra_in_minimal_root(minimal_root: Path, chroot_venv: str) -> None:
    _pip_install(minimal_root, chroot_venv, "envpool")
    code = (
        "import envpool\n"
        "try:\n    envpool.make('QtMaze-v0')\n"
        "except envpool.errors.MissingExtraError as e:\n    print('MISSING', e)\n"
        "else:\n    print('NO ERROR')\n"
    )
    res = _chroot(minimal_root, f"{chroot_venv}/bin/python", "-c", code, check=False)
    assert res.stdout.startswith("MISSING"), res.stdout + res.stderr
    assert 'pip install "envpool[procgen]==' in res.stdout
