"""Preload for the procgen family: Qt5/ICU from envpool-procgen-libs, never from the system.

``envpool._procgen`` is linked against ``libQt5Core.so.5`` and ``libQt5Gui.so.5`` but carries
neither: the library wheel the procgen extra pins (read from envpool's metadata by
:mod:`envpool.families`) has ``load()``, which verifies its files and loads them with RTLD_GLOBAL
first, so the extension binds to them by soname. Before that, the ABI fingerprint the core was
built against (``envpool/_procgen_abi.json``) must equal the library wheel's (its manifest's
``abi.fingerprint``): a library wheel of the same version built differently is refused. After
importing the extension, the libQt5Core it is bound to is checked to be the one ``load()`` chose
(the wheel's copy, or the same build already loaded by PyQt5).

A core built from its sdist with ``-Ccmake.define.ENVPOOL_QT=system`` (or on a platform without the
library wheel) records ``{"source": "system", ...}`` in ``envpool/_procgen_abi.json``: it links the
system's Qt, found by the dynamic loader, and never uses the library wheel (:func:`uses_system_qt`).
"""

from __future__ import annotations

import functools
import importlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envpool._version import __version__
from envpool.errors import BrokenInstallError
from envpool.families import FAMILIES, Sibling

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType

MODULE = "envpool._procgen"
#: the library ABI this core was built against (generated at build time by tools/release/abi_record.py)
ABI_RECORD = Path(__file__).with_name("_procgen_abi.json")


def pin() -> Sibling:
    """The library wheel the procgen extra pins (its one sibling)."""
    (sibling,) = FAMILIES["procgen"].siblings
    return sibling


def _fix() -> str:
    return f'pip install --force-reinstall "envpool[procgen]=={__version__}"'


def _broken_record(problem: str) -> BrokenInstallError:
    return BrokenInstallError(
        f"envpool {__version__}: the record of the Qt it was built against ({pin().distribution}'s ABI, or the "
        f"system's Qt), {ABI_RECORD}, is missing or corrupted ({problem}). Reinstall envpool with:\n    {_fix()}"
    )


@functools.cache
def qt_record() -> dict[str, Any]:
    """This build's record of its Qt: the library wheel's ABI fingerprint, or ``{"source": "system", ...}``."""
    try:
        data = json.loads(ABI_RECORD.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
    except (OSError, ValueError) as exc:
        raise _broken_record(f"{type(exc).__name__}: {exc}") from exc
    data.setdefault("source", "wheel")
    return data


def uses_system_qt() -> bool:
    """True when this build links the system's Qt (a source build): the library wheel is not used."""
    return bool(qt_record()["source"] == "system")


def _import_module(failure: Callable[[ImportError], str]) -> ModuleType | None:
    """Import the extension; None when it is not in this build, BrokenInstallError(failure(exc)) when it fails."""
    try:
        return importlib.import_module(MODULE)
    except ModuleNotFoundError as exc:
        if exc.name == MODULE:
            return None  # envpool.resolution reports the missing family
        raise
    except ImportError as exc:
        raise BrokenInstallError(failure(exc)) from exc


def _preload_system() -> None:
    module = _import_module(
        lambda exc: (
            f"{MODULE} was built against the system's Qt {qt_record().get('qt_version', '')} "
            f"({qt_record().get('library', '')}) but fails to load ({exc}). Install the system's Qt5 "
            "(Debian: apt-get install libqt5gui5) or rebuild envpool from its sdist"
        )
    )
    if module is None:
        return
    built = qt_record().get("library") or ""
    bound = module.qt_core_path()
    if built and bound and Path(bound).resolve().parent != Path(built).resolve().parent:
        raise BrokenInstallError(
            f"{MODULE} was built against the system's Qt in {Path(built).parent} but is bound to {bound} "
            "(LD_LIBRARY_PATH or LD_PRELOAD?): unset them, or rebuild envpool from its sdist against that Qt"
        )


def preload() -> None:
    """Load the library wheel's Qt, import ``envpool._procgen`` and check it uses that Qt.

    A build that links the system's Qt imports the module directly (the dynamic loader finds that Qt).
    """
    if uses_system_qt():
        _preload_system()
        return
    sib = pin()
    try:
        libs = importlib.import_module(sib.import_name)
    except ImportError as exc:
        raise BrokenInstallError(
            f"{sib.distribution} is installed but its package {sib.import_name} cannot be imported ({exc}). "
            f"Reinstall it with:\n    {_fix()}"
        ) from exc
    try:
        manifest = libs.manifest()
        version = str(manifest["version"])
        # refused before any of its libraries is loaded into the process
        check_abi(version, libs.fingerprint(manifest) if version == sib.version else None)
        loaded = libs.load()
    except BrokenInstallError:
        raise
    except ImportError as exc:  # envpool_procgen_libs.LibraryLoadError
        raise BrokenInstallError(f"{exc}\nor reinstall envpool's procgen extra with:\n    {_fix()}") from exc
    if loaded.version != sib.version:
        raise BrokenInstallError(
            f"{sib.distribution}'s files are version {loaded.version} but envpool {__version__} pins {sib.version}. "
            f"Fix it with:\n    {_fix()}"
        )
    module = _import_module(
        lambda exc: (
            f"{MODULE} failed to load against the Qt of {sib.distribution} {loaded.version} in "
            f"{loaded.directory} ({exc}). Fix it with:\n    {_fix()}"
        )
    )
    if module is None:
        return
    check_bound(module.qt_core_path(), loaded.files["libQt5Core.so.5"].parent)


def check_bound(qt_core: str, directory: Path) -> None:
    """Raise BrokenInstallError unless ``qt_core`` (the libQt5Core in use) lies in ``directory``."""
    if not qt_core or Path(qt_core).resolve().parent != Path(directory).resolve():
        raise BrokenInstallError(
            f"{MODULE} is bound to the Qt library {qt_core or '(unknown)'}, not to the copy in {directory} "
            f"that {pin().distribution} loaded or shared: another Qt was loaded behind its back. Use the other "
            f"Qt in a separate process, or reinstall with:\n    {_fix()}"
        )


def _short(fingerprint: str) -> str:
    return fingerprint[: len("sha256:") + 12]


def recorded_abi() -> dict[str, Any]:
    """The library ABI this core was built against: ``{"version", "fingerprint", ...}`` from ABI_RECORD."""
    data = qt_record()
    fingerprint = data.get("fingerprint")
    if isinstance(fingerprint, str) and fingerprint.startswith("sha256:") and isinstance(data.get("version"), str):
        return dict(data)
    raise _broken_record("no version or sha256 fingerprint in it")


def check_abi(version: str, fingerprint: str | None) -> None:
    """Raise BrokenInstallError when the library wheel's ABI fingerprint differs from the one recorded at build time.

    ``version`` and ``fingerprint`` are the library wheel's (its manifest's). Only a library wheel of
    the version this core was built beside is compared: another version is a version skew,
    reported as such.
    """
    record = recorded_abi()
    if fingerprint is None or version != record["version"]:
        return
    if fingerprint != record["fingerprint"]:
        sib = pin()
        raise BrokenInstallError(
            f"{sib.distribution} {version} is not the build envpool {__version__} was built against: its ABI "
            f"fingerprint is {_short(fingerprint)}, envpool {__version__} expects {_short(record['fingerprint'])} "
            f"({sib.distribution} {record['version']}). Same version, different libraries: it was rebuilt "
            f"differently or comes from another index. Fix it with:\n    {_fix()}"
        )
