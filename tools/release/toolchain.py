"""The compilers and interpreters a release build uses, found (or refused) with an error naming the fix.

- **C/C++**: zig (the ``ziglang`` wheel from PyPI, pinned in :data:`ZIGLANG`) targeting
  ``<machine>-linux-gnu.2.28`` (``Arch.zig_target``: x86_64 natively, aarch64 as a cross build).
  Zig links libc++ statically and links against glibc 2.28's symbol set, so the core's extension
  modules need nothing newer than the manylinux floor, built on this machine without a container.
  CMake sees two small wrapper scripts as ``CC``/``CXX``.
- **Python**: one interpreter per core wheel of the matrix (:data:`tools.release.release_set.CORE_MATRIX`),
  found on PATH, under pyenv, or named by ``ENVPOOL_PYTHON_3_12``-style variables.
- **Qt5 headers** for the procgen family: Debian's ``qtbase5-dev`` CMake package (zig does not
  search Debian's multiarch directories, so CMake gets ``Qt5_DIR``); a cross build takes the
  target's from tools/release/cross.py.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from pathlib import Path

from tools import REPO
from tools.common import process
from tools.release.release_set import X86_64, Arch

#: The zig compiler, from PyPI (its wheel carries the compiler and glibc stubs of every version).
ZIGLANG = "ziglang==0.17.1"
#: zig's caches (libc++ is compiled once per target, then reused by every build)
ZIG_CACHE = REPO / ".cache" / "zig"

#: Debian (multiarch) and RHEL-like locations of Qt5's CMake package.
QT5_CMAKE_DIRS = (Path("/usr/lib/x86_64-linux-gnu/cmake/Qt5"), Path("/usr/lib64/cmake/Qt5"), Path("/usr/lib/cmake/Qt5"))


class ToolchainError(RuntimeError):
    """A compiler, interpreter or header package the build needs is missing; the message names the fix."""


def _version_of(python: str) -> tuple[int, int] | None:
    try:
        out = process.run([python, "-c", "import sys; print(*sys.version_info[:2])"], timeout=60)
    except OSError:
        return None
    if out.returncode != 0:
        return None
    major, minor = out.stdout.split()
    return int(major), int(minor)


def find_python(version: str) -> Path:
    """An interpreter of CPython ``version`` ("3.12"): $ENVPOOL_PYTHON_3_12, PATH, pyenv, or an error."""
    want = tuple(int(p) for p in version.split("."))
    variable = "ENVPOOL_PYTHON_" + version.replace(".", "_")
    candidates: list[str] = []
    if os.environ.get(variable):
        candidates.append(os.environ[variable])
    found = shutil.which(f"python{version}")
    if found:
        candidates.append(found)
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    candidates += [str(p) for p in sorted((pyenv_root / "versions").glob(f"{version}.*/bin/python{version}"))[::-1]]
    candidates += [f"/usr/bin/python{version}", f"/usr/local/bin/python{version}"]
    for candidate in candidates:
        if Path(candidate).is_file() and _version_of(candidate) == want:
            return Path(candidate)
    raise ToolchainError(
        f"CPython {version} was not found (looked at ${variable}, python{version} on PATH, pyenv under "
        f"{pyenv_root}/versions, /usr/bin). Install it (pyenv install {version}; on CI actions/setup-python "
        f"with python-version {version}) or set {variable}=/path/to/python{version}."
    )


def zig_wrappers(python: Path, arch: Arch = X86_64) -> dict[str, str]:
    """``CC``/``CXX`` wrapper scripts around ``python -m ziglang`` for ``arch`` (``python`` has ziglang installed)."""
    if _version_of(str(python)) is None:
        raise ToolchainError(f"{python} does not run")
    check = process.run([python, "-m", "ziglang", "version"])
    if check.returncode != 0:
        raise ToolchainError(
            f"the zig compiler is not installed in {python}: {python} -m pip install {ZIGLANG}\n{check.stderr.strip()}"
        )
    bindir = ZIG_CACHE / "bin" / arch.zig_target
    bindir.mkdir(parents=True, exist_ok=True)
    env: dict[str, str] = {}
    for var, driver in (("CC", "cc"), ("CXX", "c++")):
        script = bindir / f"zig-{driver}"
        text = f'#!/bin/sh\nexec "{python}" -m ziglang {driver} -target {arch.zig_target} "$@"\n'
        if not script.is_file() or script.read_text() != text:
            tmp = script.with_suffix(".tmp")
            tmp.write_text(text)
            tmp.chmod(0o755)
            tmp.replace(script)
        env[var] = str(script)
    env["ZIG_GLOBAL_CACHE_DIR"] = str(ZIG_CACHE / "global")
    env["ZIG_LOCAL_CACHE_DIR"] = str(ZIG_CACHE / "local")
    return env


def qt5_dir() -> Path:
    """Qt5's CMake package directory (headers for the procgen family), or an error naming the package."""
    for d in QT5_CMAKE_DIRS:
        if (d / "Qt5Config.cmake").is_file():
            return d
    raise ToolchainError(
        "Qt5's headers are missing (no Qt5Config.cmake in "
        + ", ".join(map(str, QT5_CMAKE_DIRS))
        + "): apt-get install -y qtbase5-dev (RHEL-like: dnf install -y qt5-qtbase-devel)"
    )


def is_cross(arch: Arch) -> bool:
    """True when ``arch`` is not this machine's: its binaries can be read and linked here, not run."""
    return platform.machine() != arch.machine


def zig_python() -> Path:
    """An interpreter with zig installed: this one, else a build environment ``nox -s build`` made
    (``.cache/build-env-*``); an error naming the install when there is none."""
    for python in [Path(sys.executable), *sorted((REPO / ".cache").glob("build-env-*/bin/python"))]:
        if python.is_file() and process.run([python, "-m", "ziglang", "version"]).returncode == 0:
            return python
    raise ToolchainError(
        f"zig is needed for a cross build and is not installed in {sys.executable} nor in a build environment "
        f"of nox -s build: {sys.executable} -m pip install {ZIGLANG}"
    )


def zig_tool(tool: str) -> list[str]:
    """The command of zig's ``tool`` (``ld.lld``, ``objcopy``: each handles every architecture), or an error
    naming the install."""
    python = zig_python()
    command = [str(python), "-m", "ziglang", tool]
    if tool == "ld.lld":
        check = process.run([*command, "--version"])
        if check.returncode != 0:
            raise ToolchainError(f"{' '.join(command)} --version failed: {check.stderr.strip()}")
    return command
