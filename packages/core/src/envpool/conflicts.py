"""The library conflicts ``envpool doctor --all`` flags, each with the fix.

- ``duplicate_soname``: one soname mapped from two different files;
- ``outside_provider``: a library that an installed sibling wheel provides (the library wheel's Qt/ICU,
  mujoco-core's libmujoco) mapped from somewhere else; for Qt and ICU any other copy counts, even
  under another soname (``libicuuc.so.67`` beside the wheel's ``libicuuc.so.72``);
- ``visible_copy``: a copy of such a Qt/ICU soname outside the wheel that the dynamic loader can
  find by name: on ``LD_LIBRARY_PATH``, in ``LD_PRELOAD`` or in the ``ldconfig -p`` cache.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from envpool.errors import BrokenInstallError
from envpool.families import FAMILIES, installed_version
from envpool.inventory import command_output

if TYPE_CHECKING:
    from envpool.inventory import MappedLibrary, WheelFiles

#: Qt and ICU: a second copy of these beside the library wheel's is a conflict even under another soname
_QT_ICU = re.compile(r"^lib(?:Qt5\w+|icu\w+)\.so")
_LIB = re.compile(r"^lib.*\.so(\.\d+)*$")


@dataclass(frozen=True)
class Provider:
    """A shared library an installed sibling wheel provides."""

    soname: str
    distribution: str
    paths: frozenset[str]  # real paths of the wheel's copy


def providers(wheels: WheelFiles) -> dict[str, Provider]:
    """soname -> the installed pinned sibling wheel that provides it (library siblings, not asset wheels)."""
    found: dict[str, Provider] = {}
    try:
        siblings = {s.distribution for f in FAMILIES.values() for s in f.siblings if not s.is_assets}
    except BrokenInstallError:  # envpool's own metadata is missing: the pins are unknown
        return found
    for dist in sorted(siblings):
        if installed_version(dist) is None:
            continue
        for path in wheels.files_of(dist):
            name = Path(path).name
            if _LIB.match(name):
                old = found.get(name)
                paths = (old.paths if old else frozenset()) | {os.path.realpath(path)}
                found[name] = Provider(name, dist, paths)
    return found


def _prefix(soname: str) -> str:
    return soname.split(".so", 1)[0] + ".so"


def _guarded(name: str, provided: dict[str, Provider]) -> Provider | None:
    """The provider ``name`` competes with: the same soname, or for Qt/ICU the same library under any version."""
    if name in provided:
        return provided[name]
    if _QT_ICU.match(name):
        return next((p for s, p in provided.items() if _QT_ICU.match(s) and _prefix(s) == _prefix(name)), None)
    return None


@dataclass(frozen=True)
class Conflict:
    """One flagged conflict (the ``conflicts`` entries of ``envpool doctor --all --json``)."""

    kind: str  # duplicate_soname | outside_provider | visible_copy
    soname: str
    paths: list[str]
    source: str  # mapped | LD_LIBRARY_PATH | LD_PRELOAD | ldconfig
    message: str
    fix: str


def ldconfig_cache() -> list[tuple[str, str]]:
    """(soname, path) pairs of the dynamic loader's cache (``ldconfig -p``); empty without ldconfig."""
    exe = shutil.which("ldconfig") or next(
        (p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if os.access(p, os.X_OK)), None
    )
    if exe is None:
        return []
    output = command_output([exe, "-p"])
    pairs = []
    for line in output.splitlines():
        name, sep, path = line.strip().partition(" => ")
        if sep:
            pairs.append((name.split(" (", 1)[0], path.strip()))
    return pairs


def find(libs: list[MappedLibrary], wheels: WheelFiles, env: dict[str, str | None]) -> list[Conflict]:
    """Every conflict among the mapped libraries and the loader's search path (see the module docstring)."""
    out: list[Conflict] = []
    by_soname: dict[str, dict[str, MappedLibrary]] = {}
    for lib in libs:
        if _LIB.match(lib.soname):
            by_soname.setdefault(lib.soname, {})[os.path.realpath(lib.path)] = lib
    for soname, copies in sorted(by_soname.items()):
        if len(copies) > 1:
            paths = sorted(lib.path for lib in copies.values())
            owners = ", ".join(f"{lib.path} ({lib.owner})" for lib in copies.values())
            message = f"{soname} is mapped from {len(paths)} files: {owners}"
            out.append(
                Conflict(
                    "duplicate_soname",
                    soname,
                    paths,
                    "mapped",
                    message,
                    "keep one copy: remove the others from LD_PRELOAD/LD_LIBRARY_PATH, or import envpool before the "
                    "module that loaded the other copy",
                )
            )
    provided = providers(wheels)
    for lib in libs:
        prov = _guarded(lib.soname, provided)
        if prov and os.path.realpath(lib.path) not in prov.paths:
            out.append(
                Conflict(
                    "outside_provider",
                    lib.soname,
                    [lib.path],
                    "mapped",
                    f"{lib.soname} is mapped from {lib.path} ({lib.owner}), not from {prov.distribution}, which "
                    f"provides {prov.soname}",
                    f"load only {prov.distribution}'s copy: remove {lib.path} from LD_PRELOAD/LD_LIBRARY_PATH, or "
                    "import envpool's tasks before the module that loaded it (e.g. PyQt5)",
                )
            )
    out += _visible_copies(provided, env)
    return out


def _visible_copies(provided: dict[str, Provider], env: dict[str, str | None]) -> list[Conflict]:
    """Qt/ICU copies outside the wheel that the dynamic loader finds by name."""
    guarded = {s: p for s, p in provided.items() if _QT_ICU.match(s)}
    if not guarded:
        return []
    out = []
    for entry in (env.get("LD_LIBRARY_PATH") or "").split(":"):
        for soname, prov in sorted(guarded.items()):
            copy = Path(entry or ".") / soname
            if entry and copy.exists() and os.path.realpath(copy) not in prov.paths:
                out.append(
                    Conflict(
                        "visible_copy",
                        soname,
                        [str(copy)],
                        "LD_LIBRARY_PATH",
                        f"LD_LIBRARY_PATH holds {copy}, another {soname} than {prov.distribution}'s",
                        f"remove {entry} from LD_LIBRARY_PATH",
                    )
                )
    for entry in re.split(r"[:\s]+", env.get("LD_PRELOAD") or ""):
        found = _guarded(Path(entry).name, guarded) if entry else None
        if found and os.path.realpath(entry) not in found.paths:
            out.append(
                Conflict(
                    "visible_copy",
                    Path(entry).name,
                    [entry],
                    "LD_PRELOAD",
                    f"LD_PRELOAD loads {entry} into every process, beside {found.distribution}'s {found.soname}",
                    f"remove {entry} from LD_PRELOAD",
                )
            )
    for soname, path in ldconfig_cache():
        found = guarded.get(soname)
        if found and os.path.realpath(path) not in found.paths:
            out.append(
                Conflict(
                    "visible_copy",
                    soname,
                    [path],
                    "ldconfig",
                    f"the system's {path} (ldconfig -p) has the soname of {found.distribution}'s copy: envpool loads "
                    "its own by absolute path, but a module that loads it by name first gets the system one",
                    f"import envpool's tasks before other Qt users (e.g. PyQt5), or remove the system package "
                    f"that installs {path}",
                )
            )
    return out
