"""The ABI fingerprint at run time (issue 13, item 2): the core refuses a library wheel built differently.

A library wheel of the same version whose libraries export other symbols is "rebuilt" from the
wheelhouse's: one exported symbol of libQt5Gui renamed, its manifest entry and fingerprint
recomputed with the build's own tools, the wheel rewritten with the one wheel writer. Installed
beside the real core, it must be refused by name at ``envpool.make``. A missing or corrupted
fingerprint, on either side, is a clear error naming the file and the fix, never a traceback.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from tests.helpers import replace_file, run_python, wheel_for_this_python
from tools.common.distfile import rewrite_wheel
from tools.common.elf import dynamic_symbols
from tools.common.hashing import sha256_bytes
from tools.procgen_libs.fingerprint import abi_fingerprint
from tools.procgen_libs.wheel import manifest_json

pytestmark = pytest.mark.family("procgen")

DIST = "envpool-procgen-libs"
MANIFEST = "envpool_procgen_libs/_manifest.json"
MAKE = (
    "import envpool\n"
    "try:\n"
    "    envpool.make('QtMaze-v0')\n"
    "except Exception as e:\n"
    "    print(type(e).__name__)\n"
    "    print(e)\n"
    "else:\n"
    "    print('made')\n"
)


def _libs_wheel(wheelhouse: Path) -> Path:
    """The envpool-procgen-libs wheel this interpreter installs (the wheelhouse holds one per architecture)."""
    if not list(wheelhouse.glob("envpool_procgen_libs-*.whl")):
        pytest.skip("no envpool-procgen-libs wheel in the wheelhouse")
    return wheel_for_this_python(wheelhouse, "envpool_procgen_libs")


def _site_packages(python: Path) -> Path:
    (found,) = python.parent.parent.glob("lib/python3*/site-packages")
    return found


def _rebuilt_with_renamed_symbol(wheel: Path, tmp: Path) -> tuple[Path, str, str]:
    """The library wheel with one libQt5Gui export renamed: (wheel, old fingerprint, new fingerprint)."""
    libdir = tmp / "lib"
    libdir.mkdir()
    with zipfile.ZipFile(wheel) as zf:
        manifest = json.loads(zf.read(MANIFEST))
        for entry in manifest["libraries"]:
            (libdir / entry["soname"]).write_bytes(zf.read(f"envpool_procgen_libs/{entry['file']}"))
    gui = libdir / "libQt5Gui.so.5"
    data = gui.read_bytes()
    name = next(n for n in sorted(dynamic_symbols(gui).exports) if b"\0" + n.encode() + b"\0" in data).encode()
    renamed = name[:-1] + (b"X" if name[-1:] != b"X" else b"Y")  # same length: the ELF layout is unchanged
    data = data.replace(b"\0" + name + b"\0", b"\0" + renamed + b"\0")
    gui.write_bytes(data)
    (entry,) = [e for e in manifest["libraries"] if e["soname"] == "libQt5Gui.so.5"]
    entry["sha256"], entry["size"] = sha256_bytes(data), len(data)
    old = manifest["abi"]["fingerprint"]
    manifest["abi"] = abi_fingerprint(libdir, manifest["abi"]["library_versions"])
    out = tmp / "rebuilt"
    out.mkdir()
    rebuilt = rewrite_wheel(
        wheel,
        out / wheel.name,
        replace={
            "envpool_procgen_libs/lib/libQt5Gui.so.5": data,
            MANIFEST: manifest_json(manifest, manifest["version"]).encode(),
        },
    )
    return rebuilt, old, manifest["abi"]["fingerprint"]


def test_same_version_other_abi_is_refused(make_venv, wheelhouse: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rebuilt, old, new = _rebuilt_with_renamed_symbol(_libs_wheel(wheelhouse), tmp_path)
    assert new != old
    version = rebuilt.name.split("-")[1]
    python = make_venv([str(rebuilt), "envpool[procgen]"])
    res = run_python(python, MAKE)
    assert res.stdout.startswith("BrokenInstallError"), res.stdout + res.stderr
    # both fingerprints (short form), both versions and the fix
    assert new[:19] in res.stdout and old[:19] in res.stdout, res.stdout
    assert f"{DIST} {version} is not the build envpool {version} was built against" in res.stdout
    assert f'pip install --force-reinstall "envpool[procgen]=={version}"' in res.stdout
    # refused before loading: no library of the rebuilt wheel is mapped into the process
    probe = MAKE + "print(sum('libQt5Gui' in line for line in open('/proc/self/maps')))\n"
    assert run_python(python, probe).stdout.strip().endswith("\n0")


def test_the_real_pair_is_accepted(make_venv) -> None:  # type: ignore[no-untyped-def]
    python = make_venv(["envpool[procgen]"])
    code = (
        "import json, envpool, envpool_procgen_libs as L\n"
        "from envpool import procgen_loader\n"
        "envpool.make('QtMaze-v0').reset()\n"
        "print(procgen_loader.recorded_abi()['fingerprint'] == L.fingerprint())\n"
    )
    res = run_python(python, code)
    assert res.returncode == 0 and res.stdout.strip() == "True", res.stdout + res.stderr


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        ("delete", "FileNotFoundError"),
        ("garbage", "JSONDecodeError"),
        ("no fingerprint", "no version or sha256 fingerprint"),
    ],
)
def test_corrupted_core_record(make_venv, damage: str, said: str) -> None:  # type: ignore[no-untyped-def]
    python = make_venv(["envpool[procgen]"])
    record = _site_packages(python) / "envpool" / "_procgen_abi.json"
    if damage == "delete":
        record.unlink()
    elif damage == "garbage":
        replace_file(record, b'{"fingerprint": "sha256:01')
    else:
        data = json.loads(record.read_text())
        del data["fingerprint"]
        replace_file(record, json.dumps(data).encode())
    res = run_python(python, MAKE)
    assert res.stdout.startswith("BrokenInstallError"), res.stdout + res.stderr
    assert str(record) in res.stdout and said in res.stdout
    assert 'pip install --force-reinstall "envpool[procgen]==' in res.stdout
    assert "Traceback" not in res.stdout + res.stderr


@pytest.mark.parametrize(
    ("damage", "said"), [("garbage", "cannot read its manifest"), ("no abi", "no ABI fingerprint")]
)
def test_corrupted_library_manifest(make_venv, damage: str, said: str) -> None:  # type: ignore[no-untyped-def]
    python = make_venv(["envpool[procgen]"])
    path = _site_packages(python) / MANIFEST
    if damage == "garbage":
        replace_file(path, path.read_bytes()[:100])
    else:
        data = json.loads(path.read_text())
        del data["abi"]
        replace_file(path, json.dumps(data).encode())
    res = run_python(python, MAKE)
    assert res.stdout.startswith("BrokenInstallError"), res.stdout + res.stderr
    assert str(path) in res.stdout and said in res.stdout
    assert f'pip install --force-reinstall --no-deps "{DIST}' in res.stdout
    assert "Traceback" not in res.stdout + res.stderr
