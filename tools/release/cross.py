"""Cross builds of the core: what zig, CMake and scikit-build-core need to build an aarch64 wheel here.

``nox -s build -- --arch aarch64`` compiles the core on this x86-64 machine with the same zig
toolchain as the native wheels (``Arch.zig_target``), from the same sdist-ready source tree. What a
native build takes from the build machine, a cross build takes from hash-locked upstream files of
the target architecture (``tools/release/cross.<machine>.lock.json``, fetched and verified like the
library wheel's binaries, cached under the artifact cache):

- **Python headers**: Debian's ``libpython3.X-dev`` for the target (bookworm 3.11, trixie 3.13),
  with the target's ``pyconfig.h`` in place of Debian's multiarch dispatcher;
- **Qt headers**: Debian's ``qtbase5-dev`` of the same Qt release as the target's library wheel
  (checked: a different Qt version stops the build); the Qt *libraries* it links are the ones in
  the target's ``envpool-procgen-libs`` wheel, exactly what the core loads at run time;
- **MuJoCo** (the build pins): the pinned ``mujoco-core`` wheel for the target, installed by uv into
  the cross build environment (``--python-platform``); CMake reads its headers and library as in a
  native build.

scikit-build-core learns the target from ``SETUPTOOLS_EXT_SUFFIX`` (extension suffix) and
``_PYTHON_HOST_PLATFORM`` (wheel tag); CMake from ``ENVPOOL_TARGET_PROCESSOR`` (packages/core/
CMakeLists.txt: the compiler targets the machine, CMake itself is not in cross-compiling mode).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from tools import REPO
from tools.assets.paths import cache_dir
from tools.common.distfile import artifact
from tools.common.hashing import sha256_file
from tools.procgen_libs.upstream import Upstream, extract_debian, fetch_upstream, load_lock
from tools.release.release_set import GLIBC_FLOOR, Arch, package_of_kind, version

if TYPE_CHECKING:
    from tools.release.release_set import CoreBuild, Pin

#: Unpacked sysroots, one directory per architecture and lock digest.
SYSROOTS = REPO / ".cache" / "sysroot"
#: The libraries of the library wheel the procgen family links against.
QT_LIBRARIES = ("libQt5Core.so.5", "libQt5Gui.so.5")
_QT_VERSION = re.compile(rb'#define QT_VERSION_STR "([0-9.]+)"')


class CrossError(RuntimeError):
    """A cross build's inputs are missing or inconsistent; the message names the fix."""


def lock_path(arch: Arch) -> Path:
    """The lock of ``arch``'s build-time upstream files."""
    return Path(__file__).with_name(f"cross.{arch.machine}.lock.json")


def sysroot(arch: Arch) -> Path:
    """The target's headers (``usr/include``), unpacked from the locked Debian packages once per lock."""
    lock = lock_path(arch)
    if not lock.is_file():
        raise CrossError(f"no cross-build lock for {arch.machine}: {lock} is missing")
    locked, artifacts = load_lock(lock)
    if locked != arch.machine:
        raise CrossError(f"{lock.name} is the lock of {locked}, not of {arch.machine}: fix its 'arch' field")
    root = SYSROOTS / arch.machine / sha256_file(lock)[:16]
    if (root / ".complete").is_file():
        return root
    if root.exists():
        shutil.rmtree(root)
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    for art in artifacts:
        _require_target_package(art, arch, lock)
        extract_debian(fetch_upstream(art, cache_dir()), art, partial, "usr/include/")
    (partial / ".complete").write_text(lock.name + "\n")
    partial.rename(root)
    return root


def _require_target_package(art: Upstream, arch: Arch, lock: Path) -> None:
    if art.source != "debian" or not art.filename.endswith(f"_{arch.debian}.deb"):
        raise CrossError(
            f"{lock.name}: {art.filename} is not a Debian package for {arch.debian}; "
            f"lock the {arch.debian} build of {art.name}"
        )


def python_include(root: Path, arch: Arch, python: str) -> Path:
    """A Python ``python`` ("3.11") include directory for ``arch``: Debian's headers, the target's pyconfig.h."""
    headers = root / "usr" / "include" / f"python{python}"
    config = root / "usr" / "include" / f"{arch.machine}-linux-gnu" / f"python{python}" / "pyconfig.h"
    if not (headers / "Python.h").is_file() or not config.is_file():
        raise CrossError(
            f"the {arch.machine} headers of CPython {python} are not in {lock_path(arch).name}: "
            f"lock Debian's libpython{python}-dev for {arch.debian}"
        )
    include = root / "python" / f"python{python}"
    if not include.is_dir():
        shutil.copytree(headers, include)
        shutil.copyfile(config, include / "pyconfig.h")
    return include


def qt_include(root: Path, arch: Arch) -> tuple[Path, str]:
    """Qt 5's include directory for ``arch`` and the Qt version its headers declare."""
    include = root / "usr" / "include" / f"{arch.machine}-linux-gnu" / "qt5"
    header = include / "QtCore" / "qconfig.h"
    m = _QT_VERSION.search(header.read_bytes()) if header.is_file() else None
    if m is None:
        raise CrossError(
            f"no Qt 5 headers for {arch.machine} in {lock_path(arch).name} ({header} is missing or has no "
            f"QT_VERSION_STR): lock Debian's qtbase5-dev for {arch.debian}"
        )
    return include, m[1].decode()


def library_wheel(out: Path, arch: Arch) -> Path:
    """This version's ``envpool-procgen-libs`` wheel for ``arch`` in ``out``."""
    library = package_of_kind("library")
    wheels = sorted(out.glob(f"{library.normalized}-{version()}-*_{arch.machine}.whl"))
    if len(wheels) != 1:
        raise CrossError(
            f"the {arch.machine} core links the {arch.machine} {library.distribution} {version()} wheel, but {out} "
            f"holds {', '.join(w.name for w in wheels) or 'none'}: nox -s build -- --arch {arch.machine}"
        )
    return wheels[0]


def qt_libraries(out: Path, arch: Arch, dest: Path) -> tuple[Path, str]:
    """Unpack the Qt libraries of ``arch``'s library wheel into ``dest``; return it and the wheel's Qt version."""
    wheel = artifact(library_wheel(out, arch))
    dest.mkdir(parents=True, exist_ok=True)
    members = wheel.members()
    for soname in QT_LIBRARIES:
        found = [m for m in members if m.rsplit("/", 1)[-1] == soname]
        if len(found) != 1:
            raise CrossError(f"{wheel.filename} holds {len(found)} copies of {soname}; rebuild it")
        (dest / soname).write_bytes(wheel.read(found[0]))
    manifest = next((m for m in members if m.endswith("/_manifest.json")), None)
    if manifest is None:
        raise CrossError(f"{wheel.filename} has no _manifest.json; rebuild it")
    return dest, str(json.loads(wheel.read(manifest))["qt_version"])


def pin_arguments(arch: Arch, entry: CoreBuild, pin: Pin) -> list[str]:
    """``uv pip install`` arguments choosing the wheel of ``pin`` for ``arch`` and ``entry``'s Python."""
    floor = f"manylinux_{GLIBC_FLOOR[0]}_{GLIBC_FLOOR[1]}"
    return [
        "--python-platform",
        f"{arch.machine}-{floor}",
        "--python-version",
        entry.python,
        "--no-deps",
        pin.requirement,
    ]


def ext_suffix(arch: Arch, entry: CoreBuild) -> str:
    """The extension-module suffix of ``entry``'s wheel on ``arch`` (``.abi3.so`` for the stable ABI)."""
    if entry.tag.endswith("-abi3"):
        return ".abi3.so"
    return f".cpython-{entry.python.replace('.', '')}-{arch.machine}-linux-gnu.so"


def settings(arch: Arch, entry: CoreBuild, env_python: Path, out: Path, work: Path) -> tuple[dict[str, str], list[str]]:
    """(environment, scikit-build-core config settings) of ``entry``'s cross build for ``arch``."""
    root = sysroot(arch)
    include = python_include(root, arch, entry.python)
    qt_inc, header_qt = qt_include(root, arch)
    qt_lib, wheel_qt = qt_libraries(out, arch, work / "qt-libs")
    if header_qt != wheel_qt:
        raise CrossError(
            f"{lock_path(arch).name} locks Qt {header_qt} headers, but the {arch.machine} library wheel carries "
            f"Qt {wheel_qt}: lock the qtbase5-dev of the library wheel's Qt release"
        )
    env = {"SETUPTOOLS_EXT_SUFFIX": ext_suffix(arch, entry), "_PYTHON_HOST_PLATFORM": f"linux-{arch.machine}"}
    defines = {
        "ENVPOOL_TARGET_PROCESSOR": arch.machine,
        "Python_EXECUTABLE": str(env_python),
        "Python_INCLUDE_DIR": str(include),
        "ENVPOOL_QT_INCLUDE": str(qt_inc),
        "ENVPOOL_QT_LIBDIR": str(qt_lib),
        "ENVPOOL_QT_VERSION": header_qt,
    }
    config = ["--config-setting=cmake.python-hints=false"]
    config += [f"--config-setting=cmake.define.{k}={v}" for k, v in defines.items()]
    return env, config
