"""One Qt per process: share a copy of the same Qt build with another Qt user (PyQt5), refuse any other.

The bundled Qt and ICU are PyQt5-Qt5's build. The manifest records, for each library, the sha256
of the file in the wheel and of the upstream file it was made from (before strip/patchelf), so a
copy mapped by someone else is the same build when its bytes match either. ``load()`` then uses
that copy instead of loading a second one; a different build is refused before anything loads.
If this package's Qt is loaded first, :func:`install_import_guard` makes a later import of a Qt
binding that bundles a different Qt build (PyQt5, PySide2) fail at once with an ImportError.
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.abc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

#: libraries of which the process may hold one build only (checked in /proc/self/maps)
GUARDED_PREFIXES = ("libQt5Core.so", "libQt5Gui.so", "libicuuc.so", "libicui18n.so", "libicudata.so")
#: Qt bindings that bundle their own Qt: package -> directories (relative to it) holding libQt5Core.so.5
BINDINGS = {"PyQt5": ("Qt5/lib", "Qt/lib"), "PySide2": ("Qt/lib",)}
#: the binding whose Qt wheel (PyQt5-Qt5) is the upstream of the bundled Qt
SAME_BUILD_BINDING = "PyQt5"

_hashes: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """sha256 of ``path`` (cached by path, size and mtime: mapped Qt/ICU files are tens of MB)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _hashes:
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        _hashes[key] = h.hexdigest()
    return _hashes[key]


def _entry_for(name: str, data: dict[str, Any]) -> dict[str, Any] | None:
    """The manifest entry whose soname the file name ``name`` starts with (libQt5Core.so.5.15.8 -> libQt5Core.so.5)."""
    for entry in data["libraries"]:
        if name == entry["soname"] or name.startswith(entry["soname"] + "."):
            return dict(entry)
    return None


def same_build(path: Path, data: dict[str, Any], soname: str | None = None) -> bool:
    """True when the library at ``path`` (of ``soname``, else told by its file name) is byte-identical to a
    bundled one or to its upstream file."""
    entry = _entry_for(soname or path.name, data)
    if entry is None:
        return False
    try:
        digest = file_sha256(path)
    except OSError:
        return False
    return digest in {entry["sha256"], entry.get("upstream_sha256")}


def mapped_paths() -> list[str]:
    """Paths of the files mapped into this process (``/proc/self/maps``), deduplicated, in order."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return []
    seen: dict[str, None] = {}
    for line in maps.splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and parts[5].startswith("/"):
            seen[parts[5].strip().removesuffix(" (deleted)")] = None
    return list(seen)


def guarded_outside(directory: Path) -> list[str]:
    """Qt/ICU libraries mapped into this process from outside ``directory``."""
    directory = directory.resolve()
    return sorted(
        p for p in mapped_paths() if Path(p).name.startswith(GUARDED_PREFIXES) and Path(p).parent.resolve() != directory
    )


def foreign_builds(directory: Path, data: dict[str, Any]) -> list[str]:
    """Qt/ICU libraries mapped from outside ``directory`` that are not the bundled build."""
    return [p for p in guarded_outside(directory) if not same_build(Path(p), data)]


def already_loaded(soname: str) -> ctypes.CDLL | None:
    """A handle on the library with ``soname`` if one is already loaded (``RTLD_NOLOAD``), else None."""
    try:
        return ctypes.CDLL(soname, mode=os.RTLD_NOW | os.RTLD_NOLOAD)
    except OSError:
        return None


class _LinkMap(ctypes.Structure):
    _fields_ = [("l_addr", ctypes.c_void_p), ("l_name", ctypes.c_char_p)]


def handle_path(handle: ctypes.CDLL) -> Path | None:
    """The file a loaded library came from (``dlinfo(RTLD_DI_LINKMAP)``), or None if unknown."""
    try:
        dlinfo = ctypes.CDLL("libdl.so.2").dlinfo
    except (OSError, AttributeError):
        return None
    link_map = ctypes.POINTER(_LinkMap)()
    if dlinfo(ctypes.c_void_p(handle._handle), 2, ctypes.byref(link_map)) != 0 or not link_map:  # RTLD_DI_LINKMAP
        return None
    name = link_map.contents.l_name
    return Path(os.fsdecode(name)) if name else None


def roots_to_load(data: dict[str, Any], loaded: set[str]) -> set[str]:
    """Sonames to load from this package: the closure of its top libraries, not entering ones already loaded."""
    entries = {e["soname"]: e for e in data["libraries"]}
    needed_by_others = {n for e in entries.values() for n in e["needed"]}
    todo = [s for s in entries if s not in needed_by_others]
    out: set[str] = set()
    while todo:
        soname = todo.pop()
        if soname in out or soname in loaded or soname not in entries:
            continue
        out.add(soname)
        todo.extend(entries[soname]["needed"])
    return out


def _binding_qt_core(package: ModuleType) -> Path | None:
    for base in getattr(package, "__path__", []):
        for sub in BINDINGS.get(package.__name__, ()):
            candidate = Path(base) / sub / "libQt5Core.so.5"
            if candidate.is_file():
                return candidate
    return None


class _QtBindingGuard(importlib.abc.MetaPathFinder):
    """Refuses the Qt modules of a binding whose bundled Qt is another build than the one loaded."""

    def __init__(self, data: dict[str, Any], ours: Path) -> None:
        self.data, self.ours = data, ours
        self.checked: set[str] = set()

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        top, _, sub = fullname.partition(".")
        if top not in BINDINGS or not sub.startswith("Qt") or top in self.checked or top not in sys.modules:
            return None
        qt_core = _binding_qt_core(sys.modules[top])
        if qt_core is not None and same_build(qt_core, self.data):
            self.checked.add(top)
            return None
        (core,) = [e for e in self.data["libraries"] if e["soname"] == "libQt5Core.so.5"]
        build = f"{core['package']} {core['package_version']}"
        theirs = f"bundles another Qt build ({qt_core})" if qt_core else "uses a Qt from outside its package"
        fix = f'install the same Qt build for it:\n    pip install "{core["package"]}=={core["package_version"]}"\nor '
        raise ImportError(
            f"cannot import {fullname}: {top} {theirs}, but this process already runs envpool's Qt "
            f"{self.data['qt_version']} ({self.ours}, the build of {build}), and two Qt builds cannot share one "
            f"process. {fix if top == SAME_BUILD_BINDING else ''}use {top} and envpool's procgen tasks in "
            "separate processes."
        )


def install_import_guard(data: dict[str, Any], ours: Path) -> None:
    """Make a later import of a Qt binding with another Qt build fail at once (once per process)."""
    if not any(isinstance(f, _QtBindingGuard) for f in sys.meta_path):
        sys.meta_path.insert(0, _QtBindingGuard(data, ours))
