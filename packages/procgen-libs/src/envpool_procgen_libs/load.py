"""Load the bundled Qt5/ICU libraries into the process (RAPIDS ``librmm/load.py`` pattern).

``load()`` verifies every file against the manifest written at build time (present, size,
sha256), then ``dlopen``s each library by absolute path with ``RTLD_GLOBAL``, dependencies first,
so that a module linked against ``libQt5Core.so.5`` / ``libQt5Gui.so.5`` and imported afterwards
binds to these copies by soname, never to a system Qt. It then asks the loaded libraries for
their versions (``qVersion()``, ``u_getVersion_<major>()``), reads the item names of the ICU data
from the loaded ``libicudata`` (the wheel carries only the items of its reviewed list, which the
manifest names) and checks in ``/proc/self/maps`` that no other build of Qt or ICU is mapped into
the process. A copy of the very same build already loaded by another Qt user (PyQt5 with
PyQt5-Qt5 of the same version) is used instead of loading a second one (see
:mod:`envpool_procgen_libs.sharing`).
"""

from __future__ import annotations

import ctypes
import json
import os
import threading
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from envpool_procgen_libs import sharing

DISTRIBUTION = "envpool-procgen-libs"
_HERE = Path(__file__).resolve().parent
MANIFEST = _HERE / "_manifest.json"


class LibraryLoadError(ImportError):
    """A bundled library is missing, truncated, changed or could not be loaded."""


@dataclass(frozen=True)
class LoadedLibraries:
    """What ``load()`` loaded: the directory, the package version and the library versions."""

    directory: Path
    version: str
    qt_version: str
    icu_version: str
    files: dict[str, Path]  # soname -> absolute path of the copy in use, in load order
    #: sonames taken from a copy of the same build that was already loaded (e.g. by PyQt5)
    shared: tuple[str, ...] = ()
    #: the items of the ICU common data that libicuuc uses, read from the loaded libicudata
    icu_data: tuple[str, ...] = ()


def _fix_line(version: str) -> str:
    return f'pip install --force-reinstall --no-deps "{DISTRIBUTION}=={version}"'


def library_dir() -> Path:
    """The directory holding the bundled shared libraries."""
    return _HERE / "lib"


def manifest() -> dict[str, Any]:
    """The build-time manifest: version, Qt/ICU versions and each library's soname, size and sha256."""
    problem = ""
    try:
        data = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problem = str(exc)
    else:
        if not isinstance(data, dict) or not isinstance(data.get("libraries"), list) or "version" not in data:
            problem = "not a manifest: no version or library list"
    if problem:
        raise LibraryLoadError(
            f"{DISTRIBUTION}: cannot read its manifest {MANIFEST} ({problem}). Reinstall it with:\n    "
            f'pip install --force-reinstall --no-deps "{DISTRIBUTION}"'
        )
    return dict(data)


def fingerprint(data: dict[str, Any] | None = None) -> str:
    """The ABI fingerprint the manifest records (``sha256:...``, see tools/procgen_libs/fingerprint.py)."""
    data = manifest() if data is None else data
    abi = data.get("abi")
    value = abi.get("fingerprint") if isinstance(abi, dict) else None
    if not isinstance(value, str) or not value.startswith("sha256:"):
        raise LibraryLoadError(
            f"{DISTRIBUTION} {data['version']}: its manifest {MANIFEST} records no ABI fingerprint (abi.fingerprint). "
            f"Reinstall it with:\n    {_fix_line(str(data['version']))}"
        )
    return value


def verify(data: dict[str, Any] | None = None) -> None:
    """Check every bundled file against the manifest; raise LibraryLoadError naming the first bad file."""
    data = manifest() if data is None else data
    version = str(data["version"])
    installed = _installed_version()
    if installed is not None and installed != version:
        raise LibraryLoadError(
            f"{DISTRIBUTION}: the installed metadata says {installed} but its files are from {version}: "
            f"the installation is mixed. Fix it with:\n    {_fix_line(installed)}"
        )
    for entry in data["libraries"]:
        path = _HERE / entry["file"]
        problem = None
        if not path.is_file():
            problem = "is missing"
        else:
            size = path.stat().st_size
            if size != entry["size"]:
                problem = f"has {size} bytes, expected {entry['size']} (truncated or replaced)"
            elif sharing.file_sha256(path) != entry["sha256"]:
                problem = "does not match its sha256 in the manifest (changed on disk)"
        if problem:
            raise LibraryLoadError(
                f"{DISTRIBUTION} {version}: bundled library {path} {problem}. "
                f"Reinstall the package with:\n    {_fix_line(version)}"
            )


def _installed_version() -> str | None:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None


def foreign_mappings(directory: Path | None = None) -> list[str]:
    """Paths of Qt/ICU libraries mapped into this process from outside ``directory``."""
    return sharing.guarded_outside(directory or library_dir())


_lock = threading.Lock()
_loaded: LoadedLibraries | None = None
_handles: list[ctypes.CDLL] = []  # kept alive for the life of the process


def load() -> LoadedLibraries:
    """Verify and load every bundled library (once per process); return what was loaded."""
    global _loaded  # noqa: PLW0603 - the process-wide result of loading, set once under the lock
    with _lock:
        if _loaded is not None:
            return _loaded
        data = manifest()
        version = str(data["version"])
        verify(data)
        # Before loading anything: a second Qt/ICU build beside one already mapped can crash the process.
        _refuse_foreign(data)
        files: dict[str, Path] = {}
        handles: dict[str, ctypes.CDLL] = {}
        shared: list[str] = []
        present = {e["soname"]: sharing.already_loaded(e["soname"]) for e in data["libraries"]}
        wanted = sharing.roots_to_load(data, {s for s, h in present.items() if h is not None})
        for entry in data["libraries"]:
            soname, path = entry["soname"], _HERE / entry["file"]
            existing = present[soname] or sharing.already_loaded(soname)
            if existing is not None:  # one copy per soname: use the one in the process (checked above)
                handles[soname] = existing
                files[soname] = sharing.handle_path(existing) or path
                if files[soname].resolve() != path.resolve():
                    # a Qt/ICU file whose name escaped the check in /proc/self/maps is checked here
                    if soname.startswith(sharing.GUARDED_PREFIXES) and not sharing.same_build(
                        files[soname], data, soname
                    ):
                        _refuse_foreign(data, [str(files[soname])])
                    shared.append(soname)
                continue
            if soname not in wanted:
                continue  # only a library already loaded needs it
            try:
                handles[soname] = ctypes.CDLL(str(path), mode=os.RTLD_NOW | os.RTLD_GLOBAL)
            except OSError as exc:
                raise LibraryLoadError(
                    f"{DISTRIBUTION} {version}: cannot load {path}: {exc}. Reinstall with:\n    {_fix_line(version)}"
                ) from exc
            files[soname] = path
        qt_version = _qt_version(handles)
        icu_version = _icu_version(handles)
        if qt_version != data["qt_version"] or icu_version != data["icu_version"]:
            raise LibraryLoadError(
                f"{DISTRIBUTION} {version}: loaded Qt {qt_version} / ICU {icu_version}, but the manifest "
                f"says Qt {data['qt_version']} / ICU {data['icu_version']}: another copy was picked up. "
                f"Reinstall with:\n    {_fix_line(version)}"
            )
        # PyQt5's full ICU data (shared, when PyQt5 came first) holds more than the trimmed list
        icu_data = () if "libicudata.so.56" in shared else _check_icu_data(data, handles, version)
        _refuse_foreign(data)
        _handles.extend(handles.values())
        if "libQt5Core.so.5" not in shared:
            sharing.install_import_guard(data, files["libQt5Core.so.5"])
        _loaded = LoadedLibraries(library_dir(), version, qt_version, icu_version, files, tuple(shared), icu_data)
        return _loaded


def _refuse_foreign(data: dict[str, Any], foreign: list[str] | None = None) -> None:
    """Raise LibraryLoadError when a Qt/ICU of another build than this package's is in the process.

    ``foreign`` lists such files already found; by default they are looked up in ``/proc/self/maps``.
    """
    foreign = sharing.foreign_builds(library_dir(), data) if foreign is None else foreign
    if foreign:
        (core,) = [e for e in data["libraries"] if e["soname"] == "libQt5Core.so.5"]
        build = f"{core['package']}=={core['package_version']}"
        raise LibraryLoadError(
            f"{DISTRIBUTION} {data['version']}: this process already has another Qt/ICU loaded "
            f"({', '.join(foreign)}), a build other than the Qt {data['qt_version']} of {build} that envpool's "
            f"procgen family uses (their sha256 differ), and two Qt builds cannot share one process. If PyQt5 "
            f'loaded it, install the same Qt build for it:\n    pip install "{build}"\n'
            "or use the other Qt and envpool's procgen tasks in separate processes."
        )


def _qt_version(handles: dict[str, ctypes.CDLL]) -> str:
    fn = handles["libQt5Core.so.5"].qVersion
    fn.restype = ctypes.c_char_p
    fn.argtypes = []
    raw = fn()
    return raw.decode() if raw else ""


def _icu_version(handles: dict[str, ctypes.CDLL]) -> str:
    soname = next(s for s in handles if s.startswith("libicuuc.so."))
    major = soname.rsplit(".", 1)[-1]
    fn = getattr(handles[soname], f"u_getVersion_{major}")
    buf = (ctypes.c_uint8 * 4)()
    fn.restype = None
    fn.argtypes = [ctypes.c_void_p]
    fn(buf)
    parts = list(buf)
    while len(parts) > 2 and parts[-1] == 0:
        parts.pop()
    return ".".join(map(str, parts))


def common_data_items(library: ctypes.CDLL, symbol: str) -> tuple[str, ...]:
    """The item names of the ICU common data package that ``library`` exports as ``symbol``.

    Read from the package's table of contents in memory: a header of ``headerSize`` bytes (its first
    uint16), then the item count and one (name offset, data offset) uint32 pair per item. Names
    are relative to the header's end and carry the package prefix (``icudt56l/``), which is dropped.
    """
    base = ctypes.addressof(ctypes.c_uint8.in_dll(library, symbol))
    header = ctypes.c_uint16.from_address(base).value
    toc = base + header
    count = ctypes.c_uint32.from_address(toc).value
    names = []
    for i in range(count):
        name = ctypes.string_at(toc + ctypes.c_uint32.from_address(toc + 4 + 8 * i).value).decode("ascii")
        names.append(name.split("/", 1)[-1])
    return tuple(names)


def _check_icu_data(data: dict[str, Any], handles: dict[str, ctypes.CDLL], version: str) -> tuple[str, ...]:
    """The loaded ICU data items; LibraryLoadError when they are not the ones the manifest lists."""
    expected = data.get("icu_data")
    if not expected:
        return ()
    soname = Path(expected["file"]).name
    items = common_data_items(handles[soname], expected["symbol"])
    if sorted(items) != sorted(expected["items"]):
        raise LibraryLoadError(
            f"{DISTRIBUTION} {version}: the loaded {soname} holds {len(items)} ICU data items, but the manifest "
            f"lists {len(expected['items'])}: another ICU data library was picked up. Reinstall with:\n    "
            f"{_fix_line(version)}"
        )
    return items
