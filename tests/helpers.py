"""Helpers for tests (import as ``from tests.helpers import ...``)."""

from __future__ import annotations

import os
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
