"""Fill .cache/thirdparty with every third-party wheel the tests install, once.

The runtime dependencies come from the Requires-Dist of the wheels in the wheelhouse (all
extras, markers evaluated for Linux on this host's architecture); the test dependencies from
tests/requirements*.txt. Afterwards installs run offline with
``--no-index --find-links wheelhouse --find-links .cache/thirdparty``; our own distributions are
never taken from the index (any that a download brings along is deleted from the cache).

``--pinned`` downloads only the ==-pinned third-party wheels (mujoco-core), for every architecture of
tools/release/release_set.py ``ARCHES`` and every interpreter of its ``arch.matrix``: the linkage check's
providers for the x86_64 and the aarch64 core wheels alike.

:func:`fill_for` downloads the runtime wheels for another interpreter or architecture than this one
(the trixie root's CPython 3.13, the arm64 root's aarch64 wheels, the rehearsal's aarch64 resolution)
with ``pip download --python-version X.Y --platform ... --only-binary=:all:``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING, get_args

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tools import REPO
from tools.common import process
from tools.common.distfile import artifact
from tools.common.hashing import sha256_bytes
from tools.release.release_set import (
    ARCHES,
    GLIBC_FLOOR,
    PACKAGES,
    THIRDPARTY,
    WHEELHOUSE,
    X86_64,
    Arch,
    Kind,
    arch_of,
    arch_of_wheel,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

CACHE = THIRDPARTY
OURS = {canonicalize_name(p.distribution) for p in PACKAGES}


def host_arch() -> Arch:
    """The architecture of this machine (KeyError naming the known ones when it is none of the set's)."""
    return arch_of(platform.machine())


def runtime_requirements(wheelhouse: Path, arch: Arch | None = None) -> list[str]:
    """Third-party requirements of our wheels installable on Linux ``arch`` (default: this host's), for every
    extra, as plain requirement strings: the wheels of ``arch`` and the pure ones, their markers evaluated
    for ``arch`` (``platform_machine`` of the wheels, not of the host)."""
    arch = arch if arch is not None else host_arch()
    out: set[str] = set()
    for wheel in sorted(wheelhouse.glob("*.whl")):
        if arch_of_wheel(wheel.name) not in (None, arch):
            continue
        meta = artifact(wheel).fields()
        extras = ["", *meta.get("Provides-Extra", [])]
        for line in meta.get("Requires-Dist", []):
            req = Requirement(line)
            if canonicalize_name(req.name) in OURS:
                continue
            if req.marker is not None and not any(req.marker.evaluate(arch.platform.environment(e)) for e in extras):
                continue
            req.marker = None
            out.add(str(req))
    return sorted(out)


def test_requirements() -> list[str]:
    """The lines of tests/requirements*.txt."""
    out: list[str] = []
    for path in sorted((REPO / "tests").glob("requirements*.txt")):
        for raw in path.read_text().splitlines():
            line = raw.split("#", 1)[0].strip()
            if line:
                out.append(line)
    return out


def fill(wheelhouse: Path, cache: Path, extra: list[str]) -> None:
    """Download what is missing into ``cache`` (a no-op when the requirement set is unchanged)."""
    reqs = sorted(set(runtime_requirements(wheelhouse) + test_requirements() + extra))
    key = sha256_bytes(json.dumps([sys.version_info[:2], reqs]).encode())
    stamp = cache / f".filled-py{sys.version_info[0]}{sys.version_info[1]}"
    if stamp.is_file() and stamp.read_text() == key:
        print(f"third-party cache {cache} is filled ({len(reqs)} requirements)")
        return
    cache.mkdir(parents=True, exist_ok=True)
    print(f"filling third-party cache {cache}: {len(reqs)} requirements", flush=True)
    process.run([sys.executable, "-m", "pip", "download", "--quiet", "--dest", cache, *reqs], capture=False, check=True)
    # Build wheels for anything only published as an sdist, so installs never build offline.
    for sdist in sorted(cache.glob("*.tar.gz")) + sorted(cache.glob("*.zip")):
        process.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", cache, sdist],
            capture=False,
            check=True,
        )
        sdist.unlink()
    for path in cache.iterdir():
        if canonicalize_name(path.name.split("-", 1)[0]) in OURS:
            path.unlink()
    stamp.write_text(key)


#: The oldest manylinux the platform lists go down to: manylinux2014 (glibc 2.17), the oldest anything we pin ships.
OLDEST_GLIBC = (2, 17)


def install_platforms(arch: Arch, glibc: tuple[int, int] | None = None) -> list[str]:
    """The ``pip --platform`` values (one each: pip does not expand a manylinux tag to older ones) of Linux
    ``arch`` with ``glibc``, default the newest floor of any wheel kind there (``Arch.floor``): every manylinux
    tag from that glibc down to manylinux2014, newest first."""
    newest = glibc if glibc is not None else max(arch.floor(kind) for kind in get_args(Kind))
    tags = [f"manylinux_{newest[0]}_{minor}_{arch.machine}" for minor in range(newest[1], OLDEST_GLIBC[1] - 1, -1)]
    return [*tags, f"manylinux2014_{arch.machine}"]


def platform_args(platforms: list[str]) -> list[str]:
    """``--platform P`` for each of ``platforms``."""
    return [arg for p in platforms for arg in ("--platform", p)]


def cache_for(python: str, arch: Arch = X86_64, cache: Path = CACHE) -> Path:
    """The directory next to ``cache`` holding the third-party wheels of CPython ``python`` on ``arch``."""
    suffix = "" if arch == X86_64 else f"-{arch.machine}"
    return cache.parent / f"{cache.name}{suffix}-py{python.replace('.', '')}"


def _pip() -> list[str]:
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    exe = process.tool("uv")
    if exe is None:
        raise RuntimeError(f"neither pip nor uv is installed next to {sys.executable}: pip install pip")
    return [exe, "tool", "run", "--from", "pip", "pip"]


def fill_for(wheelhouse: Path, dest: Path, python: str, arch: Arch = X86_64, extra: Sequence[str] = ()) -> Path:
    """Download into ``dest`` the third-party wheels (binary only, with their dependencies) that installing
    every extra of our ``arch`` wheels needs on Linux ``arch`` with CPython ``python``, plus ``extra``.

    Used for another interpreter or architecture than this one: the trixie root's CPython 3.13, the
    arm64 root's aarch64 wheels (:func:`cache_for` names their directories), and the rehearsal index,
    which serves another architecture's install from the cache (tools/release/rehearsal.py). Nothing
    is downloaded when ``dest`` was filled for the same list already; RuntimeError when the download fails.
    """
    reqs = sorted({*runtime_requirements(wheelhouse, arch), *extra})
    platforms = install_platforms(arch)
    key = sha256_bytes(json.dumps([python, platforms, reqs]).encode())
    stamp = dest / f".filled-{arch.machine}-py{python.replace('.', '')}"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == key:
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    print(
        f"third-party wheels: {len(reqs)} requirements for CPython {python} on {arch.machine} into {dest}", flush=True
    )
    cmd = [*_pip(), "download", "--quiet", "--dest", str(dest), "--python-version", python, "--only-binary=:all:"]
    cmd += [*platform_args(platforms), *reqs]
    res = process.run(cmd)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed; PyPI must be reachable:\n{res.stderr[-3000:]}")
    for path in dest.iterdir():  # our distributions come from the wheelhouse only
        if canonicalize_name(path.name.split("-", 1)[0]) in OURS:
            path.unlink()
    stamp.write_text(key, encoding="utf-8")
    return dest


def pinned_requirements(wheelhouse: Path, arch: Arch | None = None) -> list[str]:
    """The third-party requirements our wheels pin with ``==`` (e.g. mujoco-core) on ``arch``, markers dropped."""
    reqs = runtime_requirements(wheelhouse, arch)
    return [r for r in reqs if any(s.operator == "==" for s in Requirement(r).specifier)]


def fill_pinned(wheelhouse: Path, cache: Path, arches: tuple[Arch, ...] = ARCHES) -> None:
    """Download the ==-pinned third-party wheels for every architecture and every Python of its core matrix
    (``arch.matrix``: aarch64's abi3 core is built by 3.13): the linkage check's input."""
    cache.mkdir(parents=True, exist_ok=True)
    for arch in arches:
        reqs = pinned_requirements(wheelhouse, arch)
        for entry in arch.matrix:
            shown = ", ".join(reqs) or "none"
            print(f"pinned third-party wheels for {arch.machine} CPython {entry.python}: {shown}", flush=True)
            if reqs:
                cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
                cmd += ["--python-version", entry.python, *platform_args(install_platforms(arch, GLIBC_FLOOR))]
                cmd += ["--dest", str(cache), *reqs]
                process.run(cmd, capture=False, check=True)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheelhouse", type=Path, default=WHEELHOUSE)
    parser.add_argument("--cache", type=Path, default=CACHE)
    parser.add_argument("requirements", nargs="*", help="additional requirements to cache")
    parser.add_argument(
        "--pinned",
        action="store_true",
        help="only the ==-pinned third-party wheels, for every architecture and Python of its core matrix",
    )
    args = parser.parse_args(argv)
    if args.pinned:
        fill_pinned(args.wheelhouse, args.cache)
    else:
        fill(args.wheelhouse, args.cache, args.requirements)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
