"""Build time: a clean ``nox -s build`` and a warm rebuild of the core after touching one C++ file."""

from __future__ import annotations

import shlex
import shutil
import time
from typing import TYPE_CHECKING, Any

from tools import REPO
from tools.bench.common import CommandLog, run, say, show

if TYPE_CHECKING:
    from pathlib import Path

CLEAN_CMD = "nox -s build"
WARM_CMD = "nox -s build -- packages/core"
TOUCHED = REPO / "packages/core/cpp/classic_control/module.cpp"
#: the CMake build trees a clean build starts without (downloaded caches under .cache/ are kept)
CLEAN_PATHS = (REPO / "build",)


def timed(cmd: str, log: CommandLog) -> float:
    """Wall seconds of one shell-free command run from the repository root."""
    t0 = time.perf_counter()
    run(shlex.split(cmd), log, cwd=REPO)
    return time.perf_counter() - t0


def run_section(
    clean_cmd: str = CLEAN_CMD,
    warm_cmd: str = WARM_CMD,
    clean_paths: tuple[Path, ...] = CLEAN_PATHS,
    warm_repeats: int = 1,
) -> dict[str, Any]:
    """Remove ``clean_paths``, time ``clean_cmd``; then touch module.cpp and time ``warm_cmd``."""
    log = CommandLog()
    for p in clean_paths:
        if p.exists():
            log.add(f"rm -rf {show(p)}")
            shutil.rmtree(p)
    say(f"build: clean {clean_cmd}")
    clean = timed(clean_cmd, log)
    warm: list[float] = []
    for _ in range(warm_repeats):
        TOUCHED.touch()
        log.add(f"touch {show(TOUCHED)}")
        say(f"build: warm {warm_cmd}")
        warm.append(timed(warm_cmd, log))
    return {
        "clean_s": clean,
        "warm_s": warm,
        "clean_paths": [show(p) for p in clean_paths],
        "clean_cmd": clean_cmd,
        "warm_cmd": warm_cmd,
        "touched": show(TOUCHED),
        "commands": log.lines,
    }
