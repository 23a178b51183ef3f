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
