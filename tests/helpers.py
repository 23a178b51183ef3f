"""Helpers for tests (import as ``from tests.helpers import ...``)."""

from __future__ import annotations

import os
import struct
import subprocess
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def run_python(python: Path, code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with ``python`` from a neutral directory; never raises on a non-zero exit."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    full_env.update(env or {})
    return subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, cwd="/", env=full_env, check=False, timeout=600
    )


def replace_file(path: Path, data: bytes) -> None:
    """Give an installed file new content through a new inode.

    Installers may hard-link installed files to their cache; writing in place would damage the
    cache and every venv made from it.
    """
    tmp = path.with_name(path.name + ".new")
    tmp.write_bytes(data)
    tmp.chmod(path.stat().st_mode)
    tmp.replace(path)


def wheel_for_this_python(wheelhouse: Path, normalized: str) -> Path:
    """The wheel of distribution ``normalized`` (file-name form) in ``wheelhouse`` this interpreter installs."""
    from packaging.tags import sys_tags
    from packaging.utils import parse_wheel_filename

    supported = list(sys_tags())
    best: tuple[int, Path] | None = None
    for wheel in wheelhouse.glob(f"{normalized}-*.whl"):
        _name, _version, _build, tags = parse_wheel_filename(wheel.name)
        ranks = [supported.index(t) for t in tags if t in supported]
        if ranks and (best is None or min(ranks) < best[0]):
            best = (min(ranks), wheel)
    assert best is not None, f"no {normalized} wheel for this interpreter in {wheelhouse}"
    return best[1]


def pwad(lumps: list[tuple[str, bytes]]) -> bytes:
    """A PWAD file holding ``lumps`` (name, body) in order, directory last."""
    data, entries, offset = b"", [], 12
    for name, body in lumps:
        entries.append(struct.pack("<ii8s", offset, len(body), name.encode()))
        data += body
        offset += len(body)
    return b"PWAD" + struct.pack("<ii", len(lumps), 12 + len(data)) + data + b"".join(entries)
