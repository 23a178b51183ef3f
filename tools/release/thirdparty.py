"""Fill .cache/thirdparty with every third-party wheel the tests install, once.

The runtime dependencies come from the Requires-Dist of the wheels in the wheelhouse (all
extras); the test dependencies from tests/requirements*.txt. Afterwards installs run offline with
``--no-index --find-links wheelhouse --find-links .cache/thirdparty``; our own distributions are
never taken from the index (any that a download brings along is deleted from the cache).

:func:`fill_for` downloads the runtime wheels for another interpreter or architecture than this one
(the trixie root's CPython 3.13, the arm64 root's aarch64 wheels) into :func:`cache_for`'s directory
next to the cache: ``pip download --python-version X.Y --platform manylinux_..._MACHINE --only-binary=:all:``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tools import REPO
from tools.common import process
from tools.common.distfile import artifact
from tools.common.hashing import sha256_bytes
from tools.release.release_set import CORE_MATRIX, GLIBC_FLOOR, PACKAGES, THIRDPARTY, WHEELHOUSE, X86_64, Arch

if TYPE_CHECKING:
    from collections.abc import Sequence

CACHE = THIRDPARTY
OURS = {canonicalize_name(p.distribution) for p in PACKAGES}


def runtime_requirements(wheelhouse: Path) -> list[str]:
    """Third-party requirements of our wheels, for every extra, as plain requirement strings."""
    out: set[str] = set()
    for wheel in sorted(wheelhouse.glob("*.whl")):
        meta = artifact(wheel).fields()
        extras = ["", *meta.get("Provides-Extra", [])]
        for line in meta.get("Requires-Dist", []):
            req = Requirement(line)
            if canonicalize_name(req.name) in OURS:
                continue
            if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in extras):
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


def manylinux_platforms(arch: Arch) -> list[str]:
    """The manylinux platform tags of ``arch`` a machine at the set's glibc floor accepts, newest first."""
    newest = [f"manylinux_{GLIBC_FLOOR[0]}_{minor}_{arch.machine}" for minor in range(GLIBC_FLOOR[1], 16, -1)]
    return [*newest, f"manylinux2014_{arch.machine}"]


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
    """Download the third-party wheels envpool[all] needs on CPython ``python`` on Linux ``arch`` into ``dest``.

    The requirements are :func:`runtime_requirements` of the wheelhouse plus ``extra``; nothing is
    downloaded when ``dest`` was filled for the same list already. RuntimeError when the download fails.
    """
    reqs = sorted({*runtime_requirements(wheelhouse), *extra})
    platforms = manylinux_platforms(arch)
    key = sha256_bytes(json.dumps([python, platforms, reqs]).encode())
    stamp = dest / f".filled-py{python.replace('.', '')}-{arch.machine}"
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == key:
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    print(
        f"third-party wheels: {len(reqs)} requirements for CPython {python} on {arch.machine} into {dest}", flush=True
    )
    cmd = [*_pip(), "download", "--quiet", "--dest", str(dest), "--python-version", python, "--only-binary=:all:"]
    cmd += [*(a for tag in platforms for a in ("--platform", tag)), *reqs]
    res = process.run(cmd)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed; PyPI must be reachable:\n{res.stderr[-3000:]}")
    for path in dest.iterdir():  # our distributions come from the wheelhouse only
        if canonicalize_name(path.name.split("-", 1)[0]) in OURS:
            path.unlink()
    stamp.write_text(key, encoding="utf-8")
    return dest


def pinned_requirements(wheelhouse: Path) -> list[str]:
    """The third-party requirements our wheels pin with ``==`` (e.g. mujoco-core), markers dropped."""
    return [r for r in runtime_requirements(wheelhouse) if any(s.operator == "==" for s in Requirement(r).specifier)]


def fill_pinned(wheelhouse: Path, cache: Path) -> None:
    """Download the ==-pinned third-party wheels for every Python of the core matrix (the linkage check's input)."""
    cache.mkdir(parents=True, exist_ok=True)
    reqs = pinned_requirements(wheelhouse)
    for entry in CORE_MATRIX:
        print(f"pinned third-party wheels for CPython {entry.python}: {', '.join(reqs) or 'none'}", flush=True)
        if reqs:
            platform = f"manylinux_{GLIBC_FLOOR[0]}_{GLIBC_FLOOR[1]}_x86_64"
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
            cmd += ["--python-version", entry.python, "--platform", platform, "--dest", str(cache), *reqs]
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
        help="only the ==-pinned third-party wheels, for every Python of the core matrix",
    )
    args = parser.parse_args(argv)
    if args.pinned:
        fill_pinned(args.wheelhouse, args.cache)
    else:
        fill(args.wheelhouse, args.cache, args.requirements)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
