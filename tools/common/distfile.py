"""The tools' one reader and writer of built distributions (wheels and sdists).

Reading: :class:`Artifact` (members, sizes, core metadata) for the checker, the size guard, the
third-party cache and the tests. Writing: :func:`pack_wheel` is the one wheel writer, with one
timestamp rule (every member dated :data:`EPOCH`, deflated at level 9, a regular file of the given
mode, RECORD generated last), so the same members always give the same bytes; the procgen-libs wheel
and the test fixtures (:func:`rewrite_wheel`, :func:`write_wheel`, :func:`with_version`) go through it.
"""

from __future__ import annotations

import email.message
import email.parser
import io
import re
import tarfile
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from tools.common.hashing import record_digest

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

_WHEEL_RE = re.compile(
    r"^(?P<name>[^-]+)-(?P<version>[^-]+)(?:-(?P<build>\d[^-]*))?-(?P<py>[^-]+)-(?P<abi>[^-]+)-(?P<plat>[^-]+)\.whl$"
)
_SDIST_RE = re.compile(r"^(?P<name>.+)-(?P<version>[^-]+)\.tar\.gz$")
_RECORD_RE = re.compile(r"[^/]+\.dist-info/RECORD")
#: the date of every member a wheel written here holds: fixed, so the same members give the same bytes
EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Member:
    """One file inside an artifact, with its sizes."""

    name: str
    raw: int  # uncompressed bytes
    stored: int  # bytes it takes in the artifact (compressed size for wheels)


@dataclass(frozen=True)
class Artifact:
    """One built distribution file."""

    path: Path
    kind: Literal["wheel", "sdist"]
    name: str  # the distribution name as written in the file name (normalized: underscores)
    version: str  # the version as written in the file name
    platforms: tuple[str, ...] = ()  # wheel platform tags ("any" for pure wheels)

    @property
    def filename(self) -> str:
        """The file name."""
        return self.path.name

    @property
    def is_platform_wheel(self) -> bool:
        """A wheel with a platform tag other than ``any``."""
        return self.kind == "wheel" and self.platforms != ("any",)

    def members(self) -> list[str]:
        """Every file path in the archive (directories left out)."""
        if self.kind == "wheel":
            with zipfile.ZipFile(self.path) as zf:
                return [i.filename for i in zf.infolist() if not i.is_dir()]
        with tarfile.open(self.path, "r:gz") as tf:
            return [m.name for m in tf.getmembers() if not m.isdir()]

    def sizes(self) -> list[Member]:
        """Every file of the archive with its raw and stored sizes."""
        if self.kind == "wheel":
            with zipfile.ZipFile(self.path) as zf:
                return [Member(i.filename, i.file_size, i.compress_size) for i in zf.infolist() if not i.is_dir()]
        with tarfile.open(self.path, "r:gz") as tf:
            return [Member(m.name, m.size, m.size) for m in tf.getmembers() if m.isfile()]

    def read(self, member: str) -> bytes:
        """The bytes of one archive member."""
        if self.kind == "wheel":
            with zipfile.ZipFile(self.path) as zf:
                return zf.read(member)
        with tarfile.open(self.path, "r:gz") as tf:
            f = tf.extractfile(member)
            if f is None:
                raise KeyError(f"{member} is not a regular file in {self.filename}")
            return f.read()

    def heads(self, size: int) -> dict[str, bytes]:
        """The first ``size`` bytes of every file of the archive (fewer for a shorter file), read in one pass."""
        out: dict[str, bytes] = {}
        if self.kind == "wheel":
            with zipfile.ZipFile(self.path) as zf:
                for info in zf.infolist():
                    if not info.is_dir():
                        with zf.open(info) as fh:
                            out[info.filename] = fh.read(size)
            return out
        with tarfile.open(self.path, "r:gz") as tf:
            for m in tf.getmembers():
                f = tf.extractfile(m) if m.isfile() else None
                if f is not None:
                    out[m.name] = f.read(size)
        return out

    def metadata_member(self) -> str:
        """The archive path of the core metadata file (wheel METADATA or sdist PKG-INFO)."""
        names = self.members()
        if self.kind == "wheel":
            found = [n for n in names if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        else:
            found = [n for n in names if re.fullmatch(r"[^/]+/PKG-INFO", n)]
        if len(found) != 1:
            what = ".dist-info/METADATA" if self.kind == "wheel" else "top-level PKG-INFO"
            raise ValueError(f"{self.filename}: expected one {what}, found {len(found)}")
        return found[0]

    def metadata(self) -> email.message.Message:
        """The parsed core metadata."""
        text = self.read(self.metadata_member()).decode("utf-8")
        return email.parser.HeaderParser().parsestr(text)

    def fields(self) -> dict[str, list[str]]:
        """The core metadata as a multi-dict: field name -> every value, in order."""
        out: dict[str, list[str]] = {}
        for key, value in self.metadata().items():
            out.setdefault(key, []).append(value)
        return out

    def dist_info(self) -> str:
        """The wheel's ``.dist-info`` directory name."""
        return self.metadata_member().split("/", 1)[0]


def parse_artifact(path: Path) -> Artifact | None:
    """Describe ``path`` if its name is a wheel or sdist file name, else None."""
    m = _WHEEL_RE.match(path.name)
    if m:
        return Artifact(path, "wheel", m["name"], m["version"], tuple(m["plat"].split(".")))
    m = _SDIST_RE.match(path.name)
    if m:
        return Artifact(path, "sdist", m["name"], m["version"])
    return None


def artifacts(directory: Path) -> list[Artifact]:
    """Every wheel and sdist directly inside ``directory``, sorted by file name."""
    found = (parse_artifact(p) for p in sorted(directory.iterdir()) if p.is_file())
    return [a for a in found if a is not None]


def artifact(path: Path) -> Artifact:
    """Describe ``path``, which must be named as a wheel or sdist (ValueError otherwise)."""
    found = parse_artifact(path)
    if found is None:
        raise ValueError(f"{path.name} is not named as a wheel or an sdist")
    return found


def pack_wheel(target: Path, files: Sequence[tuple[str, bytes, int]], record: str) -> Path:
    """Write the wheel ``target`` from ``files`` (archive path, bytes, permission bits) and a RECORD at ``record``.

    The one wheel writer: members in the given order, each dated EPOCH, deflated at level 9 and
    marked a regular file of its mode; RECORD (listing each member's sha256 and size) comes last.
    Written to a temporary file and renamed, so ``target`` is never partial.
    """
    lines = [f"{name},{record_digest(data)},{len(data)}\n" for name, data, _ in files]
    members = [*files, (record, ("".join(lines) + f"{record},,\n").encode("utf-8"), 0o644)]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data, mode in members:
            info = zipfile.ZipInfo(name, EPOCH)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data, compresslevel=9)
    tmp.replace(target)
    return target


def rewrite_wheel(
    src: Path,
    dst: Path,
    *,
    replace: Mapping[str, bytes | None] | None = None,
    edit: Callable[[str, bytes], bytes] | None = None,
    rename: Mapping[str, str] | None = None,
) -> Path:
    """Copy wheel ``src`` to ``dst`` with members changed, and write a correct RECORD.

    ``replace`` maps archive paths to new bytes (added when absent) or None (removed);
    ``edit(name, data)`` may transform every member's bytes; ``rename`` moves members.
    RECORD is regenerated from the final contents, so the result is a valid wheel.
    """
    replace = dict(replace or {})
    rename = dict(rename or {})
    files: dict[str, bytes] = {}
    modes: dict[str, int] = {}
    record_name = ""
    with zipfile.ZipFile(src) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = rename.get(info.filename, info.filename)
            if _RECORD_RE.fullmatch(name):
                record_name = name
                continue
            files[name] = zf.read(info)
            modes[name] = (info.external_attr >> 16) & 0o7777 or 0o644
    for name, data in replace.items():
        if _RECORD_RE.fullmatch(name):
            raise ValueError("RECORD is always regenerated; do not replace it")
        if data is None:
            files.pop(name, None)
        else:
            files[name] = data
    if edit is not None:
        files = {name: edit(name, data) for name, data in files.items()}
    if not record_name:
        dist_infos = {n.split("/", 1)[0] for n in files if n.split("/", 1)[0].endswith(".dist-info")}
        if len(dist_infos) != 1:
            raise ValueError(f"{src.name}: cannot locate the .dist-info directory")
        record_name = f"{dist_infos.pop()}/RECORD"
    return pack_wheel(dst, [(name, data, modes.get(name, 0o644)) for name, data in files.items()], record_name)


def write_wheel(
    directory: Path,
    name: str,
    version: str,
    files: Mapping[str, bytes],
    *,
    metadata: str,
    tag: str = "py3-none-any",
) -> Path:
    """Write a wheel from scratch (``metadata`` is the METADATA text); used to build test fixtures."""
    normalized = re.sub(r"[-_.]+", "_", name).lower()
    dist_info = f"{normalized}-{version}.dist-info"
    purelib = tag.endswith("-any")
    tags = "".join(
        f"Tag: {py}-{abi}-{plat}\n"
        for py in tag.split("-", maxsplit=1)[0].split(".")
        for abi in tag.split("-")[1].split(".")
        for plat in tag.split("-")[2].split(".")
    )
    wheel = f"Wheel-Version: 1.0\nGenerator: tools.common.distfile\nRoot-Is-Purelib: {str(purelib).lower()}\n{tags}"
    all_files = {**files, f"{dist_info}/METADATA": metadata.encode(), f"{dist_info}/WHEEL": wheel.encode()}
    members = [(member, data, 0o644) for member, data in all_files.items()]
    return pack_wheel(directory / f"{normalized}-{version}-{tag}.whl", members, f"{dist_info}/RECORD")


def write_sdist(
    directory: Path,
    name: str,
    version: str,
    files: Mapping[str, bytes],
    *,
    pkg_info: str,
    links: Mapping[str, str] | None = None,
) -> Path:
    """Write an sdist from scratch (``pkg_info`` is the PKG-INFO text); used to build test fixtures."""
    normalized = re.sub(r"[-_.]+", "_", name).lower()
    top = f"{normalized}-{version}"
    directory.mkdir(parents=True, exist_ok=True)
    out = directory / f"{top}.tar.gz"
    with tarfile.open(out, "w:gz") as tf:
        for member, data in {**files, "PKG-INFO": pkg_info.encode()}.items():
            info = tarfile.TarInfo(f"{top}/{member}")
            info.size = len(data)
            info.mode = 0o644
            tf.addfile(info, io.BytesIO(data))
        for member, target in (links or {}).items():
            info = tarfile.TarInfo(f"{top}/{member}")
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tf.addfile(info)
    return out


def with_version(
    wheel: Path, version: str, out_dir: Path, *, edit: Callable[[str, bytes], bytes] | None = None
) -> Path:
    """A copy of ``wheel`` that claims to be ``version``: file name, .dist-info name and METADATA.

    Tests use it to stand in for another release of a sibling (version skew). ``edit(name, data)``
    may change other members too (e.g. a manifest that records the version).
    """
    name, old = wheel.name.split("-")[:2]
    old_info, new_info = f"{name}-{old}.dist-info/", f"{name}-{version}.dist-info/"
    with zipfile.ZipFile(wheel) as zf:
        rename = {n: n.replace(old_info, new_info, 1) for n in zf.namelist() if n.startswith(old_info)}

    def retag(member: str, data: bytes) -> bytes:
        if member == new_info + "METADATA":
            data = re.sub(rb"(?m)^Version: .*$", f"Version: {version}".encode(), data, count=1)
        return edit(member, data) if edit is not None else data

    target = out_dir / wheel.name.replace(f"-{old}-", f"-{version}-", 1)
    return rewrite_wheel(wheel, target, rename=rename, edit=retag)
