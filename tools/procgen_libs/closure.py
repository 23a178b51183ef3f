"""The run-time library closure of Qt5Core + Qt5Gui on the build host.

The closure is read from the ELF DT_NEEDED entries as resolved by the host's dynamic linker
(``ldd``), minus the libraries every Linux the wheel targets provides: glibc's own libraries,
the compiler runtime (libstdc++, libgcc_s) and zlib. Those are in the manylinux policy and in a
minimal Debian image (debootstrap --variant=minbase), which tests/test_minimal_image.py checks.
Everything else (ICU, pcre2, zstd, double-conversion, harfbuzz, freetype, libpng, glib, the GL
dispatch libraries, X11/xcb) is grafted into the library wheel.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Qt libraries whose closure the wheel carries (the procgen family links exactly these).
ROOTS: tuple[str, ...] = ("libQt5Core.so.5", "libQt5Gui.so.5")

#: Where Qt is searched for: Debian's multiarch dir, then the manylinux (RHEL-like) lib64 dir.
SEARCH_DIRS: tuple[Path, ...] = (Path("/usr/lib/x86_64-linux-gnu"), Path("/usr/lib64"), Path("/usr/lib"))

#: Provided by the platform (glibc, the compiler runtime, zlib): never grafted.
SYSTEM_SONAMES: frozenset[str] = frozenset(
    {
        "linux-vdso.so.1",
        "ld-linux-x86-64.so.2",
        "libc.so.6",
        "libm.so.6",
        "libdl.so.2",
        "librt.so.1",
        "libpthread.so.0",
        "libresolv.so.2",
        "libutil.so.1",
        "libnsl.so.1",
        "libanl.so.1",
        "libstdc++.so.6",
        "libgcc_s.so.1",
        "libz.so.1",
    }
)

_LDD_LINE = re.compile(r"^\s*(\S+)\s+=>\s+(\S+)\s+\(0x[0-9a-f]+\)\s*$")


@dataclass(frozen=True)
class Library:
    """One grafted library: its soname, the host file it comes from and its bundled DT_NEEDED."""

    soname: str
    source: Path  # the real file (symlinks resolved)
    needed: tuple[str, ...]  # DT_NEEDED entries that are themselves grafted


class ClosureError(RuntimeError):
    """Qt or one of its dependencies is missing on the build host."""


def find_root(soname: str) -> Path:
    """The host path of one of the Qt root libraries."""
    for d in SEARCH_DIRS:
        if (d / soname).exists():
            return d / soname
    raise ClosureError(
        f"{soname} not found in {', '.join(map(str, SEARCH_DIRS))}: install Qt5's base development package "
        "(Debian: apt-get install -y qtbase5-dev; manylinux_2_28: dnf install -y qt5-qtbase-devel)"
    )


def dt_needed(path: Path) -> list[str]:
    """The DT_NEEDED sonames of an ELF shared object."""
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile

    with path.open("rb") as fh:
        elf = ELFFile(fh)
        for section in elf.iter_sections():
            if isinstance(section, DynamicSection):
                return [str(t.needed) for t in section.iter_tags() if t.entry.d_tag == "DT_NEEDED"]  # type: ignore[attr-defined]
    return []


def ldd(path: Path) -> dict[str, Path]:
    """soname -> resolved host path for the whole closure of ``path`` (the host linker's view)."""
    out = subprocess.run(["ldd", str(path)], check=True, capture_output=True, text=True).stdout
    resolved: dict[str, Path] = {}
    for line in out.splitlines():
        if "not found" in line:
            raise ClosureError(f"{path}: dependency {line.split()[0]} not found on the build host")
        m = _LDD_LINE.match(line)
        if m:
            resolved[m.group(1)] = Path(m.group(2))
    return resolved


def closure() -> list[Library]:
    """Every library to graft, in load order (each after all of its grafted dependencies)."""
    resolved: dict[str, Path] = {}
    for root in ROOTS:
        path = find_root(root)
        resolved[root] = path
        resolved.update(ldd(path))
    grafted = {s: p.resolve() for s, p in resolved.items() if s not in SYSTEM_SONAMES}
    needed = {s: tuple(n for n in dt_needed(p) if n in grafted) for s, p in grafted.items()}
    missing = {n for s, p in grafted.items() for n in dt_needed(p) if n not in grafted and n not in SYSTEM_SONAMES}
    if missing:
        raise ClosureError(f"unresolved dependencies: {sorted(missing)}")
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(s: str) -> None:
        if state.get(s) == 2:
            return
        if state.get(s) == 1:
            raise ClosureError(f"dependency cycle through {s}")
        state[s] = 1
        for dep in sorted(needed[s]):
            visit(dep)
        state[s] = 2
        order.append(s)

    for s in sorted(grafted):
        visit(s)
    return [Library(s, grafted[s], needed[s]) for s in order]


def sonames_in_wheel(wheel: Path) -> list[str]:
    """The sonames an envpool-procgen-libs wheel provides, from the manifest it ships."""
    import json
    import zipfile

    with zipfile.ZipFile(wheel) as zf:
        manifest = json.loads(zf.read("envpool_procgen_libs/_manifest.json"))
    return sorted(entry["soname"] for entry in manifest["libraries"])


def exclude_sonames(wheelhouse: Path | None = None) -> list[str]:
    """The sonames the core's ``auditwheel repair`` must ``--exclude``: everything the library wheel provides.

    Read from the manifest of the envpool-procgen-libs wheel in ``wheelhouse`` when there is one,
    otherwise computed from the host's Qt (the same closure the library wheel is built from).
    """
    if wheelhouse is not None:
        wheels = sorted(wheelhouse.glob("envpool_procgen_libs-*.whl"))
        if wheels:
            return sonames_in_wheel(wheels[-1])
    return sorted(lib.soname for lib in closure())
