"""Preload for the procgen family: Qt5/ICU from envpool-procgen-libs, never from the system.

``envpool._procgen`` is linked against ``libQt5Core.so.5`` and ``libQt5Gui.so.5`` but carries
neither: ``envpool_procgen_libs.load()`` verifies the library wheel's files and loads them with
RTLD_GLOBAL first, so the extension binds to them by soname. After importing the extension, the
path of the libQt5Core it is bound to is checked to lie in the library wheel's directory.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from envpool._version import __version__
from envpool.errors import BrokenInstallError

DISTRIBUTION = "envpool-procgen-libs"
MODULE = "envpool._procgen"


def _fix() -> str:
    return f'pip install --force-reinstall "envpool[procgen]=={__version__}"'


def preload() -> None:
    """Load the library wheel's Qt, import ``envpool._procgen`` and check it uses that Qt."""
    try:
        libs = importlib.import_module("envpool_procgen_libs")
    except ImportError as exc:
        raise BrokenInstallError(
            f"{DISTRIBUTION} is installed but its package envpool_procgen_libs cannot be imported ({exc}). "
            f"Reinstall it with:\n    {_fix()}"
        ) from exc
    try:
        loaded = libs.load()
    except ImportError as exc:  # envpool_procgen_libs.LibraryLoadError
        raise BrokenInstallError(f"{exc}\nor reinstall envpool's procgen extra with:\n    {_fix()}") from exc
    if loaded.version != __version__:
        raise BrokenInstallError(
            f"{DISTRIBUTION}'s files are version {loaded.version} but envpool is {__version__}. "
            f"Fix it with:\n    {_fix()}"
        )
    try:
        module = importlib.import_module(MODULE)
    except ModuleNotFoundError as exc:
        if exc.name == MODULE:
            return  # envpool.families reports the missing family
        raise
    except ImportError as exc:
        raise BrokenInstallError(
            f"{MODULE} failed to load against the Qt of {DISTRIBUTION} {loaded.version} in {loaded.directory} "
            f"({exc}). Fix it with:\n    {_fix()}"
        ) from exc
    check_bound(module.qt_core_path(), loaded.directory)


def check_bound(qt_core: str, directory: Path) -> None:
    """Raise BrokenInstallError unless ``qt_core`` (the libQt5Core in use) lies in ``directory``."""
    if not qt_core or Path(qt_core).resolve().parent != Path(directory).resolve():
        raise BrokenInstallError(
            f"{MODULE} is bound to the Qt library {qt_core or '(unknown)'}, not to the copy in {directory} "
            f"from {DISTRIBUTION}: a system Qt was loaded first (e.g. by PyQt5). Import envpool's procgen "
            f"tasks first, or reinstall with:\n    {_fix()}"
        )
