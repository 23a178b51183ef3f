"""The run-time library closure of Qt5Core + Qt5Gui, computed from the locked upstream binaries.

Every shared object unpacked from the artifacts of the architecture's upstream lock is indexed by its
``DT_SONAME``; the closure follows ``DT_NEEDED`` from the Qt roots through that index. A needed
soname that the manylinux policy guarantees (glibc's libraries, the compiler runtime, zlib: all
present in a minimal Debian image too, which tests/tools/test_minimal_image.py checks) is not grafted;
any other soname must be provided by exactly one locked artifact, else the build stops naming the
library that needs it.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tools.common.elf import dynamic_info
from tools.release.release_set import ARCHES, Arch, arch_of_wheel, package_of_kind

if TYPE_CHECKING:
    from pathlib import Path

    from tools.procgen_libs.upstream import Upstream

#: Qt libraries whose closure the wheel carries (the procgen family links exactly these).
ROOTS: tuple[str, ...] = ("libQt5Core.so.5", "libQt5Gui.so.5")

#: Provided by the platform (glibc, the compiler runtime, zlib): never grafted. The same rule on every
#: architecture; only the dynamic loader's name differs (ld-linux-x86-64.so.2, ld-linux-aarch64.so.1).
SYSTEM_SONAMES: frozenset[str] = frozenset(
    {
        "linux-vdso.so.1",
        "ld-linux-x86-64.so.2",
        "ld-linux-aarch64.so.1",
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


@dataclass(frozen=True)
class Library:
    """One grafted library: its soname, the unpacked file, its grafted DT_NEEDED and its artifact."""

    soname: str
    source: Path
    needed: tuple[str, ...]  # DT_NEEDED entries that are themselves grafted
    origin: Upstream
    #: the file as unpacked from its upstream artifact, when ``source`` is a rebuilt one (trimmed ICU data)
    upstream_file: Path | None = None

    @property
    def unpacked(self) -> Path:
        """The file exactly as its upstream artifact ships it."""
        return self.upstream_file or self.source


class ClosureError(RuntimeError):
    """The locked artifacts do not provide the closure exactly once."""


def closure(files: dict[Path, Upstream]) -> list[Library]:
    """Every library to graft, in load order (each after all of its grafted dependencies)."""
    provided: dict[str, tuple[Path, Upstream]] = {}
    needs: dict[str, list[str]] = {}
    for path, art in files.items():
        info = dynamic_info(path)
        if info.soname is None:
            continue
        if info.soname in provided and provided[info.soname][1] != art:
            raise ClosureError(
                f"{info.soname} is provided by both {provided[info.soname][1].filename} and {art.filename}"
            )
        provided[info.soname] = (path, art)
        needs[info.soname] = list(info.needed)
    order: list[str] = []
    state: dict[str, int] = {}
    lock_name = next(iter(files.values())).lock.name if files else "upstream.<machine>.lock.json"

    def visit(soname: str, needed_by: str) -> None:
        if state.get(soname) == 2:
            return
        if state.get(soname) == 1:
            raise ClosureError(f"dependency cycle through {soname}")
        if soname not in provided:
            raise ClosureError(
                f"{soname} (needed by {needed_by}) is provided by no artifact of the upstream lock "
                f"({lock_name}): add the package that ships it"
            )
        state[soname] = 1
        for dep in sorted(needs[soname]):
            if dep not in SYSTEM_SONAMES:
                visit(dep, soname)
        state[soname] = 2
        order.append(soname)

    for root in ROOTS:
        visit(root, "the procgen family")
    used = {provided[s][1].filename for s in order}
    unused = sorted({a.filename for a in files.values()} - used)
    if unused:
        raise ClosureError(f"locked artifacts that provide nothing the closure needs: {unused}")
    return [
        Library(s, provided[s][0], tuple(d for d in needs[s] if d not in SYSTEM_SONAMES), provided[s][1]) for s in order
    ]


def sonames_in_wheel(wheel: Path) -> list[str]:
    """The sonames an envpool-procgen-libs wheel provides, from the manifest it ships."""
    with zipfile.ZipFile(wheel) as zf:
        manifest = json.loads(zf.read(f"{package_of_kind('library').import_name}/_manifest.json"))
    return sorted(entry["soname"] for entry in manifest["libraries"])


def exclude_sonames(wheelhouse: Path, arch: Arch = ARCHES[0]) -> list[str]:
    """The sonames the core's ``auditwheel repair`` must ``--exclude``: everything the library wheel provides.

    Read from the manifest of the envpool-procgen-libs wheel for ``arch`` (default this machine's) in
    ``wheelhouse`` (the build makes the library wheel before the core, so it is there).
    """
    library = package_of_kind("library")
    wheels = [w for w in sorted(wheelhouse.glob(f"{library.normalized}-*.whl")) if arch_of_wheel(w.name) == arch]
    if not wheels:
        raise ClosureError(
            f"no {library.distribution} wheel for {arch.machine} in {wheelhouse}: build {library.directory} first"
        )
    return sonames_in_wheel(wheels[-1])
