"""What the release tools read from an ELF file: its header's machine, soname, needed libraries, glibc needs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from pathlib import Path

_GLIBC = re.compile(r"^GLIBC_(\d+)\.(\d+)(?:\.\d+)?$")

#: The first bytes of every ELF file (e_ident[EI_MAG0..3]).
ELF_MAGIC = b"\x7fELF"
#: The bytes of the ELF header up to and including e_machine: e_ident (16), e_type (2), e_machine (2).
HEADER_BYTES = 20
_EI_CLASS, _EI_DATA, _E_MACHINE = 4, 5, 18
_BYTE_ORDER: dict[int, Literal["little", "big"]] = {1: "little", 2: "big"}  # ELFDATA2LSB, ELFDATA2MSB


def is_elf(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) starts with the ELF magic."""
    return head.startswith(ELF_MAGIC)


def header_machine(head: bytes) -> str:
    """The e_machine of an ELF header as pyelftools names it ("EM_X86_64", "EM_AARCH64", ...).

    ``head`` is the first :data:`HEADER_BYTES` (or more) bytes of the file. Every field read is bounds
    checked: a short or malformed header raises ValueError, never an IndexError or a guess.
    """
    from elftools.elf.enums import ENUM_E_MACHINE

    if not is_elf(head):
        raise ValueError(f"not an ELF header: starts with {head[:4]!r}, not {ELF_MAGIC!r}")
    if len(head) < HEADER_BYTES:
        raise ValueError(f"truncated ELF header: {len(head)} bytes, e_machine needs {HEADER_BYTES}")
    if head[_EI_CLASS] not in (1, 2):  # ELFCLASS32, ELFCLASS64
        raise ValueError(f"bad ELF header: EI_CLASS {head[_EI_CLASS]} is neither 1 (32-bit) nor 2 (64-bit)")
    order = _BYTE_ORDER.get(head[_EI_DATA])
    if order is None:
        raise ValueError(f"bad ELF header: EI_DATA {head[_EI_DATA]} is neither 1 (LSB) nor 2 (MSB)")
    number = int.from_bytes(head[_E_MACHINE:HEADER_BYTES], order)
    names = {int(v): str(k) for k, v in ENUM_E_MACHINE.items() if k != "_default_"}
    return names.get(number, f"EM_{number}")


@dataclass(frozen=True)
class DynamicInfo:
    """The dynamic section and version needs of one ELF file."""

    machine: str  # e_machine, e.g. "EM_X86_64"
    soname: str | None
    needed: tuple[str, ...]
    glibc: tuple[int, int]  # the newest GLIBC_x.y symbol version it needs ((0, 0) for none)


def dynamic_info(path: Path) -> DynamicInfo:
    """Read ``path``'s DT_SONAME, DT_NEEDED, machine and newest GLIBC version need."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile
    from elftools.elf.gnuversions import GNUVerNeedSection

    soname: str | None = None
    needed: list[str] = []
    glibc = (0, 0)
    try:
        with path.open("rb") as fh:
            elf = ELFFile(fh)
            machine = str(elf["e_machine"])
            for section in elf.iter_sections():
                if isinstance(section, DynamicSection):
                    for tag in section.iter_tags():
                        if tag.entry.d_tag == "DT_NEEDED":
                            needed.append(str(tag.needed))  # type: ignore[attr-defined]
                        elif tag.entry.d_tag == "DT_SONAME":
                            soname = str(tag.soname)  # type: ignore[attr-defined]
                elif isinstance(section, GNUVerNeedSection):
                    for _verneed, auxiliaries in section.iter_versions():
                        for aux in auxiliaries:
                            m = _GLIBC.match(str(aux.name))
                            if m:
                                glibc = max(glibc, (int(m[1]), int(m[2])))
    except ELFError as exc:
        raise ValueError(f"{path}: not a readable ELF file ({exc})") from None
    return DynamicInfo(machine, soname, tuple(needed), glibc)


@dataclass(frozen=True)
class Import:
    """An undefined dynamic symbol: its name, version and the file that version is needed from."""

    name: str
    version: str | None
    library: str | None  # the DT_NEEDED soname the version belongs to (None when unversioned)
    weak: bool


@dataclass(frozen=True)
class DynamicSymbols:
    """The dynamic symbols of one ELF file: what it exports (with versions) and what it imports."""

    exports: dict[str, frozenset[str | None]]
    imports: tuple[Import, ...]


def _version_names(elf: Any) -> tuple[dict[int, str], dict[int, tuple[str, str]]]:
    """(verdef index -> name, verneed index -> (file, name)) of an ELF file."""
    from elftools.elf.gnuversions import GNUVerDefSection, GNUVerNeedSection

    defined: dict[int, str] = {}
    needed: dict[int, tuple[str, str]] = {}
    for section in elf.iter_sections():
        if isinstance(section, GNUVerDefSection):
            for verdef, auxiliaries in section.iter_versions():
                names = [str(aux.name) for aux in auxiliaries]
                if names:
                    defined[int(verdef["vd_ndx"])] = names[0]
        elif isinstance(section, GNUVerNeedSection):
            for verneed, auxiliaries in section.iter_versions():
                for aux in auxiliaries:
                    needed[int(aux["vna_other"])] = (str(verneed.name), str(aux.name))
    return defined, needed


def dynamic_symbols(path: Path) -> DynamicSymbols:
    """Read ``path``'s exported (defined, global or weak, not hidden) and imported dynamic symbols."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile
    from elftools.elf.gnuversions import GNUVerSymSection
    from elftools.elf.sections import SymbolTableSection

    exports: dict[str, set[str | None]] = {}
    imports: list[Import] = []
    try:
        with path.open("rb") as fh:
            elf = ELFFile(fh)
            dynsym = elf.get_section_by_name(".dynsym")
            if not isinstance(dynsym, SymbolTableSection):
                return DynamicSymbols({}, ())
            versym = next((s for s in elf.iter_sections() if isinstance(s, GNUVerSymSection)), None)
            defined, needed = _version_names(elf)
            for i, sym in enumerate(dynsym.iter_symbols()):
                if i == 0 or not sym.name or sym["st_info"]["bind"] == "STB_LOCAL":
                    continue
                ndx = versym.get_symbol(i)["ndx"] if versym is not None else "VER_NDX_GLOBAL"
                index = ndx & 0x7FFF if isinstance(ndx, int) else None
                if sym["st_shndx"] == "SHN_UNDEF":
                    file, version = needed.get(index, (None, None)) if index is not None else (None, None)
                    imports.append(Import(sym.name, version, file, sym["st_info"]["bind"] == "STB_WEAK"))
                elif sym["st_other"]["visibility"] in ("STV_DEFAULT", "STV_PROTECTED"):
                    version = defined.get(index) if index is not None and index > 1 else None
                    exports.setdefault(sym.name, set()).add(version)
    except ELFError as exc:
        raise ValueError(f"{path}: not a readable ELF file ({exc})") from None
    return DynamicSymbols({k: frozenset(v) for k, v in exports.items()}, tuple(imports))


def elf_machine(file: Path | bytes, label: str = "bytes") -> str:
    """The e_machine of a file (or of its bytes, named ``label`` in errors) as pyelftools names it
    (:func:`header_machine` on its first bytes)."""
    head = file[:HEADER_BYTES] if isinstance(file, bytes) else _head(file)
    try:
        return header_machine(head)
    except ValueError as exc:
        raise ValueError(f"{label if isinstance(file, bytes) else file}: {exc}") from None


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(HEADER_BYTES)


def has_debug_sections(path: Path) -> bool:
    """True when ``path`` carries DWARF debug sections (``.debug_*``) that ``strip --strip-debug`` removes."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        with path.open("rb") as fh:
            return any(s.name.startswith((".debug_", ".zdebug_")) for s in ELFFile(fh).iter_sections())
    except ELFError as exc:
        raise ValueError(f"{path}: not a readable ELF file ({exc})") from None
