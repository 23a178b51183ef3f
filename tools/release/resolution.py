"""What an installer resolves for one architecture: the proof that an index serves each architecture its own set.

The rehearsal installs natively only on this machine's architecture. For every other one (aarch64) it asks
pip what it would install there: ``pip download --only-binary=:all: --platform P ... --python-version V
--index-url INDEX "envpool[all]==VERSION"`` (``P ...``: tools.release.thirdparty.install_platforms, one
``--platform`` per manylinux tag, since pip does not expand a given tag to older ones). Our files
among the downloads must be exactly :func:`expected_wheels`: the wheels of the set pip's own tag order
picks for that platform and interpreter (the core wheel of that architecture, its library wheel, the
pure data wheels); every downloaded wheel, third-party ones included, must install on that architecture.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from packaging import tags
from packaging.utils import canonicalize_name, parse_wheel_filename

from tools.common import process
from tools.release import release_set
from tools.release.thirdparty import install_platforms, platform_args

if TYPE_CHECKING:
    from pathlib import Path


def supported_tags(arch: release_set.Arch, python: str) -> list[tags.Tag]:
    """The wheel tags CPython ``python`` on Linux ``arch`` takes, best first (as pip orders them for the
    ``--platform`` values of :func:`download`)."""
    platforms = install_platforms(arch)
    version = tuple(int(x) for x in python.split("."))
    return [*tags.cpython_tags(version, platforms=platforms), *tags.compatible_tags(version, platforms=platforms)]


def expected_wheels(
    wheelhouse: Path, arch: release_set.Arch, python: str, extras: str = release_set.ALL_EXTRA
) -> set[str]:
    """Our wheels an install of ``envpool[extras]`` takes on Linux ``arch`` with CPython ``python``: per
    distribution, the wheel whose best tag ranks first among :func:`supported_tags`."""
    rank = {t: i for i, t in enumerate(supported_tags(arch, python))}
    wanted = {
        canonicalize_name(p.distribution)
        for p in release_set.PACKAGES
        if p.extra in (None, extras) or extras == release_set.ALL_EXTRA
    }
    best: dict[str, tuple[int, str]] = {}
    for path in wheelhouse.glob("*.whl"):
        name, _version, _build, wheel_tags = parse_wheel_filename(path.name)
        ranks = [rank[t] for t in wheel_tags if t in rank]
        if name in wanted and ranks and (name not in best or min(ranks) < best[name][0]):
            best[name] = (min(ranks), path.name)
    return {filename for _, filename in best.values()}


def download(
    index: str, arch: release_set.Arch, python: str, requirement: str, dest: Path, *, env: dict[str, str]
) -> list[str]:
    """``pip download`` of ``requirement`` for Linux ``arch`` and CPython ``python`` from ``index`` only: the
    file names it fetched (RuntimeError with pip's output when it fails)."""
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:"]
    cmd += platform_args(install_platforms(arch))
    cmd += ["--python-version", python, "--index-url", index, "--dest", str(dest), requirement]
    proc = process.run(cmd, env=env, cwd="/", timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"pip download for {arch.machine} failed: {(proc.stdout + proc.stderr).strip()[-800:]}")
    return sorted(p.name for p in dest.iterdir())


def problems(files: list[str], want: set[str], arch: release_set.Arch) -> list[str]:
    """What is wrong with the downloaded ``files`` for ``arch``: ours other than ``want``, another architecture's."""
    found = []
    ours = {f for f in files if release_set.package_of_artifact(f) is not None}
    if ours != want:
        found.append(f"our files {sorted(ours)}, expected exactly {sorted(want)}")
    foreign = [f for f in files if not f.endswith(".whl") or not _installs_on(f, arch)]
    if foreign:
        found.append(f"not {arch.machine} wheels: {foreign}")
    return found


def _installs_on(wheel: str, arch: release_set.Arch) -> bool:
    platforms = wheel.removesuffix(".whl").split("-")[-1]
    return platforms == "any" or release_set.arch_of_wheel(wheel) == arch
