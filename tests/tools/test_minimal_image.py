"""``envpool[all]`` in minimal Debian roots: no Qt, no libGL, no glib, no compiler there.

Two roots, built (about a minute each) and cached by tools/release/minimal_root.py under .cache/minimal-SUITE-amd64:

- ``bookworm`` minbase, CPython 3.11: installs the cp311 core wheel;
- ``trixie`` minbase, CPython 3.13: installs the cp312-abi3 core wheel (skipped while the wheelhouse
  has none).

In each, a venv is made with chroot and ``envpool[all]`` is installed from the wheelhouse and a
third-party cache only (``--no-index --find-links``, both bind-mounted read-only): the cache of
ENVPOOL_THIRDPARTY when the root's CPython is this one, else ``thirdparty-pyXY`` next to it, filled
once with ``pip download --python-version X.Y`` (tools.release.thirdparty.fill_for). One task of
every family steps, procgen's Qt comes from envpool-procgen-libs, ``envpool doctor --all --json`` finds
no conflict and names each library's owner (a wheel, or a Debian package by ``dpkg -S``), and the same
root with the core alone gives the missing-extra error.

A release-tool test (it reads the wheelhouse, not this venv): it runs in one extras combination of
``nox -s tests`` only. Needs root, chroot, mount and debootstrap (CI: ``apt-get install -y debootstrap``); without them
the tests are skipped with the reason.
"""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from typing import TYPE_CHECKING

import pytest

from tools.release import minimal_root, release_set
from tools.release.install_matrix import PROBE
from tools.release.thirdparty import cache_for, fill_for

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.family("procgen")


class Root:
    """A mounted minimal root and what it was built from."""

    def __init__(self, path: Path, suite: minimal_root.Suite) -> None:
        self.path = path
        self.suite = suite

    def run(self, *cmd: str) -> str:
        """stdout of ``cmd`` inside the root; AssertionError with its output when it fails."""
        res = minimal_root.run(self.path, *cmd, check=False)
        if res.returncode != 0:
            raise AssertionError(f"chroot {' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
        return res.stdout


def _core_wheel_missing(suite: minimal_root.Suite, wheelhouse: Path) -> str | None:
    tag = minimal_root.core_build_for(suite.python).tag
    if minimal_root.has_core_for(wheelhouse, release_set.version(), tag):
        return None
    return f"the wheelhouse has no {tag} envpool wheel for {suite.name}: run nox -s build (or -- --only {tag})"


def _thirdparty_for(suite: minimal_root.Suite, wheelhouse: Path, thirdparty: Path) -> Path:
    if suite.python == sys.version_info[:2]:
        return thirdparty
    dest = cache_for(suite.python_version, cache=thirdparty)
    try:
        return fill_for(wheelhouse, dest, suite.python_version)
    except RuntimeError as exc:
        raise AssertionError(f"no third-party wheels for CPython {suite.python_version}: {exc}") from exc


@pytest.fixture(scope="module", params=list(minimal_root.SUITES))
def root(request: pytest.FixtureRequest, wheelhouse: Path, thirdparty: Path) -> Iterator[Root]:
    """A cached minimal root with the wheelhouse and a third-party cache for its CPython under /mnt."""
    reason = minimal_root.missing_requirements()
    if reason:
        pytest.skip(reason)
    suite = minimal_root.SUITES[request.param]
    third = thirdparty
    if _core_wheel_missing(suite, wheelhouse) is None:  # wheels for the root's CPython, only when they are used
        third = _thirdparty_for(suite, wheelhouse, thirdparty)
    path = minimal_root.ensure_root(suite.name)
    with minimal_root.mounted(path, {"wheelhouse": wheelhouse, "thirdparty": third}):
        yield Root(path, suite)


@pytest.fixture
def chroot_venv(root: Root, wheelhouse: Path) -> Iterator[str]:
    """A fresh venv inside the root (its path as seen from inside), removed afterwards.

    Skips when the wheelhouse has no core wheel for the root's CPython.
    """
    reason = _core_wheel_missing(root.suite, wheelhouse)
    if reason:
        pytest.skip(reason)
    inside = f"/opt/venv-{uuid.uuid4().hex[:8]}"
    root.run("/usr/bin/python3", "-m", "venv", inside)
    try:
        yield inside
    finally:
        shutil.rmtree(root.path / inside.lstrip("/"), ignore_errors=True)


def _pip_install(root: Root, venv: str, requirement: str) -> None:
    offline = ["--no-index", "--find-links", "/mnt/wheelhouse", "--find-links", "/mnt/thirdparty"]
    root.run(f"{venv}/bin/python", "-m", "pip", "install", "--quiet", *offline, requirement)


def test_root_is_minimal(root: Root) -> None:
    """The root really lacks what the library wheel provides, and has no compiler."""
    libdirs = [root.path / "usr/lib/x86_64-linux-gnu", root.path / "usr/lib"]
    for pattern in ("libQt5Core.so*", "libQt5Gui.so*", "libGL.so*", "libglib-2.0.so*", "libicuuc.so*", "libX11.so*"):
        found = [p for d in libdirs for p in d.glob(pattern)]
        assert not found, f"the minimal root has {found}"
    for tool in ("cc", "gcc", "g++", "c++"):
        assert not (root.path / "usr/bin" / tool).exists(), tool
    version = root.run("/usr/bin/python3", "-c", "import sys; print(tuple(sys.version_info[:2]))")
    assert version.strip() == str(root.suite.python)


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

WHEEL_TAGS = """
import importlib.metadata as m
wheel = m.distribution("envpool").read_text("WHEEL")
print(" ".join(line.split(": ", 1)[1] for line in wheel.splitlines() if line.startswith("Tag: ")))
"""


def test_every_family_steps_in_minimal_root(root: Root, chroot_venv: str) -> None:
    _pip_install(root, chroot_venv, "envpool[all]")
    python = f"{chroot_venv}/bin/python"
    tag = minimal_root.core_build_for(root.suite.python).tag  # cp311 on bookworm, cp312-abi3 on trixie
    interpreter, _, abi = tag.partition("-")
    tags = root.run(python, "-c", WHEEL_TAGS).split()
    assert tags and all(t.startswith(f"{interpreter}-{abi or interpreter}-") for t in tags), tags
    report = json.loads(root.run(python, "-c", PROBE, "[]").strip().splitlines()[-1])
    assert report["version"] == release_set.version()
    bad = {f: r for f, r in report["families"].items() if r["status"] != "stepped"}
    assert report["families"] and not bad, bad
    res = minimal_root.run(root.path, python, "-c", STEP, check=False)
    assert res.returncode == 0 and res.stdout.startswith("OK 5."), res.stdout + res.stderr
    _doctor_all_in_root(root, python)


def _doctor_all_in_root(root: Root, python: str) -> None:
    """``envpool doctor --all --json`` parses; no conflict; owners come from the wheels and from dpkg."""
    res = minimal_root.run(root.path, python, "-m", "envpool", "doctor", "--all", "--json", check=False)
    report = json.loads(res.stdout)
    inv = report["inventory"]
    assert res.returncode == 0 and inv["conflicts"] == [], (res.returncode, inv["conflicts"], res.stderr)
    assert {f["status"] for f in report["families"]} == {"ready"}, report["families"]
    ours = {d["name"] for d in report["distributions"]}  # envpool's distributions and its pinned siblings
    loaded = [lib for lib in inv["libraries"] if lib["loaded_by"]]
    assert loaded, inv["libraries"]
    for lib in loaded:
        assert lib["owner_kind"] in ("wheel", "system"), lib  # the root's python is a Debian package too
        assert lib["owner_kind"] != "wheel" or lib["owner"] in ours, lib
    owners = {lib["soname"]: lib["owner"] for lib in inv["libraries"]}
    assert owners["libc.so.6"].startswith("libc6"), owners  # asked of dpkg -S in the root
    assert owners["libQt5Core.so.5"] == "envpool-procgen-libs", owners
    assert [i["owner"] for i in inv["icu_data"]["loaded"]] == ["envpool-procgen-libs"], inv["icu_data"]


def test_missing_extra_in_minimal_root(root: Root, chroot_venv: str) -> None:
    _pip_install(root, chroot_venv, "envpool")
    code = (
        "import envpool\n"
        "try:\n    envpool.make('QtMaze-v0')\n"
        "except envpool.errors.MissingExtraError as e:\n    print('MISSING', e)\n"
        "else:\n    print('NO ERROR')\n"
    )
    res = minimal_root.run(root.path, f"{chroot_venv}/bin/python", "-c", code, check=False)
    assert res.stdout.startswith("MISSING"), res.stdout + res.stderr
    assert 'pip install "envpool[procgen]==' in res.stdout
