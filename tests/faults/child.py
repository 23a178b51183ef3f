"""Running a fault case in a fresh interpreter, so that its limits, signals and forks stay there.

A child script starts with :data:`PRELUDE` (helpers to measure the process and to report) and prints
one ``RESULT {json}`` line; :func:`run_child` returns that object. Every child has a hard timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from typing import Any

#: One task per family, with options that keep each step cheap.
TASKS: dict[str, tuple[str, dict[str, Any]]] = {
    "classic_control": ("CartPole-v1", {}),
    "vizdoom": ("DoomNav-MyWayHome-v0", {"height": 60, "width": 80}),
    "robotics": ("FetchReach-v4", {}),
    "procgen": ("QtMaze-v0", {}),
}

PRELUDE = '''
import gc, json, os, resource, signal, sys, time, warnings
import numpy as np
import envpool

def threads():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])

def rss():
    """Resident bytes, after glibc returns the free memory it keeps (malloc_trim), so a leak shows."""
    import ctypes
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024

def fds():
    return len(os.listdir("/proc/self/fd"))

def vm():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")

def limit_as(headroom=None, absolute=None):
    """Set the soft RLIMIT_AS to vm() + headroom (or to `absolute`) bytes; returns the old limits."""
    old = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (absolute if absolute is not None else vm() + headroom, old[1]))
    return old

def actions(env, n=None):
    n = env.batch_size if n is None else n
    space = env.action_space
    if space.shape == ():
        return np.zeros(n, dtype=np.int64)
    return np.zeros((n, *space.shape), dtype=np.float32)

def use(env):
    """Reset and step every env once; returns the observation batch's shape."""
    env.reset()
    obs, reward, terminated, truncated, info = env.step(actions(env))
    first = obs if not isinstance(obs, dict) else next(iter(obs.values()))
    assert first.shape[0] == env.num_envs and np.isfinite(reward).all()
    return list(first.shape)

def attempt(fn):
    """Run fn(); report how it ended and how long it took."""
    t0 = time.monotonic()
    try:
        value = fn()
        return {"ok": True, "value": value, "seconds": time.monotonic() - t0}
    except BaseException as exc:
        return {"ok": False, "type": type(exc).__name__, "message": str(exc), "seconds": time.monotonic() - t0}

def result(**values):
    print("RESULT " + json.dumps(values, default=repr), flush=True)
'''


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child: this one, without variables that would redirect Python, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return env | extra


def script(family: str, body: str, task: str | None = None, options: dict[str, Any] | None = None) -> str:
    """The full child script: PRELUDE, TASK/OPTIONS (those of `family` unless given), then `body`."""
    default_task, default_options = TASKS[family]
    task = default_task if task is None else task
    options = default_options if options is None else options
    setup = f"TASK = {task!r}\nOPTIONS = {options!r}\n"
    return PRELUDE + setup + textwrap.dedent(body)


def run_child(code: str, timeout: float = 90, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `code` in a fresh interpreter (cwd /) and return its RESULT object; fail on anything else.

    `env` adds variables to :func:`child_env`.
    """
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd="/",
        env=child_env(**(env or {})),
        timeout=timeout,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, (
        f"child exited with {proc.returncode}\n--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
    )
    value: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    return value


def thread_count() -> int:
    """The number of threads of this process (/proc/self/status)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    raise AssertionError("no Threads: line")


def thread_count_settled(expected: int, timeout: float = 2.0) -> int:
    """:func:`thread_count`, after waiting up to ``timeout`` s for it to reach ``expected``.

    ``threading.Thread.join`` returns once the thread's Python state is gone, a moment before the
    kernel drops the thread from /proc; a leaked worker stays and still fails the comparison.
    """
    deadline = time.monotonic() + timeout
    while (count := thread_count()) != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return count
