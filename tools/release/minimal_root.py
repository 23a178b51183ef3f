"""A minimal Debian root to install envpool into: no Qt, no libGL, no glib, no compiler.

    python -m tools.release.minimal_root [SUITE ...] [--arch aarch64]   build (or reuse) cached roots, print paths

One implementation shared by tests/tools/test_minimal_image.py and tools/release/rehearsal.py:

- :func:`ensure_root`: ``debootstrap --variant=minbase --arch=DEBIAN_ARCH --include=python3,python3-venv
  SUITE`` into ``.cache/minimal-SUITE-DEBIAN_ARCH`` (about a minute from deb.debian.org, or
  ``$ENVPOOL_DEBIAN_MIRROR``; several minutes for another architecture, whose packages are configured
  under emulation: tools/release/emulation.py sets that up first), built in a temporary directory next
  to it and renamed into place, so the cache is complete (it holds a marker file) or absent;
- :func:`mounted`: host directories bind-mounted read-only under ``/mnt/<name>`` and ``/proc``
  mounted, unmounted again whatever happens inside the ``with`` block;
- :func:`run`: a command in the root through ``chroot`` with a clean environment;

Third-party wheels for a root's interpreter and architecture (the trixie root's CPython 3.13, the
arm64 root's aarch64 wheels) come from tools.release.thirdparty.fill_for.

Needs root, debootstrap, chroot and mount (``apt-get install -y debootstrap``):
:func:`missing_requirements` says what is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

from packaging.utils import parse_wheel_filename

from tools import REPO
from tools.common import process
from tools.release import emulation
from tools.release.release_set import ARCHES, CORE_MATRIX, X86_64, Arch, CoreBuild, arch_of

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path
    from subprocess import CompletedProcess

CACHE = REPO / ".cache"
MIRROR = os.environ.get("ENVPOOL_DEBIAN_MIRROR", "http://deb.debian.org/debian")
MARKER = ".envpool-minimal-root-complete"
INCLUDE = ("python3", "python3-venv")
#: The environment of every command run in a root: nothing inherited from the host.
CLEAN_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_NO_CACHE_DIR": "1",
    "PIP_NO_INPUT": "1",
}


@dataclass(frozen=True)
class Suite:
    """A Debian release the minimal root can be built from."""

    name: str
    python: tuple[int, int]  # the CPython its python3 package installs

    @property
    def python_version(self) -> str:
        """``"3.11"`` for bookworm."""
        return f"{self.python[0]}.{self.python[1]}"


SUITES = {s.name: s for s in (Suite("bookworm", (3, 11)), Suite("trixie", (3, 13)))}


class ChrootError(RuntimeError):
    """A command in the minimal root failed."""


def missing_requirements() -> str | None:
    """Why a minimal root cannot be built or entered here, or None when it can."""
    if os.geteuid() != 0:
        return "the minimal Debian root needs root (debootstrap, chroot, mount): run as root"
    for tool in ("debootstrap", "chroot", "mount", "umount"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed: apt-get install -y debootstrap"
    return None


def root_path(suite: str, cache: Path = CACHE, arch: Arch = X86_64) -> Path:
    """Where the root of ``suite`` for ``arch`` is cached."""
    return cache / f"minimal-{suite}-{arch.debian}"


def _marker_text(suite: str, arch: Arch) -> str:
    return f"{suite} {arch.debian} minbase {' '.join(INCLUDE)} {MIRROR}\n"


def is_complete(root: Path, suite: str, arch: Arch = X86_64) -> bool:
    """True when ``root`` was fully built for ``suite`` and ``arch`` with the current package list."""
    marker = root / MARKER
    return marker.is_file() and marker.read_text(encoding="utf-8") == _marker_text(suite, arch)


def ensure_root(suite: str, cache: Path = CACHE, arch: Arch = X86_64) -> Path:
    """The cached minimal root of ``suite`` for ``arch``, built first when absent or incomplete.

    For an architecture other than this machine's, emulation is set up first
    (tools.release.emulation.ensure: its EmulationError and EmulationUnavailable pass through), also
    when the root is cached: every command in the root runs under it.
    """
    if suite not in SUITES:
        raise ValueError(f"unknown suite {suite!r}: one of {sorted(SUITES)} (tools/release/minimal_root.py SUITES)")
    reason = missing_requirements()
    if reason:
        raise ChrootError(reason)
    emulation.ensure(arch)
    target = root_path(suite, cache, arch)
    if is_complete(target, suite, arch):
        return target
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["debootstrap", "--variant=minbase", f"--arch={arch.debian}", f"--include={','.join(INCLUDE)}"]
    cmd += [suite, str(tmp), MIRROR]
    print(f"minimal root: {' '.join(cmd)}", flush=True)
    res = process.run(cmd, timeout=3600)
    if res.returncode != 0:
        shutil.rmtree(tmp, ignore_errors=True)
        raise ChrootError(
            f"{' '.join(cmd)} failed ({res.returncode}); is {MIRROR} reachable "
            f"(set ENVPOOL_DEBIAN_MIRROR to another mirror)?\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
        )
    (tmp / MARKER).write_text(_marker_text(suite, arch), encoding="utf-8")
    if target.exists():
        if is_complete(target, suite, arch):  # another process finished first: keep its root
            shutil.rmtree(tmp, ignore_errors=True)
            return target
        shutil.rmtree(target)
    tmp.rename(target)
    return target


def _umount(point: Path) -> None:
    process.run(["umount", "-l", point])


@contextlib.contextmanager
def mounted(root: Path, binds: Mapping[str, Path]) -> Iterator[Path]:
    """Bind-mount each host directory read-only at ``/mnt/<name>`` and mount /proc; yield ``root``.

    Everything mounted here is unmounted on exit, also when the block raises.
    """
    mounts: list[Path] = []
    try:
        for name, src in binds.items():
            if not src.is_dir():
                raise ChrootError(f"cannot mount {src} at /mnt/{name}: not a directory")
            point = root / "mnt" / name
            point.mkdir(parents=True, exist_ok=True)
            if point.is_mount():  # left over from an interrupted run
                _umount(point)
            process.run(["mount", "--bind", src, point], check=True)
            mounts.append(point)
            process.run(["mount", "-o", "remount,bind,ro", point], check=True)
        proc = root / "proc"
        proc.mkdir(exist_ok=True)
        if proc.is_mount():
            _umount(proc)
        process.run(["mount", "-t", "proc", "proc", proc], check=True)
        mounts.append(proc)
        yield root
    finally:
        for point in reversed(mounts):
            _umount(point)


def run(root: Path, *cmd: str, check: bool = True, timeout: float = 900) -> CompletedProcess[str]:
    """Run ``cmd`` inside ``root`` (chroot, clean environment); raise ChrootError on failure when ``check``."""
    res = process.run(["chroot", root, *cmd], env=CLEAN_ENV, timeout=timeout)
    if check and res.returncode != 0:
        raise ChrootError(f"chroot {root} {' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
    return res


def core_build_for(python: tuple[int, int]) -> CoreBuild:
    """The core wheel of tools/release/release_set.py CORE_MATRIX that pip installs on CPython ``python``.

    The build for that very interpreter, else the newest stable-ABI (abi3) build for an older one.
    """

    def minor(build: CoreBuild) -> tuple[int, int]:
        major, _, rest = build.python.partition(".")
        return int(major), int(rest)

    exact = [b for b in CORE_MATRIX if minor(b) == python]
    abi3 = [b for b in CORE_MATRIX if b.tag.endswith("-abi3") and minor(b) <= python]
    if not exact and not abi3:
        raise ValueError(f"no core wheel of tools/release/release_set.py CORE_MATRIX installs on CPython {python}")
    return exact[0] if exact else max(abi3, key=minor)


def has_core_for(wheelhouse: Path, version: str, tag: str) -> bool:
    """True when ``wheelhouse`` holds an envpool ``version`` wheel of the CORE_MATRIX ``tag`` (cp311, cp312-abi3)."""
    interpreter, _, abi = tag.partition("-")
    for path in wheelhouse.glob(f"envpool-{version}-*.whl"):
        _, wversion, _, tags = parse_wheel_filename(path.name)
        if str(wversion) == version and any(
            t.interpreter == interpreter and t.abi == (abi or interpreter) for t in tags
        ):
            return True
    return False


def main(argv: Sequence[str] | None = None) -> int:
    """Build (or reuse) the cached roots of the given suites (default: all) and print their paths."""
    parser = argparse.ArgumentParser(prog="python -m tools.release.minimal_root", description=main.__doc__)
    parser.add_argument("suites", nargs="*", help=f"default: every suite ({', '.join(SUITES)})")
    parser.add_argument("--arch", choices=[a.machine for a in ARCHES], default=X86_64.machine)
    args = parser.parse_args(argv)
    for suite in args.suites or list(SUITES):
        print(ensure_root(suite, arch=arch_of(args.arch)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
