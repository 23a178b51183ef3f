"""Keep only the ICU data that ``packages/procgen-libs/icu-data.txt`` lists in the wheel's libicudata.

The upstream ICU ships its whole common data as ``libicudata.so.NN``: a library that holds nothing
but the read-only symbol ``icudtNN_dat`` (an ICU ``.dat`` package: PyQt5-Qt5's ICU 56 on x86_64, 3350
items; Debian 11's ICU 67 on aarch64, 3815 items), which libicuuc links to. The build replaces that
library with one of the same soname and symbol, holding only the reviewed items, and makes it with
ICU's own tools (Debian ``icu-devtools``) and a linker:

1. the package is cut out of the upstream library at its ``icudtNN_dat`` symbol;
2. ``icupkg -r`` removes every item the list does not keep. icupkg checks the result's
   dependencies and refuses a kept converter whose base table was removed;
3. ``genccode -o`` writes the trimmed package as an ELF object that exports the same symbol, and
   ``ld -shared`` links it under the upstream soname, with no dependencies at all.

No step compiles code for the build host: the ``.dat`` package is data (little-endian on both
architectures), ``genccode -m`` takes the object's machine and class from the upstream library,
and the object holds one data symbol. Only the linker is per host: binutils' ``ld`` links this
machine's own architecture; a cross build links with zig's ``ld.lld`` (the ``ziglang`` wheel).

The manifest records the kept items and the sizes; ``envpool_procgen_libs.load()`` reads the item
names back from the loaded symbol and checks them against the manifest.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from tools.common import process
from tools.procgen_libs import package_dir
from tools.procgen_libs.upstream import DEFAULT_ARCH, fetch_upstream, library_files, load_lock
from tools.release.toolchain import is_cross, zig_tool

if TYPE_CHECKING:
    from collections.abc import Callable

    from tools.procgen_libs.closure import Library
    from tools.release.release_set import Arch

#: The reviewed list of kept items.
LIST = package_dir() / "icu-data.txt"
_DATA_SONAME = re.compile(r"^libicudata\.so\.(\d+)$")
#: The data library's file name in an upstream artifact (``libicudata.so.56``; Debian: ``libicudata.so.67.1``).
_DATA_FILE = re.compile(r"^libicudata\.so\.\d+(?:\.\d+)*$")


class IcuDataError(RuntimeError):
    """The ICU data cannot be trimmed as listed; the message names the item or tool and the fix."""


def read_list(path: Path = LIST) -> list[str]:
    """The item names of a list file (comments and blank lines dropped), in file order."""
    items: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        name = line.split("#", 1)[0].strip()
        if name:
            items.append(name)
    duplicates = sorted({n for n in items if items.count(n) > 1})
    if duplicates:
        raise IcuDataError(f"{path}: items listed twice: {', '.join(duplicates)}")
    return items


def _tool(name: str, package: str) -> str:
    # Debian installs icupkg and genccode in /usr/sbin, which is not on every user's PATH.
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        raise IcuDataError(f"{name} not found: {package}")
    return found


def _icu_tool(name: str) -> str:
    return _tool(name, "apt-get install -y icu-devtools (RHEL-like: dnf install -y icu)")


def _run(cmd: list[str]) -> str:
    res = process.run(cmd)
    if res.returncode != 0:
        raise IcuDataError(f"{' '.join(cmd)} failed (exit {res.returncode}):\n{res.stdout}{res.stderr}")
    return res.stdout


def common_data(library: Path) -> tuple[str, bytes]:
    """(symbol, package bytes) of an ICU data library: the ``icudtNN_dat`` symbol up to the end of its section."""
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    with library.open("rb") as fh:
        elf = ELFFile(fh)
        dynsym = elf.get_section_by_name(".dynsym")
        if not isinstance(dynsym, SymbolTableSection):
            raise IcuDataError(f"{library}: no dynamic symbol table")
        found = [
            s for s in dynsym.iter_symbols() if re.fullmatch(r"icudt\d+_dat", s.name) and s["st_shndx"] != "SHN_UNDEF"
        ]
        if len(found) != 1:
            raise IcuDataError(f"{library}: expected one exported icudtNN_dat symbol, found {[s.name for s in found]}")
        sym = found[0]
        section = elf.get_section(sym["st_shndx"])
        start = sym["st_value"] - section["sh_addr"]
        # Upstream's symbol has size 0 (its .rodata holds the package alone); ours has the exact size.
        end = start + sym["st_size"] if sym["st_size"] else section["sh_size"]
        data = section.data()[start:end]
    if data[2:4] != b"\xda\x27" or b"CmnD" not in data[:64]:
        raise IcuDataError(f"{library}: {sym.name} does not hold an ICU common data package")
    return str(sym.name), bytes(data)


def upstream_package(work: Path, arch: Arch = DEFAULT_ARCH) -> tuple[str, bytes]:
    """(symbol, package) of the untrimmed ICU data in ``arch``'s locked upstream artifacts, for comparisons
    with the trimmed one.

    The library is extracted into ``work`` and cut at its symbol as the build does.
    """
    _, artifacts = load_lock(arch=arch)
    for art in artifacts:
        for member, blob in sorted(library_files(fetch_upstream(art), art).items()):
            if _DATA_FILE.match(PurePosixPath(member).name):
                work.mkdir(parents=True, exist_ok=True)
                library = work / PurePosixPath(member).name
                library.write_bytes(blob)
                return common_data(library)
    raise IcuDataError(f"no locked upstream artifact of {arch.machine} carries a libicudata.so.NN")


def package_name(package: bytes) -> str:
    """The name of an ICU ``.dat`` package (``icudt56l``): the prefix of its item names, read from its TOC.

    icupkg wants the file named after it.
    """
    header = int.from_bytes(package[0:2], "little")
    if len(package) < header + 12 or int.from_bytes(package[header : header + 4], "little") == 0:
        raise IcuDataError("the ICU data package has no items")
    name_offset = header + int.from_bytes(package[header + 4 : header + 8], "little")
    name = package[name_offset : package.index(b"\0", name_offset)].decode("ascii")
    if "/" not in name:
        raise IcuDataError(f"the ICU data package's first item {name!r} has no package prefix")
    return name.split("/", 1)[0]


def package_items(dat: Path) -> list[str]:
    """The item names of an ICU ``.dat`` package, as ``icupkg -l`` lists them."""
    icupkg = _icu_tool("icupkg")
    res = process.run([icupkg, "-l", str(dat)])
    # icupkg reports dependency problems of the upstream data (en_001 parents) on stderr; the list is on stdout.
    if res.returncode not in (0, 2) or not res.stdout.strip():
        raise IcuDataError(f"icupkg -l {dat} failed (exit {res.returncode}):\n{res.stderr}")
    return res.stdout.split()


def trim(full: Path, items: list[str], keep: list[str], work: Path) -> bytes:
    """The package ``full`` (whose items are ``items``) with only ``keep``, made by ``icupkg -r``.

    icupkg checks the dependencies of what remains and refuses, for example, a kept converter whose
    base table is not kept.
    """
    unknown = sorted(set(keep) - set(items))
    if unknown:
        raise IcuDataError(
            f"{LIST.name} lists items the upstream ICU data does not have: {', '.join(unknown)}. "
            f"Fix the names (`icupkg -l` lists the {len(items)} items of the upstream package)."
        )
    (work / "out").mkdir(parents=True, exist_ok=True)
    removed = work / "remove.txt"
    removed.write_text("".join(f"{name}\n" for name in items if name not in set(keep)))
    trimmed = work / "out" / full.name  # icupkg wants the file named after the package
    _run([_icu_tool("icupkg"), "-r", str(removed), str(full), str(trimmed)])
    got = package_items(trimmed)
    if sorted(got) != sorted(keep):
        raise IcuDataError(f"icupkg wrote {sorted(got)}, expected {sorted(keep)}")
    return trimmed.read_bytes()


def _linker(arch: Arch) -> list[str]:
    """binutils' ``ld`` for this machine's architecture; zig's ``ld.lld`` for another one."""
    if is_cross(arch):
        return zig_tool("ld.lld")
    return [_tool("ld", "apt-get install -y binutils (dnf install -y binutils)")]


def shared_object(
    package: bytes, symbol: str, soname: str, like: Path, out: Path, *, arch: Arch = DEFAULT_ARCH
) -> Path:
    """Link ``package`` into ``out`` as a library for ``arch`` named ``soname`` that exports ``symbol``.

    ``genccode -o`` writes the object (``-m like`` takes the machine and class from an upstream
    library); the linker (:func:`_linker`) links it with a content-derived build id and a
    non-executable stack.
    """
    work = out.parent / f"{out.name}.work"
    work.mkdir(parents=True, exist_ok=True)
    dat = work / "data.dat"
    dat.write_bytes(package)
    entry = symbol.removesuffix("_dat")
    _run([_icu_tool("genccode"), "-q", "-o", "-m", str(like), "-e", entry, "-f", "data", "-d", str(work), str(dat)])
    obj = work / "data.o"
    link = ["-shared", "-soname", soname, "--build-id=sha1", "-z", "noexecstack", "-o", str(out), str(obj)]
    _run([*_linker(arch), *link])
    shutil.rmtree(work)
    if common_data(out) != (symbol, package):
        raise IcuDataError(f"{out}: {symbol} does not hold the trimmed package after linking")
    return out


def trim_library(
    libs: list[Library], work: Path, log: Callable[[str], None], arch: Arch = DEFAULT_ARCH
) -> tuple[list[Library], dict[str, Any]]:
    """Replace the closure's ICU data library (for ``arch``) by a trimmed one; return the new closure and its
    manifest entry."""
    data_libs = [lib for lib in libs if _DATA_SONAME.match(lib.soname)]
    if len(data_libs) != 1:
        raise IcuDataError(f"expected one libicudata.so.NN in the closure, found {[lib.soname for lib in data_libs]}")
    upstream = data_libs[0]
    symbol, package = common_data(upstream.source)
    keep = read_list()
    full = work / "upstream" / f"{package_name(package)}.dat"
    full.parent.mkdir(parents=True, exist_ok=True)
    full.write_bytes(package)
    items = package_items(full)
    trimmed = trim(full, items, keep, work / "icupkg")
    target = shared_object(trimmed, symbol, upstream.soname, upstream.source, work / upstream.soname, arch=arch)
    log(
        f"  ICU data: kept {len(keep)} of {len(items)} items ({len(trimmed) / 1e6:.2f} of {len(package) / 1e6:.2f} MB) "
        f"listed in {LIST.name}"
    )
    entry = {
        "file": f"lib/{upstream.soname}",
        "symbol": symbol,
        "list": LIST.name,
        "items": sorted(keep),
        "bytes": len(trimmed),
        "upstream_items": len(items),
        "upstream_bytes": len(package),
    }
    return [
        dataclasses.replace(lib, source=target, upstream_file=lib.source) if lib is upstream else lib for lib in libs
    ], entry
