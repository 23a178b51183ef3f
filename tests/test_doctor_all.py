"""``envpool doctor --all``: the inventory in this venv, conflicts made with copies of the library wheel's
files (on LD_LIBRARY_PATH, in LD_PRELOAD), the separate ``--target`` layout, and the bounds-checked ELF
reader on damaged files.

Each run is a subprocess with a clean environment, so the variables under test reach the dynamic loader.
The build ids are checked against pyelftools (a test requirement; the runtime reads them itself).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from elftools.elf.elffile import ELFFile

import envpool
from envpool import elfinfo
from envpool.families import FAMILIES, all_pins

VERSION = envpool.__version__
KINDS = {"wheel", "system", "python"}


def clean_env(**env: str) -> dict[str, str]:
    """This environment without the variables that change resolution, plus ``env``."""
    full = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "ENVPOOL_", "LD_"))}
    full.update(env)
    return full


def run(python: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m envpool doctor --all ARGS`` with a clean environment plus ``env``."""
    cmd = [python, "-m", "envpool", "doctor", "--all", *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=clean_env(**env), cwd="/", timeout=600, check=False)


def doctor_all(python: str, *args: str, **env: str) -> tuple[int, dict[str, Any], str]:
    """(exit status, the JSON report, stderr) of ``python -m envpool doctor --all --json ARGS``."""
    proc = run(python, "--json", *args, **env)
    assert proc.stdout, proc.stderr
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def gnu_build_id(path: str) -> str | None:
    with Path(path).open("rb") as fh:
        for section in ELFFile(fh).iter_sections():
            if section.header.sh_type == "SHT_NOTE":
                for note in section.iter_notes():
                    if note["n_type"] == "NT_GNU_BUILD_ID":
                        return str(note["n_desc"])
    return None


def conflicts(report: dict[str, Any], kind: str, source: str) -> list[dict[str, Any]]:
    return [c for c in report["inventory"]["conflicts"] if c["kind"] == kind and c["source"] == source]


def test_inventory_of_this_venv() -> None:
    rc, report, err = doctor_all(sys.executable, ENVPOOL_DOCTOR_PROBE="1")
    inv = report["inventory"]
    assert set(inv) == {"distributions", "libraries", "environment", "icu_data", "conflicts"}
    assert rc == (3 if inv["conflicts"] else 0), (rc, inv["conflicts"], err)
    dists = {d["name"]: d for d in inv["distributions"]}
    assert dists["envpool"]["version"] == VERSION and not dists["envpool"]["shadowed"]
    assert dists["pytest"]["version"] == pytest.__version__  # not only envpool's own: every distribution
    assert inv["environment"] == {
        "LD_PRELOAD": None,
        "LD_LIBRARY_PATH": None,
        "PYTHONPATH": None,
        "ENVPOOL_DOCTOR_PROBE": "1",
    }
    ours = set(all_pins())
    ready = [f["name"] for f in report["families"] if f["status"] == "ready"]
    assert "classic_control" in ready
    for name in ready:
        loaded = [lib for lib in inv["libraries"] if name in lib["loaded_by"]]
        module = FAMILIES[name].module.rsplit(".", 1)[1]
        assert any(lib["soname"].startswith(module + ".") and lib["owner"] == "envpool" for lib in loaded), loaded
        for lib in loaded:
            assert lib["owner_kind"] in KINDS, lib
            assert lib["owner_kind"] != "wheel" or lib["owner"] in ours, lib
    for lib in inv["libraries"]:
        if lib["build_id"] is not None:
            assert lib["build_id"] == gnu_build_id(lib["path"]), lib
    libc = [lib for lib in inv["libraries"] if lib["soname"] == "libc.so.6"]
    assert len(libc) == 1 and libc[0]["owner_kind"] in ("system", "python", "unknown")
    text = run(sys.executable, ENVPOOL_DOCTOR_PROBE="1")
    assert text.returncode == rc
    assert "mapped libraries (" in text.stdout and "SONAME" in text.stdout and "conflicts: " in text.stdout


@pytest.mark.family("procgen")
def test_qt_and_icu_versions_from_the_libraries() -> None:
    import envpool_procgen_libs

    rc, report, _ = doctor_all(sys.executable, "procgen")
    manifest = envpool_procgen_libs.manifest()
    libs = {lib["soname"]: lib for lib in report["inventory"]["libraries"]}
    core = libs["libQt5Core.so.5"]
    assert core["owner"] == envpool_procgen_libs.DISTRIBUTION and "procgen" in core["loaded_by"]
    assert (core["version"], core["version_source"]) == (manifest["qt_version"], "qVersion")
    icuuc = next(lib for s, lib in libs.items() if s.startswith("libicuuc.so."))
    assert (icuuc["version"], icuuc["version_source"]) == (manifest["icu_version"], "u_getVersion")
    icu = report["inventory"]["icu_data"]
    assert [i["owner"] for i in icu["loaded"]] == [envpool_procgen_libs.DISTRIBUTION], icu
    assert Path(icu["loaded"][0]["path"]).parent == envpool_procgen_libs.library_dir()
    assert icu["manifest"]["icu_version"] == manifest["icu_version"]
    assert icu["manifest"]["icu_data"] == manifest.get("icu_data")
    assert not [c for c in report["inventory"]["conflicts"] if c["source"] != "ldconfig"], rc


@pytest.fixture
def qt_copy(tmp_path: Path) -> Path:
    """A copy of the library wheel's whole lib directory (its RUNPATH $ORIGIN then finds the copies)."""
    import envpool_procgen_libs

    dest = tmp_path / "lib"
    shutil.copytree(envpool_procgen_libs.library_dir(), dest)
    return dest


@pytest.mark.family("procgen")
def test_conflict_qt_copy_on_ld_library_path(qt_copy: Path) -> None:
    rc, report, _ = doctor_all(sys.executable, LD_LIBRARY_PATH=f"/nonexistent:{qt_copy}")
    found = conflicts(report, "visible_copy", "LD_LIBRARY_PATH")
    assert rc == 3 and str(qt_copy / "libQt5Core.so.5") in [p for c in found for p in c["paths"]], found
    assert all(c["fix"] == f"remove {qt_copy} from LD_LIBRARY_PATH" for c in found)
    assert report["inventory"]["environment"]["LD_LIBRARY_PATH"] == f"/nonexistent:{qt_copy}"


@pytest.mark.family("procgen")
def test_conflict_qt_copy_in_ld_preload(qt_copy: Path) -> None:
    """A preloaded libQt5Core of another build (one byte appended): flagged, and the loader refuses it."""
    preload = str(qt_copy / "libQt5Core.so.5")
    with open(preload, "ab") as fh:
        fh.write(b"\0")  # the same code, another file: not the wheel's build (a byte-identical copy is shared)
    rc, report, _ = doctor_all(sys.executable, LD_PRELOAD=preload)
    assert rc == 3
    assert [c["paths"] for c in conflicts(report, "visible_copy", "LD_PRELOAD")] == [[preload]]
    outside = {c["soname"]: c["paths"] for c in conflicts(report, "outside_provider", "mapped")}
    assert outside["libQt5Core.so.5"] == [preload], outside
    procgen = next(f for f in report["families"] if f["name"] == "procgen")
    assert procgen["status"] == "broken" and preload in procgen["reason"], procgen  # the loader refuses it
    text = run(sys.executable, "procgen", LD_PRELOAD=preload)
    assert text.returncode == 3 and "CONFLICT visible_copy (LD_PRELOAD)" in text.stdout
    assert f"fix: remove {preload} from LD_PRELOAD" in text.stdout


@pytest.mark.family("procgen")
def test_conflict_one_soname_from_two_paths(qt_copy: Path) -> None:
    """A second copy of a library the wheel loaded, mapped later by path: one soname from two files."""
    copy = str(qt_copy / "libmd.so.0")
    code = (
        "import ctypes, json\n"
        "from envpool import doctor\n"
        "doctor.run(['procgen'])\n"  # loads the family: the wheel's libmd.so.0, by absolute path
        f"ctypes.CDLL({copy!r})\n"  # another file of the same soname: the loader maps it too
        "print(json.dumps(doctor.run(['procgen'], full=True)))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=clean_env(), cwd="/", timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stderr
    dup = conflicts(json.loads(proc.stdout), "duplicate_soname", "mapped")
    assert [c["soname"] for c in dup] == ["libmd.so.0"], dup
    import envpool_procgen_libs

    assert dup[0]["paths"] == sorted([copy, str(envpool_procgen_libs.library_dir() / "libmd.so.0")])


@pytest.mark.family("procgen")
@pytest.mark.family("robotics")
def test_separate_target_dirs(make_venv: Any, wheelhouse: Path, thirdparty: Path, tmp_path: Path) -> None:
    """envpool, the library wheel, mujoco-core and the asset wheel each in a ``--target`` dir of its own."""
    python = make_venv([])
    uv = str(Path(sys.executable).parent / "uv")
    pins = all_pins()
    dirs = {name: tmp_path / name for name in ("core", "libs", "mujoco", "assets")}
    requirements = {
        "core": [f"envpool=={VERSION}"],
        "libs": ["--no-deps", f"envpool-procgen-libs=={pins['envpool-procgen-libs']}"],
        "mujoco": [f"mujoco-core=={pins['mujoco-core']}"],
        "assets": ["--no-deps", f"envpool-assets-robotics=={VERSION}"],
    }
    for name, target in dirs.items():
        cmd = [uv, "pip", "install", "--quiet", "--python", str(python), "--no-index"]
        cmd += ["--find-links", str(wheelhouse), "--find-links", str(thirdparty), "--target", str(target)]
        subprocess.run([*cmd, *requirements[name]], check=True)
    path = ":".join(str(d) for d in dirs.values())
    rc, report, err = doctor_all(str(python), "procgen", "robotics", PYTHONPATH=path)
    assert {f["name"]: f["status"] for f in report["families"]} == {"procgen": "ready", "robotics": "ready"}, err
    inv = report["inventory"]
    assert inv["environment"]["PYTHONPATH"] == path
    where = {d["name"]: d["location"] for d in inv["distributions"]}
    assert where["envpool"] == str(dirs["core"]) and where["envpool-procgen-libs"] == str(dirs["libs"])
    libs = {lib["soname"]: lib for lib in inv["libraries"]}
    qt = libs["libQt5Core.so.5"]
    assert qt["owner"] == "envpool-procgen-libs" and Path(qt["path"]).is_relative_to(dirs["libs"])
    mujoco = next(lib for s, lib in libs.items() if s.startswith("libmujoco.so."))
    assert mujoco["owner"] == "mujoco-core" and Path(mujoco["path"]).is_relative_to(dirs["mujoco"])
    assert mujoco["version"] == pins["mujoco-core"] and mujoco["version_source"] == "mj_versionString"
    ext = [lib for lib in inv["libraries"] if lib["soname"].startswith(("_procgen.", "_robotics."))]
    assert len(ext) == 2 and all(lib["owner"] == "envpool" for lib in ext), ext
    loaded = [lib for lib in inv["libraries"] if lib["loaded_by"]]
    assert all(lib["owner_kind"] in KINDS for lib in loaded), loaded
    assert not [c for c in inv["conflicts"] if c["source"] != "ldconfig"]
    assert rc == (3 if inv["conflicts"] else 0)


def _damaged(data: bytes, tmp_path: Path) -> list[Path]:
    """Copies of a 64-bit ELF file, each broken in one field the reader follows."""
    headers_end = int.from_bytes(data[32:40], "little") + 56 * int.from_bytes(data[56:58], "little")
    cases = {
        "empty": b"",
        "magic-only": data[:4],
        "truncated-header": data[:40],
        "truncated-after-program-headers": data[:headers_end],
        "phoff-past-end": data[:32] + (len(data) * 2).to_bytes(8, "little") + data[40:],
        "phnum-huge": data[:56] + (0xFFFF).to_bytes(2, "little") + data[58:],
    }
    paths = []
    for name, content in cases.items():
        p = tmp_path / f"{name}.so"
        p.write_bytes(content)
        paths.append(p)
    return paths


def test_elf_reader_on_damaged_files(tmp_path: Path) -> None:
    maps = Path("/proc/self/maps").read_text().split()
    lib = next(p for p in maps if p.startswith("/") and Path(p).name.startswith("libc.so"))
    facts = elfinfo.read(lib)
    assert facts.soname == "libc.so.6" and facts.build_id and facts.build_id == gnu_build_id(lib)
    data = Path(lib).read_bytes()
    for path in _damaged(data, tmp_path):
        with pytest.raises(elfinfo.ElfError):
            elfinfo.read(str(path))
    # single-byte changes in the ELF header: a result or ElfError, never another exception
    refused = 0
    for i in range(64):
        for value in (0x00, 0xFF):
            damaged = bytearray(data)
            damaged[i] = value
            path = tmp_path / "one.so"
            path.write_bytes(bytes(damaged))
            try:
                elfinfo.read(str(path))
            except elfinfo.ElfError:
                refused += 1
    assert refused >= 4  # at least the magic bytes
