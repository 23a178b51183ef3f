"""The tools' one subprocess helper: find a console tool, run a command, report a failure with its output."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

#: the bin directory of the running interpreter's environment (console tools of its venv live there)
BIN = Path(sys.executable).parent


def tool(name: str) -> str | None:
    """The console tool ``name`` installed next to this Python (its venv's bin/), else one on PATH, else None."""
    local = BIN / name
    if local.is_file():
        return str(local)
    return shutil.which(name)


def path_with_bin() -> str:
    """PATH with this Python's bin directory first (so a tool finds its helpers installed next to it)."""
    return os.pathsep.join([str(BIN), os.environ.get("PATH", "")])


class ProcessError(subprocess.CalledProcessError, RuntimeError):
    """A command exited non-zero; the message holds the command line and the tail of its output."""

    def __str__(self) -> str:
        text = f"command failed ({self.returncode}): {shlex.join(map(str, self.cmd))}"
        if self.stdout:
            text += f"\n{self.stdout[-2000:]}"
        if self.stderr:
            text += f"\n{self.stderr[-4000:]}"
        return text


def run(
    cmd: Sequence[str | Path],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    extra_env: Mapping[str, str] | None = None,
    capture: bool = True,
    check: bool = False,
    timeout: float | None = None,
    echo: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` as text; ``capture`` its output (else it goes to ours), ``check`` raises ProcessError.

    ``env`` replaces the environment; ``extra_env`` is laid over it (over os.environ when ``env`` is
    None). ``echo`` prints ``+ command`` first, as a build log shows it.
    """
    args = [str(c) for c in cmd]
    if echo:
        print("+ " + shlex.join(args), flush=True)
    full_env = dict(os.environ if env is None else env) if (env is not None or extra_env) else None
    if full_env is not None and extra_env:
        full_env.update(extra_env)
    proc = subprocess.run(args, cwd=cwd, env=full_env, capture_output=capture, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise ProcessError(proc.returncode, args, proc.stdout, proc.stderr)
    return proc


def output(proc: subprocess.CompletedProcess[str]) -> str:
    """A finished command's stdout and stderr together, stripped."""
    return ((proc.stdout or "") + (proc.stderr or "")).strip()
