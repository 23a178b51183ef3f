"""What the release tools read from an ELF shared object: soname, needed libraries, machine, glibc needs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

_GLIBC = re.compile(r"^GLIBC_(\d+)\.(\d+)(?:\.\d+)?$")


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
