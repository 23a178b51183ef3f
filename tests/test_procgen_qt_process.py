"""One Qt per process (issue 13, item 4 and its bad input): PyQt5 before or after, LD_PRELOAD, LD_LIBRARY_PATH.

envpool-procgen-libs carries PyQt5-Qt5 5.15.19's Qt build. With PyQt5 + PyQt5-Qt5 5.15.19 both
orders work and share one copy; another Qt build is refused at once, by name, whichever comes
first. Every case runs in a subprocess of a venv made from the wheelhouse and the third-party cache
(tests/requirements-pyqt5.txt) and reads /proc/self/maps to count the copies.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.helpers import replace_file, run_python

pytestmark = pytest.mark.family("procgen")

PYQT5 = ["PyQt5==5.15.11", "PyQt5-Qt5==5.15.19"]
SYSTEM_LIBDIR = Path("/usr/lib/x86_64-linux-gnu")

STEP_MAZE = """
import hashlib, numpy as np, envpool
env = envpool.make("QtMaze-v0", num_envs=2, seed=7)
obs, _ = env.reset()
for _ in range(5):
    obs, *_ = env.step(np.arange(2) % 15)
out["frames"] = hashlib.sha256(obs.tobytes()).hexdigest()
from envpool import _procgen
out["bound"] = _procgen.qt_core_path()
"""
USE_PYQT5 = """
from PyQt5.QtCore import QCoreApplication, QLocale
from PyQt5.QtGui import QColor, QImage, QPainter
app = QCoreApplication.instance() or QCoreApplication(["t"])
img = QImage(16, 16, QImage.Format_RGB32)
img.fill(QColor(1, 2, 3))
painter = QPainter(img)
painter.fillRect(0, 0, 8, 8, QColor(200, 10, 20))
painter.end()
out["pixels"] = [hex(img.pixel(0, 0)), hex(img.pixel(15, 15))]
out["upper"] = QLocale("de_DE").toUpper("stra\\u00dfe")
"""
REPORT = """
paths = {line.split()[-1] for line in open("/proc/self/maps") if "/" in line}
out["qt_core"] = sorted(p for p in paths if p.rsplit("/", 1)[-1].startswith("libQt5Core.so"))
out["icuuc"] = sorted(p for p in paths if p.rsplit("/", 1)[-1].startswith("libicuuc.so"))
import envpool_procgen_libs
out["shared"] = list(envpool_procgen_libs.load().shared)
print(json.dumps(out))
"""


def _script(*parts: str) -> str:
    return "import json\nout = {}\n" + "".join(parts) + REPORT


def _run(python: Path, code: str, env: dict[str, str] | None = None) -> dict[str, object]:
    res = run_python(python, code, env)
    assert res.returncode == 0, res.stdout + res.stderr
    data: dict[str, object] = json.loads(res.stdout.strip().splitlines()[-1])
    return data


def _site_packages(python: Path) -> Path:
    (found,) = python.parent.parent.glob("lib/python3*/site-packages")
    return found


@pytest.fixture(scope="module")
def pyqt5_venv(make_venv, thirdparty: Path) -> Path:  # type: ignore[no-untyped-def]
    if not list(thirdparty.glob("pyqt5_qt5-5.15.19-*.whl")) or not list(thirdparty.glob("[Pp]y[Qq]t5-5.15.11-*.whl")):
        pytest.skip("PyQt5 is not in the third-party cache: python -m tools.release.thirdparty")
    python: Path = make_venv(["envpool[procgen]", *PYQT5])
    return python


@pytest.fixture(scope="module")
def procgen_venv(make_venv) -> Path:  # type: ignore[no-untyped-def]
    python: Path = make_venv(["envpool[procgen]"])
    return python


@pytest.fixture(scope="module")
def alone(procgen_venv: Path) -> dict[str, object]:
    """QtMaze in a process without PyQt5: the frames every order must reproduce."""
    return _run(procgen_venv, _script(STEP_MAZE))


def test_pyqt5_first_shares_its_qt(pyqt5_venv: Path, alone: dict[str, object]) -> None:
    out = _run(pyqt5_venv, _script(USE_PYQT5, STEP_MAZE, USE_PYQT5))
    pyqt5_core = str(_site_packages(pyqt5_venv) / "PyQt5" / "Qt5" / "lib" / "libQt5Core.so.5")
    assert out["qt_core"] == [pyqt5_core], out  # one copy: PyQt5's, and the procgen module binds to it
    assert out["bound"] == pyqt5_core
    assert len(out["icuuc"]) == 1 and "/PyQt5/" in str(out["icuuc"]), out  # type: ignore[arg-type]
    assert "libQt5Core.so.5" in out["shared"] and "libQt5Gui.so.5" in out["shared"]  # type: ignore[operator]
    assert out["frames"] == alone["frames"]
    assert out["pixels"] == ["0xffc80a14", "0xff010203"] and out["upper"] == "STRASSE"


def test_procgen_first_pyqt5_uses_its_qt(pyqt5_venv: Path, alone: dict[str, object]) -> None:
    out = _run(pyqt5_venv, _script(STEP_MAZE, USE_PYQT5, STEP_MAZE))
    ours = str(_site_packages(pyqt5_venv) / "envpool_procgen_libs" / "lib" / "libQt5Core.so.5")
    assert out["qt_core"] == [ours], out  # one copy: the wheel's, PyQt5 binds to it by soname
    assert out["bound"] == ours and out["shared"] == []
    assert len(out["icuuc"]) == 1 and "/envpool_procgen_libs/" in str(out["icuuc"]), out  # type: ignore[arg-type]
    assert out["frames"] == alone["frames"]
    assert out["pixels"] == ["0xffc80a14", "0xff010203"] and out["upper"] == "STRASSE"


def test_pyqt5_with_another_qt_build_is_refused_in_both_orders(pyqt5_venv: Path) -> None:
    core = _site_packages(pyqt5_venv) / "PyQt5" / "Qt5" / "lib" / "libQt5Core.so.5"
    original = core.read_bytes()
    replace_file(core, original + b"another build")  # loads as before, but its bytes are not the build's
    try:
        first = run_python(pyqt5_venv, "import PyQt5.QtCore\n" + _script(STEP_MAZE))
        assert first.returncode != 0
        assert "BrokenInstallError" in first.stderr and "another Qt/ICU loaded" in first.stderr, first.stderr
        assert str(core) in first.stderr and 'pip install "PyQt5-Qt5==5.15.19"' in first.stderr
        assert "Segmentation fault" not in first.stderr
        after = run_python(pyqt5_venv, _script(STEP_MAZE) + "import PyQt5.QtCore\n")
        assert after.returncode != 0
        assert "ImportError: cannot import PyQt5.QtCore: PyQt5 bundles another Qt build" in after.stderr, after.stderr
        assert str(core) in after.stderr and 'pip install "PyQt5-Qt5==5.15.19"' in after.stderr
        assert "separate processes" in after.stderr
    finally:
        replace_file(core, original)


def _copy_of_wheel_libs(python: Path, dest: Path) -> Path:
    shutil.copytree(_site_packages(python) / "envpool_procgen_libs" / "lib", dest)
    return dest / "libQt5Core.so.5"


def test_ld_preload_of_the_same_build_is_shared(procgen_venv: Path, alone: dict[str, object], tmp_path: Path) -> None:
    copy = _copy_of_wheel_libs(procgen_venv, tmp_path / "elsewhere")
    out = _run(procgen_venv, _script(STEP_MAZE), {"LD_PRELOAD": str(copy)})
    assert out["qt_core"] == [str(copy)] and out["bound"] == str(copy), out
    assert out["frames"] == alone["frames"]


@pytest.mark.parametrize("name", ["libQt5Core.so.5", "qtcore-renamed.so"])
def test_ld_preload_of_a_foreign_qt_core_is_refused(procgen_venv: Path, tmp_path: Path, name: str) -> None:
    copy = _copy_of_wheel_libs(procgen_venv, tmp_path / "foreign")
    replace_file(copy, copy.read_bytes() + b"patched")  # a different build at a different path
    # under another file name it escapes the /proc/self/maps scan; its soname still finds it
    copy = copy.rename(copy.with_name(name))
    res = run_python(procgen_venv, _script(STEP_MAZE), {"LD_PRELOAD": str(copy)})
    assert res.returncode != 0
    assert "BrokenInstallError" in res.stderr and "another Qt/ICU loaded" in res.stderr, res.stderr
    assert f"({copy})" in res.stderr  # only the patched file: its ICU copies are the same build
    assert "two Qt builds cannot share one process" in res.stderr


def test_ld_library_path_at_a_system_qt(procgen_venv: Path, alone: dict[str, object]) -> None:
    if not (SYSTEM_LIBDIR / "libQt5Core.so.5").exists():
        pytest.skip(f"no system Qt in {SYSTEM_LIBDIR}")
    out = _run(procgen_venv, _script(STEP_MAZE), {"LD_LIBRARY_PATH": str(SYSTEM_LIBDIR)})
    ours = str(_site_packages(procgen_venv) / "envpool_procgen_libs" / "lib" / "libQt5Core.so.5")
    assert out["qt_core"] == [ours] and out["bound"] == ours, out
    assert out["frames"] == alone["frames"]
