"""Every sdist in the wheelhouse builds its wheel alone, three ways, with no checkout beside it.

Each sdist is copied into an empty directory and built with ``uv build --wheel X.tar.gz``,
``python -m build --wheel`` on the unpacked sdist, and ``pip wheel X.tar.gz`` (isolated build
environments: build requirements come from the index, our distributions never do). The wheel
must have the same file list and METADATA as the release wheel in the wheelhouse for this
interpreter; the data wheels must be byte-identical to it.

The core is compiled by each frontend with the machine's default compiler (the release wheel is
zig-built and repaired, so its bytes and WHEEL tags differ by design; its files and metadata may not).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from typing import TYPE_CHECKING

import pytest

from tests.helpers import wheel_for_this_python
from tools.assets.paths import cache_dir
from tools.common.distfile import Artifact, artifacts
from tools.release import release_set

if TYPE_CHECKING:
    from pathlib import Path

FRONTENDS = ("uv", "build", "pip")


def _sdists(wheelhouse: Path) -> list[Artifact]:
    return [a for a in artifacts(wheelhouse) if a.kind == "sdist"]


def _build(frontend: str, sdist: Path, work: Path) -> Path:
    out = work / f"out-{frontend}"
    if frontend == "uv":
        cmd = [shutil.which("uv") or "uv", "build", "--wheel", "--out-dir", str(out), str(sdist)]
        cwd = work
    elif frontend == "build":
        with tarfile.open(sdist) as tf:
            tf.extractall(work / "unpacked", filter="data")
        (cwd,) = (work / "unpacked").iterdir()
        cmd = [sys.executable, "-m", "build", "--wheel", "--outdir", str(out)]
    else:
        cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--wheel-dir", str(out), str(sdist)]
        cwd = work
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=1800, check=False)
    assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}"
    (wheel,) = out.glob("*.whl")
    return wheel


def _names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        skip = (".dist-info/RECORD", ".dist-info/WHEEL", "/")  # auditwheel adds directory entries
        return sorted(n for n in zf.namelist() if not n.endswith(skip))


def _metadata(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        return zf.read(name)


@pytest.mark.slow
@pytest.mark.parametrize("frontend", FRONTENDS)
def test_every_sdist_builds_its_wheel_alone(frontend: str, wheelhouse: Path, tmp_path: Path) -> None:
    sdists = _sdists(wheelhouse)
    present = [p for p in release_set.present() if p.kind != "library"]
    assert {s.name for s in sdists} == {p.normalized for p in present}, "an sdist is missing from the wheelhouse"
    for sdist in sdists:
        work = tmp_path / sdist.name
        work.mkdir()
        alone = work / sdist.path.name
        shutil.copyfile(sdist.path, alone)  # nothing of the checkout beside it
        built = _build(frontend, alone, work)
        release = wheel_for_this_python(wheelhouse, sdist.name)
        assert _names(built) == _names(release), f"{frontend}: {built.name} files differ from {release.name}"
        assert _metadata(built) == _metadata(release), f"{frontend}: {built.name} METADATA differs"
        package = release_set.package_of_artifact(sdist.path.name)
        if package is not None and package.kind == "data":
            assert built.read_bytes() == release.read_bytes(), f"{frontend}: {built.name} is not byte-identical"


@pytest.mark.slow
def test_library_project_builds_with_uv_build(wheelhouse: Path, tmp_path: Path) -> None:
    """``uv build packages/procgen-libs``: the sdist, then the wheel from it alone, byte-identical to the release wheel.

    The library sdist is not released, but it must carry everything its backend needs: the wheel
    is built from the unpacked sdist in an isolated environment, with no checkout beside it.
    """
    (package,) = [p for p in release_set.present() if p.kind == "library"]
    # without the config setting ``machine`` the backend builds this machine's wheel (release_set.ARCHES[0])
    (release,) = [
        a
        for a in artifacts(wheelhouse)
        if a.kind == "wheel"
        and a.name == package.normalized
        and release_set.arch_of_wheel(a.filename) == release_set.ARCHES[0]
    ]
    out = tmp_path / "out"
    env = {**os.environ, "ENVPOOL_ARTIFACT_CACHE": str(cache_dir())}  # the locked downloads, already verified
    cmd = [shutil.which("uv") or "uv", "build", "--out-dir", str(out), str(package.path)]
    res = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1800, check=False)
    assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}"
    (sdist,) = out.glob("*.tar.gz")
    with tarfile.open(sdist) as tf:
        names = tf.getnames()
    assert not any("/.cache/" in n or "/tests/" in n for n in names), names
    (wheel,) = out.glob("*.whl")
    assert wheel.name == release.path.name
    assert wheel.read_bytes() == release.path.read_bytes(), (
        "the wheel built from the sdist differs from the release wheel"
    )
