"""Which distribution package a host library file comes from (dpkg on Debian, rpm on manylinux)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Origin:
    """The system package that installed a file."""

    manager: str  # "deb" or "rpm"
    package: str  # e.g. "libicu72"
    version: str  # e.g. "72.1-3+deb12u1"
    arch: str  # e.g. "amd64"
    distro: str  # e.g. "debian-12"


def _distro() -> str:
    info: dict[str, str] = {}
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            key, _, value = line.partition("=")
            info[key] = value.strip().strip('"')
    except OSError:
        return "unknown"
    return f"{info.get('ID', 'unknown')}-{info.get('VERSION_ID', '')}"


def _candidates(path: Path) -> list[str]:
    # dpkg records the path it unpacked, which may be /lib/... (merged /usr) rather than /usr/lib/...
    s = str(path)
    out = [s]
    if s.startswith("/usr/lib/"):
        out.append(s[len("/usr") :])
    elif s.startswith("/lib/"):
        out.append("/usr" + s)
    return out


def _dpkg(path: Path) -> Origin | None:
    for candidate in _candidates(path):
        res = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True, check=False)
        if res.returncode != 0:
            continue
        # dpkg -S prints "libicu72:amd64: /path"
        first = res.stdout.splitlines()[0]
        name_arch = first.split(": ", 1)[0]
        pkg = name_arch.split(",")[0].strip()
        query = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Package} ${Version} ${Architecture}", pkg],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        return Origin("deb", query[0], query[1], query[2], _distro())
    return None


def _rpm(path: Path) -> Origin | None:
    res = subprocess.run(
        ["rpm", "-qf", "--qf", "%{NAME} %{VERSION}-%{RELEASE} %{ARCH}", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode != 0:
        return None
    name, version, arch = res.stdout.split()
    return Origin("rpm", name, version, arch, _distro())


def origin(path: Path) -> Origin:
    """The package owning ``path``; raises RuntimeError when no package manager knows it."""
    if shutil.which("dpkg"):
        found = _dpkg(path)
        if found:
            return found
    if shutil.which("rpm"):
        found = _rpm(path)
        if found:
            return found
    raise RuntimeError(f"{path} belongs to no dpkg/rpm package: a grafted library must come from a system package")
