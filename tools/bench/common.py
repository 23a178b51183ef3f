"""Shared plumbing of the benchmark: paths, the peer release, the command log, running subprocesses, the machine."""

from __future__ import annotations

import datetime as dt
import os
import platform
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tools import REPO
from tools.common import process

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Mapping, Sequence

CACHE = REPO / ".cache" / "bench"
WHEELS = CACHE / "wheels"
VENVS = CACHE / "venvs"
RESULTS = CACHE / "results.json"
PROBES = Path(__file__).resolve().parent / "probes"
#: The release of the old, single-package envpool every table compares against (from PyPI).
PEER_VERSION = "1.2.5"
PEER = f"envpool {PEER_VERSION}"


def show(path: Path | str) -> str:
    """A path relative to the repository when it lies inside it (for the commands in the docs)."""
    p = Path(path)
    try:
        return str(p.absolute().relative_to(REPO))
    except ValueError:
        return str(p)


def command_line(cmd: Sequence[str | Path]) -> str:
    """The shell form of ``cmd`` with repository paths shortened."""
    parts = []
    for c in cmd:
        s = str(c)
        parts.append(show(s) if s.startswith(str(REPO)) else s)
    return shlex.join(parts)


class CommandLog:
    """The distinct commands a section ran, in order, for the "exact commands" of each table."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, line: str) -> None:
        """Record a command once."""
        if line not in self.lines:
            self.lines.append(line)


def run(
    cmd: Sequence[str | Path],
    log: CommandLog | None = None,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` capturing its output (``env`` laid over ours); on failure raise ProcessError (a RuntimeError)."""
    if log is not None:
        log.add(command_line(cmd))
    return process.run(cmd, cwd=cwd, extra_env=env, check=check, timeout=timeout)


def say(msg: str) -> None:
    """Progress on stderr (stdout stays free for the headline lines)."""
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def cpu_model(cpuinfo: str) -> str:
    """The CPU model named in the text of /proc/cpuinfo (``unknown`` when absent)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("model name", "Model", "Hardware") and value.strip():
            return value.strip()
    return "unknown"


def machine() -> dict[str, str | int]:
    """What the tables state about the machine: cores (nproc), CPU model, kernel, Python, date."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        cpuinfo = ""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return {
        "cores": cores,
        "cpu": cpu_model(cpuinfo),
        "kernel": platform.release(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }
