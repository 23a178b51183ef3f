"""The registered tasks' asset lists, read from the one task table (packages/core/src/envpool/tasks.py) by path."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tools.assets.paths import repo_root

if TYPE_CHECKING:
    from types import ModuleType

#: The task table, relative to the repository root.
TASKS_FILE = Path("packages/core/src/envpool/tasks.py")


def load_tasks_module(path: Path | None = None) -> ModuleType:
    """Execute tasks.py as a standalone module (it imports nothing from envpool)."""
    path = path or repo_root() / TASKS_FILE
    name = f"_envpool_tasks_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve annotations through sys.modules
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(name, None)
    return module


def assets_of(family: str, path: Path | None = None) -> list[str]:
    """The sorted union of the asset files of ``family``'s registered tasks."""
    result = load_tasks_module(path).assets_of(family)
    return [str(p) for p in result]
