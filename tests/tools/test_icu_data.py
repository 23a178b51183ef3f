"""tools.procgen_libs.icu_data: ICU's own tools (Debian's icupkg/genccode, ICU 72) on ICU 56's data package.

The checks: icupkg 72 lists ICU 56's package exactly, the trimmed package keeps every kept item
byte for byte, icupkg refuses a kept converter whose base table is gone, the build refuses a name
that the upstream data lacks, and the linked library exports the package under the upstream
soname and symbol, the same bytes on every build.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from tools.common.elf import dynamic_info
from tools.procgen_libs import icu_data


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


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    """(symbol, the upstream libicudata, its package as a file named after the package)."""
    work = tmp_path_factory.mktemp("icu-upstream")
    symbol, package = icu_data.upstream_package(work)
    dat = work / "pkg" / f"{icu_data.package_name(package)}.dat"
    dat.parent.mkdir()
    dat.write_bytes(package)
    (library,) = work.glob("libicudata.so.*")
    return symbol, library, dat


def test_icupkg_lists_the_upstream_package_exactly(upstream: tuple[str, Path, Path]) -> None:
    symbol, _, dat = upstream
    assert symbol == "icudt56_dat" and dat.name == "icudt56l.dat"
    items = icu_data.package_items(dat)
    assert items == list(toc(dat.read_bytes()))
    assert len(items) == 3350


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
    trimmed = icu_data.trim(dat, icu_data.package_items(dat), icu_data.read_list(), tmp_path / "trim")
    built = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        built.append(icu_data.shared_object(trimmed, symbol, library.name, library, tmp_path / name / library.name))
    assert built[0].read_bytes() == built[1].read_bytes()
    info = dynamic_info(built[0])
    assert (info.soname, info.needed, info.glibc, info.machine) == (library.name, (), (0, 0), "EM_X86_64")
    assert icu_data.common_data(built[0]) == (symbol, trimmed)
    from elftools.elf.elffile import ELFFile

    with built[0].open("rb") as fh:
        stacks = [seg for seg in ELFFile(fh).iter_segments() if seg["p_type"] == "PT_GNU_STACK"]
        assert len(stacks) == 1 and not stacks[0]["p_flags"] & 1  # PF_X: no executable stack
