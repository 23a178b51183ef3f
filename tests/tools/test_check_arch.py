"""The checker over a two-architecture set (issue 15): ELF machines, per-arch floors and completeness, linkage.

The ELF files are real: zig (tools/release/toolchain.py ZIGLANG) compiles one-line C files for x86_64 and
aarch64, so the checker reads headers a compiler wrote. A wheel is "doctored" by packing an ELF of the
other architecture under its tag, which is what a cross build falling back to the host compiler would do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.tools.conftest import LIBRARY_MARKER
from tests.tools.test_check_release import assert_fails, assert_passes, edit_metadata
from tools.common.distfile import parse_artifact, write_wheel
from tools.common.elf import HEADER_BYTES, header_machine
from tools.release import release_set
from tools.release.check_release import run_checks
from tools.release.release_set import AARCH64, ARCHES, X86_64, Arch
from tools.release.toolchain import ZIG_CACHE, ToolchainError, zig_python

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.tools.conftest import ReleaseSet

REPO = Path(__file__).resolve().parents[2]
CORE_AND_LIBRARY = [p for p in release_set.PACKAGES if p.extra in (None, "procgen")]


def _zig_python() -> str:
    """An interpreter with ziglang: this one, or the build's environment (nox -s build makes it)."""
    try:
        return str(zig_python())
    except ToolchainError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def zig_cc(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., bytes]:
    """``zig_cc(arch, source, shared=False, soname=None, link=())``: the bytes zig writes for ``arch``."""
    python = _zig_python()
    work = tmp_path_factory.mktemp("zig")
    env = {"ZIG_GLOBAL_CACHE_DIR": str(ZIG_CACHE / "global"), "ZIG_LOCAL_CACHE_DIR": str(ZIG_CACHE / "local")}

    def compile_(
        arch: Arch, source: str, *, shared: bool = False, soname: str | None = None, link: tuple[Path, ...] = ()
    ) -> bytes:
        n = len(list(work.iterdir()))
        src, out = work / f"src{n}.c", work / f"out{n}"
        src.write_text(source)
        cmd = [python, "-m", "ziglang", "cc", "-target", arch.zig_target, "-O1", "-o", str(out), str(src)]
        cmd += (
            ["-shared", "-fPIC", *([f"-Wl,-soname,{soname}"] if soname else []), *map(str, link)] if shared else ["-c"]
        )
        subprocess.run(cmd, check=True, env={**os.environ, **env}, capture_output=True)
        return out.read_bytes()

    return compile_


ANSWER = "int envpool_answer(void) { return 42; }\n"


def _wheel(directory: Path, distribution: str, tag: str, files: dict[str, bytes], version: str) -> Path:
    meta = f"Metadata-Version: 2.4\nName: {distribution}\nVersion: {version}\n"
    return write_wheel(directory, distribution, version, files, metadata=meta, tag=tag)


# ---------------------------------------------------------------- the ELF header reader


@pytest.mark.parametrize("arch", ARCHES, ids=lambda a: a.machine)
def test_header_machine_reads_what_the_compiler_wrote(arch: Arch, zig_cc: Callable[..., bytes]) -> None:
    assert header_machine(zig_cc(arch, ANSWER)[:HEADER_BYTES]) == arch.elf_machine


def test_header_machine_is_bounds_checked(zig_cc: Callable[..., bytes]) -> None:
    head = zig_cc(AARCH64, ANSWER)[:HEADER_BYTES]
    with pytest.raises(ValueError, match="truncated ELF header: 19 bytes"):
        header_machine(head[:19])
    with pytest.raises(ValueError, match="EI_DATA 7"):
        header_machine(head[:5] + b"\x07" + head[6:])
    with pytest.raises(ValueError, match="not an ELF header"):
        header_machine(b"MZ" + head[2:])


# ---------------------------------------------------------------- elf-arch


@pytest.mark.parametrize(
    ("wheel_arch", "elf_arch"), [(AARCH64, X86_64), (X86_64, AARCH64)], ids=["x86-in-arm", "arm-in-x86"]
)
def test_wrong_architecture_elf_fails(
    good_set: ReleaseSet, zig_cc: Callable[..., bytes], wheel_arch: Arch, elf_arch: Arch
) -> None:
    member = "envpool/_classic_control.abi3.so"
    files = {"envpool/__init__.py": b"", member: zig_cc(elf_arch, ANSWER)}
    wheel = _wheel(
        good_set.wheelhouse, "envpool", f"cp312-abi3-manylinux_2_28_{wheel_arch.machine}", files, good_set.version
    )
    assert_fails(
        good_set.wheelhouse,
        "elf-arch",
        wheel,
        member,
        f"is {elf_arch.elf_machine} ({elf_arch.machine})",
        f"expected {wheel_arch.elf_machine} ({wheel_arch.machine}) for this {wheel_arch.machine} wheel",
    )


@pytest.mark.parametrize("arch", ARCHES, ids=lambda a: a.machine)
def test_right_architecture_elf_passes(good_set: ReleaseSet, zig_cc: Callable[..., bytes], arch: Arch) -> None:
    # any member starting with the ELF magic is read, whatever its name
    files = {
        "envpool/__init__.py": b"",
        "envpool/_x.abi3.so": zig_cc(arch, ANSWER),
        "envpool/bin/tool": zig_cc(arch, ANSWER),
    }
    wheel = _wheel(good_set.wheelhouse, "envpool", f"cp312-abi3-manylinux_2_28_{arch.machine}", files, good_set.version)
    assert_passes(good_set.wheelhouse, "elf-arch", wheel)


def test_wrong_architecture_elf_under_another_name_fails(good_set: ReleaseSet, zig_cc: Callable[..., bytes]) -> None:
    files = {"envpool/__init__.py": b"", "envpool/bin/helper": zig_cc(X86_64, ANSWER)}
    wheel = _wheel(good_set.wheelhouse, "envpool", "cp311-cp311-manylinux_2_28_aarch64", files, good_set.version)
    assert_fails(good_set.wheelhouse, "elf-arch", wheel, "envpool/bin/helper is EM_X86_64")


def test_truncated_elf_in_a_platform_wheel_fails(good_set: ReleaseSet, zig_cc: Callable[..., bytes]) -> None:
    files = {"envpool/__init__.py": b"", "envpool/_x.abi3.so": zig_cc(AARCH64, ANSWER)[:12]}
    wheel = _wheel(good_set.wheelhouse, "envpool", "cp312-abi3-manylinux_2_28_aarch64", files, good_set.version)
    assert_fails(good_set.wheelhouse, "elf-arch", wheel, "envpool/_x.abi3.so: truncated ELF header: 12 bytes")


def test_pure_wheel_holding_an_elf_fails(good_set: ReleaseSet, zig_cc: Callable[..., bytes]) -> None:
    assert_passes(good_set.wheelhouse, "elf-arch", good_set.data_wheel)
    files = {"envpool_assets_vizdoom/__init__.py": b"", "envpool_assets_vizdoom/libz.so.1": zig_cc(AARCH64, ANSWER)}
    good_set.data_wheel.unlink()
    wheel = _wheel(good_set.wheelhouse, "envpool-assets-vizdoom", "py3-none-any", files, good_set.version)
    assert_fails(good_set.wheelhouse, "elf-arch", wheel, "a pure wheel (any)", "envpool_assets_vizdoom/libz.so.1")


def test_platform_outside_the_set_fails(good_set: ReleaseSet, zig_cc: Callable[..., bytes]) -> None:
    files = {"envpool/__init__.py": b"", "envpool/_x.abi3.so": zig_cc(AARCH64, ANSWER)}
    wheel = _wheel(good_set.wheelhouse, "envpool", "cp312-abi3-manylinux_2_28_riscv64", files, good_set.version)
    assert_fails(good_set.wheelhouse, "elf-arch", wheel, "manylinux_2_28_riscv64 names no architecture", "aarch64")


# ---------------------------------------------------------------- completeness and floors per architecture


def test_a_release_needs_the_core_matrix_and_library_wheel_of_every_architecture(good_set: ReleaseSet) -> None:
    v = good_set.version
    lib = release_set.package_of_kind("library")
    for arch in ARCHES:  # x86_64 complete; aarch64 lacks its abi3 core and its library wheel
        matrix = arch.matrix if arch == X86_64 else arch.matrix[:1]
        for entry in matrix:
            tag = entry.tag if entry.tag.endswith("abi3") else f"{entry.tag}-{entry.tag}"
            _wheel(good_set.wheelhouse, "envpool", f"{tag}-manylinux_2_28_{arch.machine}", {"envpool/a.py": b""}, v)
    _wheel(
        good_set.wheelhouse, lib.distribution, "py3-none-manylinux_2_28_x86_64", {"envpool_procgen_libs/a.py": b""}, v
    )
    results = run_checks(good_set.wheelhouse, present=CORE_AND_LIBRARY, require_sdist=True, only=["release-set"])
    by_name = {r.artifact: r for r in results if r.check == "release-set"}
    assert by_name["envpool"].status == "FAIL"
    assert by_name["envpool"].message.startswith("no cp312-abi3 aarch64 wheel in"), by_name["envpool"].message
    assert by_name[lib.distribution].status == "FAIL"
    assert by_name[lib.distribution].message.startswith("no aarch64 wheel in"), by_name[lib.distribution].message
    # the same set is complete for a release of x86_64 alone
    results = run_checks(
        good_set.wheelhouse, present=CORE_AND_LIBRARY, require_sdist=True, only=["release-set"], arches=(X86_64,)
    )
    assert all(r.status == "PASS" for r in results if r.check == "release-set"), [r.line() for r in results]


def test_floor_is_the_one_of_the_wheels_architecture_and_kind(
    good_set: ReleaseSet, zig_cc: Callable[..., bytes]
) -> None:
    v = good_set.version
    lib = release_set.package_of_kind("library")
    glibc = AARCH64.floor("library")
    assert glibc > AARCH64.floor("extension")  # the premise: aarch64's library wheel may need a newer glibc
    newer = f"manylinux_{glibc[0]}_{glibc[1]}"
    so = zig_cc(AARCH64, ANSWER, shared=True)
    files = {"envpool_procgen_libs/lib/libanswer.so": so}
    arm_lib = _wheel(good_set.wheelhouse, lib.distribution, f"py3-none-{newer}_aarch64", files, v)
    assert_passes(good_set.wheelhouse, "auditwheel", arm_lib)
    x86_files = {"envpool_procgen_libs/lib/libanswer.so": zig_cc(X86_64, ANSWER, shared=True)}
    x86_lib = _wheel(good_set.wheelhouse, lib.distribution, f"py3-none-{newer}_x86_64", x86_files, v)
    assert_fails(good_set.wheelhouse, "auditwheel", x86_lib, f"newer than x86_64's {release_set.MANYLINUX_FLOOR}")
    arm_core = _wheel(good_set.wheelhouse, "envpool", f"cp312-abi3-{newer}_aarch64", {"envpool/_x.abi3.so": so}, v)
    assert_fails(good_set.wheelhouse, "auditwheel", arm_core, f"newer than aarch64's {release_set.MANYLINUX_FLOOR}")


# ---------------------------------------------------------------- linkage: markers of the wheel's architecture

BOTH = release_set.platform_marker(release_set.LINUX)


def _linkage_set(good_set: ReleaseSet, zig_cc: Callable[..., bytes], tmp_path: Path, marker: str) -> dict[str, Path]:
    """A core per architecture whose procgen module needs libanswer.so.1 from that architecture's library
    wheel, the core's procgen extra behind ``marker``, and a fake mujoco-core per architecture."""
    v = good_set.version
    lib = release_set.package_of_kind("library")
    lib_prefix = f"Requires-Dist: {lib.distribution}=={v}; "
    lines = {
        lib_prefix + f'{LIBRARY_MARKER} and extra == "{e}"': lib_prefix + f'({marker}) and extra == "{e}"'
        for e in ("procgen", "all")
    }
    edit_metadata(good_set.core_wheel, lines)
    core_meta = parse_artifact(good_set.core_wheel).metadata().as_string()  # type: ignore[union-attr]
    wheels: dict[str, Path] = {}
    third = tmp_path / "thirdparty"
    third.mkdir()
    for arch in ARCHES:
        libfile = tmp_path / f"libanswer-{arch.machine}.so.1"
        libfile.write_bytes(zig_cc(arch, ANSWER, shared=True, soname="libanswer.so.1"))
        module = zig_cc(
            arch,
            "int envpool_answer(void);\nint step(void) { return envpool_answer(); }\n",
            shared=True,
            link=(libfile,),
        )
        tag = f"manylinux_2_28_{arch.machine}"
        wheels[f"lib-{arch.machine}"] = _wheel(
            good_set.wheelhouse,
            lib.distribution,
            f"py3-none-{tag}",
            {"envpool_procgen_libs/lib/libanswer.so.1": libfile.read_bytes()},
            v,
        )
        files = {"envpool/__init__.py": b"", "envpool/_procgen.abi3.so": module}
        wheels[f"core-{arch.machine}"] = write_wheel(
            good_set.wheelhouse, "envpool", v, files, metadata=core_meta, tag=f"cp312-abi3-{tag}"
        )
        _wheel(
            third, "mujoco-core", f"py3-none-{tag}", {"mujoco_core/__init__.py": b""}, release_set.MUJOCO_CORE.version
        )
    good_set.core_wheel.unlink()
    return wheels


def _linkage(good_set: ReleaseSet, tmp_path: Path) -> dict[str, tuple[str, str]]:
    results = run_checks(good_set.wheelhouse, only=["linkage"], thirdparty=tmp_path / "thirdparty")
    return {r.artifact: (r.status, r.message) for r in results}


def test_each_core_links_against_its_own_architectures_library(
    good_set: ReleaseSet, zig_cc: Callable[..., bytes], tmp_path: Path
) -> None:
    wheels = _linkage_set(good_set, zig_cc, tmp_path, BOTH)
    found = _linkage(good_set, tmp_path)
    for name, path in wheels.items():  # one soname per architecture: no "provided by two wheels"
        assert found[path.name][0] == "PASS", (name, found[path.name])


def test_an_aarch64_core_whose_extra_leaves_out_aarch64_fails(
    good_set: ReleaseSet, zig_cc: Callable[..., bytes], tmp_path: Path
) -> None:
    wheels = _linkage_set(good_set, zig_cc, tmp_path, X86_64.platform.marker)  # this host's machine only
    found = _linkage(good_set, tmp_path)
    assert found[wheels["core-x86_64"].name][0] == "PASS", found[wheels["core-x86_64"].name]
    status, message = found[wheels["core-aarch64"].name]
    assert status == "FAIL"
    assert "envpool/_procgen.abi3.so needs libanswer.so.1 from envpool-procgen-libs" in message
    assert "extra 'procgen' does not pin with ==" in message


def test_an_aarch64_core_without_mujoco_cores_aarch64_wheel_fails(
    good_set: ReleaseSet, zig_cc: Callable[..., bytes], tmp_path: Path
) -> None:
    wheels = _linkage_set(good_set, zig_cc, tmp_path, BOTH)
    for stale in (tmp_path / "thirdparty").glob("*_aarch64.whl"):
        stale.unlink()
    found = _linkage(good_set, tmp_path)
    assert found[wheels["core-x86_64"].name][0] == "PASS", found[wheels["core-x86_64"].name]
    status, message = found[wheels["core-aarch64"].name]
    assert status == "FAIL"
    assert "no aarch64 wheel of mujoco-core for cp312" in message


# ---------------------------------------------------------------- abi3audit on a compiled stable-ABI module


@pytest.mark.parametrize(
    ("symbol", "verdict"),
    [("Py_IncRef", "PASS"), ("PyCode_NewEmpty", "FAIL")],  # in the limited API / outside it
)
def test_abi3audit_reads_the_symbols_a_module_uses(
    good_set: ReleaseSet, zig_cc: Callable[..., bytes], symbol: str, verdict: str
) -> None:
    """A module calling only limited-API functions passes; one calling a function outside it fails, named."""
    if shutil.which("abi3audit") is None and not (Path(sys.executable).parent / "abi3audit").is_file():
        pytest.skip("abi3audit is not installed (tests/requirements.txt installs it)")
    source = f"extern void {symbol}(void *);\nvoid envpool_touch(void *o) {{ {symbol}(o); }}\n"
    member = "envpool/_classic_control.abi3.so"
    files = {"envpool/__init__.py": b"", member: zig_cc(X86_64, source, shared=True)}
    wheel = _wheel(good_set.wheelhouse, "envpool", "cp312-abi3-manylinux_2_28_x86_64", files, good_set.version)
    if verdict == "PASS":
        assert_passes(good_set.wheelhouse, "abi3audit", wheel)
    else:
        assert_fails(good_set.wheelhouse, "abi3audit", wheel, symbol)
