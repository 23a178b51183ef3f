"""Qt5 (Core, Gui) and ICU shared libraries for envpool's procgen family.

Call :func:`load` before importing a module linked against ``libQt5Core.so.5``/``libQt5Gui.so.5``;
envpool does this itself when a procgen task is made.
"""

from __future__ import annotations

from envpool_procgen_libs.load import (
    DISTRIBUTION,
    LibraryLoadError,
    LoadedLibraries,
    fingerprint,
    foreign_mappings,
    library_dir,
    load,
    manifest,
    verify,
)

__all__ = [
    "DISTRIBUTION",
    "LibraryLoadError",
    "LoadedLibraries",
    "fingerprint",
    "foreign_mappings",
    "library_dir",
    "load",
    "manifest",
    "verify",
]
