"""Preload for the robotics family: libmujoco from the installed mujoco-core, never a bundled copy.

``envpool._robotics`` is linked against ``libmujoco.so.<version>`` (by soname, without an RPATH) and
the core wheel does not carry it. The distribution and its version are the ones envpool's robotics
extra pins (read from envpool's metadata by :mod:`envpool.families`). Before the extension is
imported, :func:`preload` finds the library in the file list (RECORD) of that installed distribution,
checks that it exists and has the recorded size, and loads it with ``RTLD_GLOBAL``; the dynamic
loader then binds the extension to that copy. Going through the distribution's metadata rather than
``import mujoco`` or a path guess makes it work wherever pip put mujoco-core: the same site-packages,
another ``sys.path`` entry (e.g. a second ``pip install --target`` directory), or a venv whose platlib
and purelib differ.
"""

from __future__ import annotations

import csv
import ctypes
from importlib import metadata
from pathlib import Path, PurePosixPath

from envpool._version import __version__
from envpool.errors import BrokenInstallError, MissingExtraError
from envpool.families import FAMILIES, Sibling

_ELF_MAGIC = b"\x7fELF"

_loaded: dict[str, ctypes.CDLL] = {}


def pin() -> Sibling:
    """The MuJoCo distribution the robotics extra pins: the one sibling that is not an asset wheel."""
    (sibling,) = (s for s in FAMILIES["robotics"].siblings if not s.is_assets)
    return sibling


def library() -> str:
    """The soname ``envpool._robotics`` needs: ``libmujoco.so.<pinned version>``."""
    return f"libmujoco.so.{pin().version}"


def _fix() -> str:
    return f'pip install --force-reinstall "envpool[robotics]=={__version__}"'


def _check_file(path: Path, expected_size: int | None) -> None:
    sib = pin()
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise BrokenInstallError(
            f"{sib.distribution} {sib.version} lists {library()} at {path}, but it cannot be read ({exc}). "
            f"Reinstall it with:\n    {_fix()}"
        ) from exc
    if magic != _ELF_MAGIC or (expected_size is not None and size != expected_size):
        raise BrokenInstallError(
            f"{path} of {sib.distribution} is damaged: {size} bytes"
            + (f" where its RECORD says {expected_size}" if expected_size is not None else "")
            + ("" if magic == _ELF_MAGIC else ", not an ELF shared library")
            + f". Reinstall it with:\n    {_fix()}"
        )


def library_path() -> Path:
    """The checked path of the pinned ``libmujoco.so.<version>`` in the installed mujoco-core distribution."""
    sib, name = pin(), library()
    try:
        dist = metadata.distribution(sib.distribution)
    except metadata.PackageNotFoundError as exc:
        raise MissingExtraError(
            f"the robotics family needs {sib.distribution}=={sib.version}, which is not installed. "
            f'Install it with:\n    pip install "envpool[robotics]=={__version__}"'
        ) from exc
    # RECORD itself, not ``dist.files``: from Python 3.12 that list leaves out files that are missing,
    # and a deleted libmujoco must be reported as such.
    for row in csv.reader((dist.read_text("RECORD") or "").splitlines()):
        if row and PurePosixPath(row[0]).name == name:
            path = Path(str(dist.locate_file(row[0])))
            _check_file(path, int(row[2]) if len(row) > 2 and row[2].isdigit() else None)
            return path
    raise BrokenInstallError(
        f"{sib.distribution} {dist.version} has no {name} in its file list (the robotics family needs "
        f"{sib.distribution}=={sib.version} for Linux). Reinstall it with:\n    {_fix()}"
    )


def preload() -> None:
    """Load mujoco-core's libmujoco with RTLD_GLOBAL so ``envpool._robotics`` binds to it (idempotent)."""
    name = library()
    if name in _loaded:
        return
    path = library_path()
    try:
        _loaded[name] = ctypes.CDLL(str(path), mode=ctypes.RTLD_GLOBAL)
    except OSError as exc:
        sib = pin()
        raise BrokenInstallError(
            f"{path} of {sib.distribution} {sib.version} cannot be loaded ({exc}). Reinstall it with:\n    {_fix()}"
        ) from exc


def loaded_path() -> str | None:
    """The path of the libmujoco this process loaded through :func:`preload`, if any."""
    handle = next(iter(_loaded.values()), None)
    return None if handle is None else str(handle._name)
