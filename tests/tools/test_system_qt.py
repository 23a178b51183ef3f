"""A source build links the system's Qt with ``-Ccmake.define.ENVPOOL_QT=system``; a release build never does.

The slow test builds the core from the wheelhouse sdist, alone in an empty directory, with the
machine's default compiler against Debian's qtbase5-dev, installs it into a fresh venv without
envpool-procgen-libs, steps QtMaze and reads ``envpool doctor``. Its METADATA equals the release
wheel's: the library requirement's platform marker is the same in the sdist and every wheel.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.helpers import run_python, wheel_for_this_python
from tools.common.distfile import write_wheel
from tools.release import abi_record, release_set

if TYPE_CHECKING:
    from tests.conftest import MakeVenv

OPTION = "cmake.define.ENVPOOL_QT=system"
RECORD = "envpool/_procgen_abi.json"
STEP_QTMAZE = """
import pathlib, numpy as np, envpool
env = envpool.make("QtMaze-v0", num_envs=2, seed=3)
obs, _ = env.reset()
for _ in range(5):
    obs, rew, term, trunc, _ = env.step(np.zeros(2, dtype=np.int64))
import envpool._procgen as m
print("QT", pathlib.Path(m.qt_core_path()).resolve())
print("SHAPE", obs.shape, int(obs.sum()) > 0)
"""


def _record(wheel: Path) -> dict[str, str]:
    with zipfile.ZipFile(wheel) as zf:
        data: dict[str, str] = json.loads(zf.read(RECORD))
        return data


def _members(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def _metadata(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        return zf.read(name)


@pytest.mark.slow
def test_sdist_built_with_system_qt_steps_qtmaze_without_the_library_wheel(
    wheelhouse: Path, tmp_path: Path, make_venv: MakeVenv
) -> None:
    if not Path("/usr/lib/x86_64-linux-gnu/cmake/Qt5Gui").is_dir():
        pytest.skip("Debian's qtbase5-dev is not installed (apt-get install qtbase5-dev)")
    core = release_set.package_of_kind("extension")
    library = release_set.package_of_kind("library")
    (sdist,) = wheelhouse.glob(f"{core.normalized}-{release_set.version()}.tar.gz")
    alone = tmp_path / "work" / sdist.name
    alone.parent.mkdir()
    shutil.copyfile(sdist, alone)  # nothing of the checkout beside it
    env = {k: v for k, v in os.environ.items() if k not in ("CC", "CXX", "CMAKE_ARGS", "SKBUILD_CMAKE_DEFINE")}
    out = tmp_path / "out"
    cmd = [shutil.which("uv") or "uv", "build", "--wheel", "--out-dir", str(out), f"--config-setting={OPTION}"]
    res = subprocess.run(
        [*cmd, str(alone)], cwd=alone.parent, env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}"
    (built,) = out.glob("*.whl")

    record = _record(built)
    assert record["source"] == "system", record
    assert Path(record["library"]).name.startswith("libQt5Core.so"), record
    assert not [n for n in _members(built) if "libQt5" in n], "a system-Qt build must not carry Qt"
    release = wheel_for_this_python(wheelhouse, core.normalized)
    assert _record(release)["source"] == "wheel", "the release wheel must record the library wheel's Qt"
    assert _metadata(built) == _metadata(release), "the sdist build's METADATA (markers) differs from the release's"

    python = make_venv([])
    make_venv.install(python, [str(built)])  # type: ignore[attr-defined]
    listed = run_python(
        python, "import importlib.metadata as m; print([d.metadata['Name'] for d in m.distributions()])"
    )
    assert "'envpool'" in listed.stdout, listed.stdout + listed.stderr
    assert library.distribution not in listed.stdout.replace("_", "-"), listed.stdout
    stepped = run_python(python, STEP_QTMAZE)
    assert stepped.returncode == 0, stepped.stderr
    assert f"QT {Path(record['library']).parent}/" in stepped.stdout, stepped.stdout
    assert "SHAPE (2, " in stepped.stdout and "True" in stepped.stdout, stepped.stdout

    doctor = subprocess.run(
        [str(python.parent / "envpool"), "doctor", "procgen"], capture_output=True, text=True, cwd="/", check=False
    )
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "procgen: READY" in doctor.stdout, doctor.stdout
    assert f"procgen Qt: system Qt {record['qt_version']} ({record['library']})" in doctor.stdout, doctor.stdout


def test_release_build_refuses_the_system_qt_from_the_environment() -> None:
    assert abi_record.release_qt_setting({}) == ["--config-setting=cmake.define.ENVPOOL_QT=wheel"]
    for var in abi_record.CMAKE_ENV:
        with pytest.raises(abi_record.AbiRecordError, match=f"{var}=.*ENVPOOL_QT=system is for source builds only"):
            abi_record.release_qt_setting({var: "-DENVPOOL_QT=system"})


@pytest.mark.parametrize(
    ("record", "needle"),
    [({"source": "system", "library": "/usr/lib/libQt5Core.so.5"}, "records the 'system' Qt"), (None, "has no")],
)
def test_release_build_refuses_a_core_wheel_without_the_library_record(
    tmp_path: Path, record: dict[str, str] | None, needle: str
) -> None:
    files = {"envpool/__init__.py": b""}
    if record is not None:
        files[RECORD] = json.dumps(record).encode()
    meta = "Metadata-Version: 2.4\nName: envpool\nVersion: 1.0\n"
    wheel = write_wheel(tmp_path, "envpool", "1.0", files, metadata=meta)
    with pytest.raises(abi_record.AbiRecordError, match=needle):
        abi_record.require_wheel_qt(wheel)
    files[RECORD] = json.dumps({"source": "wheel", "fingerprint": "sha256:0"}).encode()
    (tmp_path / "ok").mkdir()
    abi_record.require_wheel_qt(write_wheel(tmp_path / "ok", "envpool", "1.0", files, metadata=meta))
