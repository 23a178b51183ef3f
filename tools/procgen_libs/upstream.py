"""The upstream binaries of envpool-procgen-libs: pinned in one lock per architecture, fetched, verified, unpacked.

The lock of an architecture (``packages/procgen-libs/upstream.<machine>.lock.json``, :func:`lock_path`)
names each artifact exactly: a wheel on the package index or a Debian package, with its sha256 and
size. x86_64: Qt5Core, Qt5Gui and ICU from PyQt5-Qt5's ``manylinux2014`` wheel, glib, libGL and X11
from Debian 11 (whose libraries need glibc <= 2.28). aarch64: PyQt5-Qt5 has no Linux aarch64 wheel,
so everything comes from Debian 11's arm64 packages. Files are cached under ``.cache/artifacts`` and
checked against the lock on every build; a mismatch stops the build with the artifact, both digests
and the fix. Every ELF file unpacked from an artifact must be built for the lock's architecture.

Lock format (``arch`` is the ``Arch.machine`` the lock pins binaries for, and must match its file name)::

    {"arch": "x86_64",
     "artifacts": [{"source": "pypi", "name": "PyQt5-Qt5", "version": "5.15.19", "filename": "...whl",
                    "sha256": "...", "size": N, "license": "LGPL-3.0-only"},
                   {"source": "debian", "name": "libglib2.0-0", "version": "2.66.8-1+deb11u4",
                    "suite": "bullseye", "path": "pool/main/g/glib2.0/...deb", "sha256": "...", "size": N,
                    "license": "LGPL-2.1-or-later"}]}
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from tools.assets.fetch import download, fetch
from tools.assets.lockfile import Artifact
from tools.assets.paths import cache_dir
from tools.assets.tree import AssetError
from tools.common.elf import ELF_MAGIC, elf_machine
from tools.common.hashing import sha256_file
from tools.procgen_libs import package_dir
from tools.release.release_set import ARCHES, Arch, arch_of

#: The architecture a build is for when none is named: this build machine's own (release_set.ARCHES[0]).
DEFAULT_ARCH = ARCHES[0]
#: Debian's archive (the packages registry); override with ENVPOOL_DEBIAN_MIRROR for a local mirror.
DEFAULT_MIRROR = "http://deb.debian.org/debian"
#: ar member header size (ar(5)): name 16, mtime 12, uid 6, gid 6, mode 8, size 10, magic 2
_AR_HEADER = 60


@dataclass(frozen=True)
class Upstream:
    """One locked upstream artifact."""

    source: str  # "pypi" or "debian"
    name: str
    version: str
    filename: str
    sha256: str
    size: int
    license: str
    suite: str = ""  # debian only
    path: str = ""  # debian only: the pool path below the mirror
    arch: str = DEFAULT_ARCH.machine  # the architecture of the lock it is pinned in (Arch.machine)

    @property
    def lock(self) -> Path:
        """The lock file that pins it."""
        return lock_path(arch_of(self.arch))

    @property
    def purl(self) -> str:
        """The package URL of the artifact (for the SBOM); a Debian package's ``arch`` is Debian's name."""
        if self.source == "pypi":
            return f"pkg:pypi/{self.name.lower()}@{self.version}"
        return f"pkg:deb/debian/{self.name}@{self.version}?arch={arch_of(self.arch).debian}&distro=debian-{self.suite}"


class ArchitectureError(AssetError):
    """A lock, or a binary unpacked from a locked artifact, is for another architecture than the build's."""


def lock_path(arch: Arch = DEFAULT_ARCH) -> Path:
    """The upstream lock of ``arch``: ``packages/procgen-libs/upstream.<machine>.lock.json``."""
    return package_dir() / f"upstream.{arch.machine}.lock.json"


def load_lock(path: Path | None = None, arch: Arch | None = None) -> tuple[str, list[Upstream]]:
    """The locked architecture and artifacts of ``path`` (default: the lock of ``arch``, default this machine's).

    With ``arch``, the lock's ``arch`` field must name it: a build never takes another architecture's lock.
    """
    path = path or lock_path(arch or DEFAULT_ARCH)
    try:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        machine = str(raw["arch"])
        arts = [
            Upstream(
                source=a["source"],
                name=a["name"],
                version=a["version"],
                filename=a.get("filename") or PurePosixPath(a["path"]).name,
                sha256=a["sha256"],
                size=int(a["size"]),
                license=a["license"],
                suite=a.get("suite", ""),
                path=a.get("path", ""),
                arch=machine,
            )
            for a in raw["artifacts"]
        ]
        arch_of(machine)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AssetError(f"{path}: not a valid upstream lock ({exc})") from None
    if arch is not None and machine != arch.machine:
        raise ArchitectureError(
            f"{path}: its arch field is {machine!r}, but the build is for {arch.machine}: each architecture has its "
            f"own lock ({lock_path(arch).name}); fix the arch field or read the lock of the architecture it pins"
        )
    for a in arts:
        if a.source not in {"pypi", "debian"}:
            raise AssetError(f"{path}: artifact {a.filename}: unknown source {a.source!r} (pypi or debian)")
    return machine, arts


def fetch_upstream(art: Upstream, cache: Path | None = None) -> Path:
    """The cached, sha256-verified file of ``art`` (downloaded from PyPI or Debian when missing)."""
    cache = cache or cache_dir()
    if art.source == "pypi":
        return fetch(Artifact(art.name, art.version, art.filename, art.sha256, art.size), cache)
    target = cache / art.filename
    if not target.is_file():
        mirror = os.environ.get("ENVPOOL_DEBIAN_MIRROR", DEFAULT_MIRROR).rstrip("/")
        download(f"{mirror}/{art.path}", target, art.filename)
    got = sha256_file(target)
    if got != art.sha256:
        raise AssetError(
            f"upstream artifact {art.filename} ({art.name} {art.version}): sha256 mismatch: locked {art.sha256}, "
            f"got {got} ({target}). Delete the cached file to download it again; if Debian replaced the package, "
            f"update {art.lock.name} with the new version, path and sha256."
        )
    return target


def _ar_members(data: bytes, label: str) -> dict[str, bytes]:
    """The members of a Debian package (an ar archive), bounds-checked."""
    if not data.startswith(b"!<arch>\n"):
        raise AssetError(f"{label}: not a Debian package (no ar magic)")
    members: dict[str, bytes] = {}
    pos = 8
    while pos < len(data):
        if pos + _AR_HEADER > len(data):
            raise AssetError(f"{label}: truncated ar header at byte {pos}")
        header = data[pos : pos + _AR_HEADER]
        name = header[:16].decode("ascii", "replace").strip().rstrip("/")
        try:
            size = int(header[48:58].decode("ascii").strip())
        except ValueError:
            raise AssetError(f"{label}: bad ar member size at byte {pos}") from None
        start = pos + _AR_HEADER
        if size < 0 or start + size > len(data):
            raise AssetError(f"{label}: ar member {name} runs past the end of the file")
        members[name] = data[start : start + size]
        pos = start + size + (size % 2)
    return members


def library_files(path: Path, art: Upstream) -> dict[str, bytes]:
    """Every regular ELF shared-object file in the artifact: its member path -> bytes."""
    out: dict[str, bytes] = {}
    if art.source == "pypi":
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if ".so" in PurePosixPath(info.filename).name and not info.is_dir():
                    blob = zf.read(info)
                    if blob.startswith(ELF_MAGIC):
                        out[info.filename] = blob
        return out
    members = _ar_members(path.read_bytes(), art.filename)
    data_name = next((n for n in members if n.startswith("data.tar")), None)
    if data_name is None:
        raise AssetError(f"{art.filename}: no data.tar.* member")
    with tarfile.open(fileobj=io.BytesIO(members[data_name]), mode="r:*") as tf:
        for m in tf.getmembers():
            if m.isfile() and ".so" in PurePosixPath(m.name).name:
                f = tf.extractfile(m)
                blob = f.read() if f else b""
                if blob.startswith(ELF_MAGIC):
                    out[m.name.removeprefix("./")] = blob
    return out


def require_machine(file: Path, art: Upstream, member: str, lock: Path, arch: Arch) -> None:
    """Refuse an unpacked ELF ``file`` (``member`` of ``art``) whose e_machine is not ``arch``'s."""
    found = elf_machine(file)
    if found != arch.elf_machine:
        raise ArchitectureError(
            f"{art.filename} ({art.name} {art.version}), locked in {lock}, holds {member}, an ELF file for "
            f"{found}; the {arch.machine} lock must hold {arch.elf_machine} binaries only. Fix: pin the "
            f"{arch.machine} build of {art.name} in {lock.name} (a Debian package's pool file ends in "
            f"_{arch.debian}.deb, a wheel's platform tag in _{arch.machine}), with its sha256 and size."
        )


def unpack(
    dest: Path, cache: Path | None = None, lock: Path | None = None, arch: Arch = DEFAULT_ARCH
) -> dict[Path, Upstream]:
    """Fetch every artifact of ``arch``'s lock (or of ``lock``, which must be for ``arch``) and write its
    shared libraries below ``dest``; file -> artifact. Every library must be an ELF file for ``arch``."""
    lock = lock or lock_path(arch)
    _, artifacts = load_lock(lock, arch)
    files: dict[Path, Upstream] = {}
    for art in artifacts:
        path = fetch_upstream(art, cache)
        libs = library_files(path, art)
        if not libs:
            raise AssetError(f"{art.filename}: holds no shared library; remove it from {lock.name}")
        for member, blob in sorted(libs.items()):
            target = dest / art.filename / member
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob)
            require_machine(target, art, member, lock, arch)
            files[target] = art
    return files


def extract_debian(path: Path, art: Upstream, dest: Path, under: str) -> int:
    """Write the regular files below ``under`` (e.g. ``usr/include/``) of a fetched Debian package into
    ``dest`` at their package paths; return how many. Member paths that would leave ``dest`` are refused."""
    members = _ar_members(path.read_bytes(), art.filename)
    data_name = next((n for n in members if n.startswith("data.tar")), None)
    if data_name is None:
        raise AssetError(f"{art.filename}: no data.tar.* member")
    count = 0
    with tarfile.open(fileobj=io.BytesIO(members[data_name]), mode="r:*") as tf:
        for m in tf.getmembers():
            name = PurePosixPath(m.name.removeprefix("./"))
            if not m.isfile() or not str(name).startswith(under):
                continue
            if name.is_absolute() or ".." in name.parts:
                raise AssetError(f"{art.filename}: member {m.name} leaves the extraction directory")
            f = tf.extractfile(m)
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(f.read() if f else b"")
            count += 1
    return count


def check(arch: Arch, cache: Path | None = None) -> str:
    """Verify ``arch``'s lock as a build uses it: every artifact fetched and sha256-checked, every ELF file
    for ``arch``, and the Qt closure provided exactly once with no unused artifact. Returns a summary line."""
    import tempfile

    from tools.procgen_libs.closure import closure

    with tempfile.TemporaryDirectory(prefix="procgen-libs-lock-") as tmp:
        files = unpack(Path(tmp), cache, arch=arch)
        libs = closure(files)
    artifacts = {a.filename for a in files.values()}
    return f"{lock_path(arch).name}: {len(artifacts)} artifacts, {len(libs)} libraries, all {arch.elf_machine}"


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.procgen_libs.upstream [--machine M]``: check the upstream lock of each architecture."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tools.procgen_libs.upstream", description=check.__doc__)
    parser.add_argument("--machine", choices=[a.machine for a in ARCHES], help="one architecture (default: all)")
    args = parser.parse_args(argv)
    for arch in [arch_of(args.machine)] if args.machine else ARCHES:
        print(check(arch), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
