"""Reading release artifacts: wheel and sdist members, sizes and metadata."""

from __future__ import annotations

import tarfile
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True)
class Member:
    """One file inside an artifact."""

    name: str
    raw: int  # uncompressed bytes
    stored: int  # bytes it takes in the artifact (compressed size for wheels)


def is_artifact(path: Path) -> bool:
    """True for wheels and sdists."""
    return path.name.endswith((".whl", ".tar.gz"))


def members(path: Path) -> list[Member]:
    """The files of a wheel or sdist."""
    if path.name.endswith(".whl"):
        with zipfile.ZipFile(path) as zf:
            return [Member(i.filename, i.file_size, i.compress_size) for i in zf.infolist() if not i.is_dir()]
    with tarfile.open(path, "r:gz") as tf:
        return [Member(m.name, m.size, m.size) for m in tf.getmembers() if m.isfile()]


def metadata(path: Path) -> dict[str, list[str]]:
    """The core metadata (wheel METADATA or sdist PKG-INFO) as a multi-dict."""
    text: str | None = None
    if path.name.endswith(".whl"):
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.count("/") == 1 and name.split("/")[0].endswith(".dist-info") and name.endswith("/METADATA"):
                    text = zf.read(name).decode("utf-8")
                    break
    else:
        with tarfile.open(path, "r:gz") as tf:
            for m in tf.getmembers():
                if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO"):
                    f = tf.extractfile(m)
                    if f is not None:
                        text = f.read().decode("utf-8")
                    break
    if text is None:
        raise ValueError(f"{path.name}: no METADATA/PKG-INFO found")
    msg = Parser().parsestr(text, headersonly=True)
    out: dict[str, list[str]] = {}
    for key, value in msg.items():
        out.setdefault(key, []).append(value)
    return out
