"""manylinux tags: what ``auditwheel show`` proves from a wheel's symbol versions, and the set's floor."""

from __future__ import annotations

import re
import sys
import tempfile
from typing import TYPE_CHECKING

from tools.common import process
from tools.release.release_set import GLIBC_FLOOR, MANYLINUX_FLOOR

if TYPE_CHECKING:
    from pathlib import Path

_MANYLINUX_RE = re.compile(r"^manylinux_(\d+)_(\d+)_(\w+)$")
_LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}
_SHOW = (
    re.compile(r'constrains the platform tag to "([^"]+)"'),
    re.compile(r'consistent with the following platform tag: "([^"]+)"'),
    re.compile(r'platform\s+tag:\s*"?((?:many|musl)linux_\d+_\d+_\w+)"?'),
)


class TagError(RuntimeError):
    """A wheel's symbols need a newer glibc than its tag or the release set's floor allows."""


def parse(tag: str) -> tuple[int, int, str] | None:
    """(glibc major, minor, arch) of a manylinux tag (PEP 600 or legacy), else None."""
    m = _MANYLINUX_RE.match(tag)
    if m:
        return int(m[1]), int(m[2]), m[3]
    legacy, _, arch = tag.partition("_")
    if legacy in _LEGACY and arch:
        major, minor = _LEGACY[legacy]
        return major, minor, arch
    return None


def auditwheel_show(wheel: Path) -> tuple[int, str, str]:
    """``auditwheel show``: (exit code, the most compatible tag it reports or "", its whole output).

    The library search path is an empty directory: the tag is read from the symbol versions of
    the wheel's own ELF files, never from whatever Qt or glib this build host happens to have
    (a library a sibling wheel provides is judged in that sibling's wheel).
    """
    with tempfile.TemporaryDirectory(prefix="auditwheel-ldpaths-") as empty:
        res = process.run([sys.executable, "-m", "auditwheel", "show", "--ldpaths", empty, wheel])
    out = res.stdout + res.stderr
    text = " ".join(out.split())
    first, *rest = _SHOW
    m = first.search(text)
    if m:
        return res.returncode, m[1], out
    baseline = _baseline(text)
    if baseline:
        return res.returncode, baseline, out
    for pattern in rest:
        m = pattern.search(text)
        if m:
            return res.returncode, m[1], out
    return res.returncode, "", out


def _baseline(text: str) -> str:
    """The tag of a wheel whose symbol versions fit the architecture's most compatible policy.

    ``auditwheel show`` prints "This constrains the platform tag to ..." only when the symbol versions
    need more than the architecture's most compatible policy (manylinux_2_5 on x86_64, but
    manylinux_2_17 on aarch64, glibc's first aarch64 release). Without that sentence the symbols fit
    that baseline: the newest GLIBC version auditwheel lists names it.
    """
    consistent = re.search(r'consistent with the following platform tag: "(?:many)?linux_\w*?_?(x86_64|aarch64)"', text)
    listed = re.search(r"system-provided shared libraries: (.*?)(?:This constrains|The following|In order|$)", text)
    if consistent is None or listed is None:
        return ""
    versions = [(int(a), int(b)) for a, b in re.findall(r"GLIBC_(\d+)\.(\d+)", listed[1])]
    if not versions:
        return ""
    major, minor = max(versions)
    return f"manylinux_{major}_{minor}_{consistent[1]}"


def auditwheel_tag(wheel: Path) -> str:
    """The most compatible platform tag ``auditwheel show`` finds the wheel consistent with."""
    rc, tag, out = auditwheel_show(wheel)
    if rc != 0 or not tag:
        raise TagError(f"auditwheel show {wheel.name} failed:\n{out}")
    return tag


def within_floor(tag: str, floor: tuple[int, int] = GLIBC_FLOOR) -> bool:
    """True when ``tag`` needs no newer glibc than ``floor`` (default: the release set's floor)."""
    parsed = parse(tag)
    return parsed is not None and parsed[:2] <= floor


def require_floor(wheel: Path, tag: str, floor: tuple[int, int] = GLIBC_FLOOR) -> str:
    """Return ``tag`` when it is at ``floor`` or older; else raise naming the wheel and the fix."""
    if not within_floor(tag, floor):
        allowed = MANYLINUX_FLOOR if floor == GLIBC_FLOOR else f"manylinux_{floor[0]}_{floor[1]}"
        raise TagError(
            f"{wheel.name}: auditwheel show says its symbols need {tag}, newer than the release set's "
            f"{allowed} (tools/release/release_set.py GLIBC_FLOOR, Arch.library_glibc). Build it with the zig "
            "toolchain (nox -s build does) or take upstream binaries built for an older glibc."
        )
    return tag


def check_wheel(wheel: Path, floor: tuple[int, int] = GLIBC_FLOOR) -> Path:
    """Refuse a wheel whose file-name tags or real symbol versions are newer than ``floor``; return it."""
    platforms = wheel.name.removesuffix(".whl").split("-")[-1].split(".")
    reported = auditwheel_tag(wheel)
    for tag in [*platforms, reported]:
        require_floor(wheel, tag, floor)
    print(f"   {wheel.name}: auditwheel show confirms {reported}", flush=True)
    return wheel
