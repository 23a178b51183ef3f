"""The procgen extra's library wheel: missing, at another version, or with a broken file.

Each case gets a fresh venv from the wheelhouse and asserts the error names the package, the
version or the file, and the fix, before any symbol lookup can fail obscurely.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.helpers import wheel_for_this_python
from tools.common.distfile import with_version
from tools.procgen_libs.upstream import load_lock, lock_path
from tools.release.release_set import arch_of_wheel

# venv-making tests: run in the sessions that have the procgen extra (procgen, all), not in every one
pytestmark = pytest.mark.family("procgen")

DIST = "envpool-procgen-libs"
MAKE = (
    "import envpool\n"
    "try:\n"
    "    envpool.make('QtMaze-v0')\n"
    "except Exception as e:\n"
    "    print(type(e).__name__)\n"
    "    print(e)\n"
)


def run_python(python: Path, code: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with ``python`` from a neutral directory; never raises on a non-zero exit."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(extra_env or {})
    return subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, cwd="/", env=env, check=False, timeout=600
    )


def _version(wheelhouse: Path) -> str:
    wheels = sorted(wheelhouse.glob("envpool-*.whl"))
    if not wheels:
        pytest.skip("no envpool wheel in the wheelhouse")
    return wheels[0].name.split("-")[1]


def _libs_wheel(wheelhouse: Path) -> Path:
    """The envpool-procgen-libs wheel this interpreter installs (the wheelhouse holds one per architecture)."""
    if not list(wheelhouse.glob("envpool_procgen_libs-*.whl")):
        pytest.skip("no envpool-procgen-libs wheel in the wheelhouse")
    return wheel_for_this_python(wheelhouse, "envpool_procgen_libs")


def _site_packages(python: Path) -> Path:
    found = sorted(python.parent.parent.glob("lib/python3*/site-packages"))
    assert found, python
    return found[0]


def _set_manifest_version(version: str) -> Callable[[str, bytes], bytes]:
    def edit(member: str, data: bytes) -> bytes:
        if member.endswith("_manifest.json"):
            manifest = json.loads(data)
            manifest["version"] = version
            data = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
        return data

    return edit


def _detach(path: Path) -> None:
    """Give ``path`` its own inode: installers may hard-link files from their cache, which a
    test that damages a file in place must never touch."""
    copy = path.with_name(path.name + ".detached")
    shutil.copyfile(path, copy)
    copy.chmod(path.stat().st_mode)
    copy.replace(path)


def test_library_wheel_missing(make_venv, wheelhouse: Path) -> None:  # type: ignore[no-untyped-def]
    version = _version(wheelhouse)
    python = make_venv(["envpool"])
    res = run_python(python, MAKE)
    assert res.stdout.startswith("MissingExtraError"), res.stdout + res.stderr
    assert DIST in res.stdout
    assert f'pip install "envpool[procgen]=={version}"' in res.stdout


def test_library_wheel_other_version(make_venv, wheelhouse: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    version = _version(wheelhouse)
    python = make_venv(["envpool[procgen]"])
    other = with_version(_libs_wheel(wheelhouse), "0.0.1", tmp_path, edit=_set_manifest_version("0.0.1"))
    make_venv.install(python, [str(other)], no_deps=True)
    res = run_python(python, MAKE)
    assert res.stdout.startswith("VersionSkewError"), res.stdout + res.stderr
    assert f"{DIST}=={version}" in res.stdout and f"{DIST} 0.0.1 is installed" in res.stdout
    assert f'pip install "envpool[procgen]=={version}"' in res.stdout


SYSTEM_QT_CORE = Path("/usr/lib/x86_64-linux-gnu/libQt5Core.so.5")


@pytest.mark.parametrize(
    ("victim", "damage"),
    [("libQt5Gui.so.5", "delete"), ("libicudata.so.72", "truncate"), ("libQt5Core.so.5", "system copy")],
)
def test_library_file_broken(make_venv, wheelhouse: Path, victim: str, damage: str) -> None:  # type: ignore[no-untyped-def]
    version = _version(wheelhouse)
    python = make_venv(["envpool[procgen]"])
    libdir = _site_packages(python) / "envpool_procgen_libs" / "lib"
    # the ICU major differs between build systems: pick the file by prefix
    path = next(libdir.glob(victim.split(".so.", maxsplit=1)[0] + ".so.*"))
    if damage == "delete":
        path.unlink()
    elif damage == "truncate":
        _detach(path)
        with path.open("r+b") as fh:
            fh.truncate(path.stat().st_size // 2)
    else:  # "fixed" by hand with the system's file
        if not SYSTEM_QT_CORE.exists():
            pytest.skip(f"no system Qt at {SYSTEM_QT_CORE}")
        path.unlink()
        shutil.copyfile(SYSTEM_QT_CORE, path)
    res = run_python(python, MAKE)
    assert res.stdout.startswith("BrokenInstallError"), res.stdout + res.stderr
    assert str(path) in res.stdout
    assert ("is missing" if damage == "delete" else "truncated or replaced") in res.stdout
    assert f'pip install --force-reinstall --no-deps "{DIST}=={version}"' in res.stdout


def test_library_file_changed(make_venv, wheelhouse: Path) -> None:  # type: ignore[no-untyped-def]
    python = make_venv(["envpool[procgen]"])
    path = _site_packages(python) / "envpool_procgen_libs" / "lib" / "libQt5Core.so.5"
    _detach(path)
    with path.open("r+b") as fh:  # same size, one byte different
        fh.seek(path.stat().st_size // 2)
        byte = fh.read(1)[0]
        fh.seek(-1, os.SEEK_CUR)
        fh.write(bytes([byte ^ 0xFF]))
    res = run_python(python, MAKE)
    assert res.stdout.startswith("BrokenInstallError"), res.stdout + res.stderr
    assert "libQt5Core.so.5" in res.stdout and "sha256" in res.stdout


def test_intact_install_loads_from_its_own_directory(make_venv) -> None:  # type: ignore[no-untyped-def]
    python = make_venv(["envpool[procgen]"])
    code = (
        "import envpool, envpool_procgen_libs as L\n"
        "env = envpool.make('QtDodge-v0', num_envs=2)\n"
        "env.reset()\n"
        "from envpool import _procgen\n"
        "info = L.load()\n"
        "print(info.qt_version, info.icu_version, _procgen.qt_core_path())\n"
        "print(L.library_dir())\n"
    )
    res = run_python(python, code)
    assert res.returncode == 0, res.stderr
    first, libdir = res.stdout.splitlines()
    qt, icu, core_path = first.split()
    assert qt.startswith("5.") and icu.split(".")[0].isdigit()
    assert Path(core_path).parent == Path(libdir)
    assert str(_site_packages(python)) in libdir


def test_library_wheel_in_another_directory(make_venv, wheelhouse: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The library wheel installed outside the venv (on PYTHONPATH) is found and used from there."""
    python = make_venv(["envpool"])
    target = tmp_path / "elsewhere"
    uv = Path(sys.executable).parent / "uv"
    cmd = [str(uv), "pip", "install", "--quiet", "--no-index", "--no-deps", "--python", str(python)]
    subprocess.run([*cmd, "--target", str(target), str(_libs_wheel(wheelhouse))], check=True)
    code = (
        "import envpool\n"
        "env = envpool.make('QtMaze-v0', num_envs=2)\n"
        "env.reset()\n"
        "from envpool import _procgen\n"
        "print(_procgen.qt_core_path())\n"
    )
    res = run_python(python, code, {"PYTHONPATH": str(target)})
    assert res.returncode == 0, res.stdout + res.stderr
    assert Path(res.stdout.strip()).parent == target / "envpool_procgen_libs" / "lib"


def _names(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def test_release_set_has_one_icu_and_core_has_no_qt(wheelhouse: Path) -> None:
    libs = _libs_wheel(wheelhouse)
    core = sorted(wheelhouse.glob("envpool-*.whl"))
    assert core, "no core wheel in the wheelhouse"
    for wheel in core:
        bad = [n for n in _names(wheel) if any(k in n for k in ("libQt5", "libicu", "libGL", "libglib"))]
        assert not bad, f"{wheel.name} carries {bad}"
    # one ICU per architecture's set: this architecture's wheels and the pure ones
    arch = arch_of_wheel(libs.name)
    own = [w for w in sorted(wheelhouse.glob("*.whl")) if arch_of_wheel(w.name) in (None, arch)]
    icu = [(w.name, n) for w in own for n in _names(w) if "libicudata" in n]
    assert len(icu) == 1 and icu[0][0] == libs.name, icu


def test_library_wheel_sbom_lists_every_grafted_file(wheelhouse: Path) -> None:
    libs = _libs_wheel(wheelhouse)
    with zipfile.ZipFile(libs) as zf:
        names = zf.namelist()
        sboms = [n for n in names if ".dist-info/sboms/" in n and n.endswith(".json")]
        assert len(sboms) == 1, names
        bom = json.loads(zf.read(sboms[0]))
        manifest = json.loads(zf.read("envpool_procgen_libs/_manifest.json"))
        so_files = sorted(n for n in names if "/lib/" in n and ".so" in n)
        assert bom["bomFormat"] == "CycloneDX"
        listed = {}
        for comp in bom["components"]:
            props = {p["name"]: p["value"] for p in comp["properties"]}
            listed[props["envpool:file"]] = comp
            assert comp["name"] and comp["version"], comp
            digest = hashlib.sha256(zf.read(props["envpool:file"])).hexdigest()
            assert comp["hashes"][0]["content"] == digest
        assert sorted(listed) == so_files
        assert sorted(f"envpool_procgen_libs/{e['file']}" for e in manifest["libraries"]) == so_files
        # each file names the locked upstream artifact it comes from, by package URL and version
        arch = arch_of_wheel(libs.name)
        assert arch is not None, libs.name
        _arch, locked = load_lock(lock_path(arch))
        upstream = {(a.name, a.version): a.purl for a in locked}
        for comp in bom["components"]:
            assert upstream.get((comp["name"], comp["version"])) == comp["purl"], comp
        by_soname = {p["value"]: c for c in bom["components"] for p in c["properties"] if p["name"] == "envpool:soname"}
        assert by_soname["libQt5Core.so.5"]["purl"].startswith("pkg:pypi/pyqt5-qt5@")
        assert by_soname["libglib-2.0.so.0"]["purl"].startswith("pkg:deb/debian/libglib2.0-0@")


def test_system_qt_loaded_first_is_refused(make_venv) -> None:  # type: ignore[no-untyped-def]
    """A Qt loaded before envpool (as PyQt5 would) is never silently mixed with the wheel's."""
    import ctypes.util

    if ctypes.util.find_library("Qt5Core") is None:
        pytest.skip("no system Qt5Core on this machine to load first")
    python = make_venv(["envpool[procgen]"])
    code = "import ctypes, os\nctypes.CDLL('libQt5Core.so.5', mode=os.RTLD_GLOBAL)\n" + MAKE
    res = run_python(python, code)
    assert res.stdout.startswith("BrokenInstallError"), res.stdout + res.stderr
    assert "another Qt/ICU loaded" in res.stdout and "libQt5Core.so" in res.stdout
