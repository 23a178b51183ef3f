"""tools.procgen_libs.icu_data: ICU's own tools (Debian's icupkg/genccode, ICU 72) on each architecture's upstream
data package: ICU 56's (PyQt5-Qt5, x86_64) and ICU 67's (Debian 11, aarch64).

The checks: icupkg 72 lists each package exactly, the trimmed package keeps every kept item
byte for byte, icupkg refuses a kept converter whose base table is gone, the build refuses a name
that the upstream data lacks, and the linked library exports the package under the upstream
soname and symbol, for the upstream library's architecture (aarch64: linked by zig's ld.lld on this
machine), the same bytes on every build.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tools.common.elf import dynamic_info
from tools.procgen_libs import icu_data
from tools.release.release_set import AARCH64, X86_64, Arch

#: Per architecture: the upstream package's symbol, file name and item count.
UPSTREAM = {
    X86_64: ("icudt56_dat", "icudt56l.dat", 3350),
    AARCH64: ("icudt67_dat", "icudt67l.dat", 3815),
}


def toc(package: bytes) -> dict[str, bytes]:
    """Each item of an ICU .dat package and its bytes, read from the table of contents.

    This is an independent reading of the format, to check icupkg against. The layout is headerSize
    (uint16), then the item count, then (name offset, data offset) pairs, all relative to the
    header's end. Each item ends where the next one starts.
    """
    header = struct.unpack_from("<H", package, 0)[0]
    (count,) = struct.unpack_from("<I", package, header)
    entries = [struct.unpack_from("<II", package, header + 4 + 8 * i) for i in range(count)]
    names = [package[header + n : package.index(b"\0", header + n)].decode().split("/", 1)[1] for n, _ in entries]
    starts = [header + d for _, d in entries] + [len(package)]
    return {name: package[starts[i] : starts[i + 1]] for i, name in enumerate(names)}


@pytest.fixture(scope="module", params=list(UPSTREAM), ids=lambda a: a.machine)
def upstream(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    """(symbol, the upstream libicudata, its package as a file named after the package), per architecture."""
    arch: Arch = request.param
    work = tmp_path_factory.mktemp(f"icu-upstream-{arch.machine}")
    symbol, package = icu_data.upstream_package(work, arch)
    dat = work / "pkg" / f"{icu_data.package_name(package)}.dat"
    dat.parent.mkdir()
    dat.write_bytes(package)
    (library,) = work.glob("libicudata.so.*")
    return symbol, library, dat


def _arch(library: Path) -> Arch:
    machine = dynamic_info(library).machine
    return next(a for a in UPSTREAM if a.elf_machine == machine)


def test_icupkg_lists_the_upstream_package_exactly(upstream: tuple[str, Path, Path]) -> None:
    symbol, library, dat = upstream
    want_symbol, want_name, want_count = UPSTREAM[_arch(library)]
    assert symbol == want_symbol and dat.name == want_name
    items = icu_data.package_items(dat)
    assert items == list(toc(dat.read_bytes()))
    assert len(items) == want_count


def test_trim_keeps_exactly_the_listed_items_byte_for_byte(upstream: tuple[str, Path, Path], tmp_path: Path) -> None:
    _, _, dat = upstream
    keep = icu_data.read_list()
    trimmed = icu_data.trim(dat, icu_data.package_items(dat), keep, tmp_path)
    full_items, kept_items = toc(dat.read_bytes()), toc(trimmed)
    assert sorted(kept_items) == sorted(keep)
    for name, data in kept_items.items():
        assert data == full_items[name], f"icupkg changed {name}"


def test_trim_refuses_a_converter_without_its_base_table(upstream: tuple[str, Path, Path], tmp_path: Path) -> None:
    _, _, dat = upstream
    with pytest.raises(
        icu_data.IcuDataError, match=r"windows-936-2000\.cnv depends on missing item ibm-1386_P100-2001"
    ):
        icu_data.trim(dat, icu_data.package_items(dat), ["cnvalias.icu", "windows-936-2000.cnv"], tmp_path)


def test_trim_refuses_an_item_the_upstream_data_lacks(upstream: tuple[str, Path, Path], tmp_path: Path) -> None:
    _, _, dat = upstream
    with pytest.raises(icu_data.IcuDataError, match=r"does not have: no-such-table\.cnv\. Fix the names"):
        icu_data.trim(dat, icu_data.package_items(dat), ["cnvalias.icu", "no-such-table.cnv"], tmp_path)


def test_read_list_refuses_an_item_listed_twice(tmp_path: Path) -> None:
    listed = tmp_path / "icu-data.txt"
    listed.write_text("# comment\ncnvalias.icu  # why\n\ngb18030.cnv\ncnvalias.icu\n")
    with pytest.raises(icu_data.IcuDataError, match=r"listed twice: cnvalias\.icu"):
        icu_data.read_list(listed)
    listed.write_text("# comment\ncnvalias.icu  # why\n\ngb18030.cnv\n")
    assert icu_data.read_list(listed) == ["cnvalias.icu", "gb18030.cnv"]


def test_shared_object_has_the_upstream_soname_and_symbol_and_is_reproducible(
    upstream: tuple[str, Path, Path], tmp_path: Path
) -> None:
    symbol, library, dat = upstream
    arch, soname = _arch(library), dynamic_info(library).soname
    assert soname is not None
    trimmed = icu_data.trim(dat, icu_data.package_items(dat), icu_data.read_list(), tmp_path / "trim")
    built = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        built.append(icu_data.shared_object(trimmed, symbol, soname, library, tmp_path / name / soname, arch=arch))
    assert built[0].read_bytes() == built[1].read_bytes()
    info = dynamic_info(built[0])
    assert (info.soname, info.needed, info.glibc, info.machine) == (soname, (), (0, 0), arch.elf_machine)
    assert icu_data.common_data(built[0]) == (symbol, trimmed)
    from elftools.elf.elffile import ELFFile

    with built[0].open("rb") as fh:
        stacks = [seg for seg in ELFFile(fh).iter_segments() if seg["p_type"] == "PT_GNU_STACK"]
        assert len(stacks) == 1 and not stacks[0]["p_flags"] & 1  # PF_X: no executable stack
