"""Preload for the robotics family: libmujoco from the installed mujoco-core, never a bundled copy.

``envpool._robotics`` is linked against ``libmujoco.so.4.0.0`` (by soname, without an RPATH) and the
core wheel does not carry it. Before the extension is imported, :func:`preload` finds the library in
the file list (RECORD) of the installed ``mujoco-core`` distribution, checks that it exists and has
the recorded size, and loads it with ``RTLD_GLOBAL``; the dynamic loader then binds the extension to
that copy. Going through the distribution's metadata rather than ``import mujoco`` or a path guess
makes it work wherever pip put mujoco-core: the same site-packages, another ``sys.path`` entry (e.g.
a second ``pip install --target`` directory), or a venv whose platlib and purelib differ.
"""

from __future__ import annotations

import csv
import ctypes
from importlib import metadata
from pathlib import Path, PurePosixPath

from envpool._version import __version__
from envpool.errors import BrokenInstallError, MissingExtraError

DISTRIBUTION = "mujoco-core"
MUJOCO_VERSION = "4.0.0"
LIBRARY = f"libmujoco.so.{MUJOCO_VERSION}"
_ELF_MAGIC = b"\x7fELF"

_loaded: dict[str, ctypes.CDLL] = {}


def _fix() -> str:
    return f'pip install --force-reinstall "envpool[robotics]=={__version__}"'


def _check_file(path: Path, expected_size: int | None) -> None:
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise BrokenInstallError(
            f"{DISTRIBUTION} {MUJOCO_VERSION} lists {LIBRARY} at {path}, but it cannot be read ({exc}). "
            f"Reinstall it with:\n    {_fix()}"
        ) from exc
    if magic != _ELF_MAGIC or (expected_size is not None and size != expected_size):
        raise BrokenInstallError(
            f"{path} of {DISTRIBUTION} is damaged: {size} bytes"
            + (f" where its RECORD says {expected_size}" if expected_size is not None else "")
            + ("" if magic == _ELF_MAGIC else ", not an ELF shared library")
            + f". Reinstall it with:\n    {_fix()}"
        )


def library_path() -> Path:
    """The checked path of ``libmujoco.so.4.0.0`` in the installed mujoco-core distribution."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError as exc:
        raise MissingExtraError(
            f"the robotics family needs {DISTRIBUTION}=={MUJOCO_VERSION}, which is not installed. "
            f'Install it with:\n    pip install "envpool[robotics]=={__version__}"'
        ) from exc
    # RECORD itself, not ``dist.files``: from Python 3.12 that list leaves out files that are missing,
    # and a deleted libmujoco must be reported as such.
    for row in csv.reader((dist.read_text("RECORD") or "").splitlines()):
        if row and PurePosixPath(row[0]).name == LIBRARY:
            path = Path(str(dist.locate_file(row[0])))
            _check_file(path, int(row[2]) if len(row) > 2 and row[2].isdigit() else None)
            return path
    raise BrokenInstallError(
        f"{DISTRIBUTION} {dist.version} has no {LIBRARY} in its file list (the robotics family needs "
        f"{DISTRIBUTION}=={MUJOCO_VERSION} for Linux). Reinstall it with:\n    {_fix()}"
    )


def preload() -> None:
    """Load mujoco-core's libmujoco with RTLD_GLOBAL so ``envpool._robotics`` binds to it (idempotent)."""
    if LIBRARY in _loaded:
        return
    path = library_path()
    try:
        _loaded[LIBRARY] = ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
    except OSError as exc:
        raise BrokenInstallError(
            f"{path} of {DISTRIBUTION} {MUJOCO_VERSION} cannot be loaded ({exc}). Reinstall it with:\n    {_fix()}"
        ) from exc


def loaded_path() -> str | None:
    """The path of the libmujoco this process loaded through :func:`preload`, if any."""
    handle = _loaded.get(LIBRARY)
    return None if handle is None else str(handle._name)
