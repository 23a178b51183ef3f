"""Run inside a subject venv: env steps per second of one configuration; print JSON.

``throughput_probe.py LIB TASK NUM_ENVS MODE SECONDS`` with LIB ``envpool`` (ours or the peer release,
whichever the venv holds) or ``gymnasium`` (``gymnasium.make_vec(..., vectorization_mode="sync")``),
MODE ``sync`` (``step`` on every env) or ``async`` (``batch_size = num_envs // 2``, ``recv``/``send``).
Actions are drawn up front from a seeded generator, identical for every subject.
Standalone on purpose: stdlib + numpy + the subject's library.
"""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Callable

N_ACTION_SETS = 64
WARMUP_CALLS = 50


def sample_actions(space: Any, n: int, rng: np.random.Generator) -> list[np.ndarray]:
    """``N_ACTION_SETS`` batches of ``n`` random actions of a single-env gymnasium space."""
    out = []
    for _ in range(N_ACTION_SETS):
        if hasattr(space, "n"):
            start = int(getattr(space, "start", 0))
            out.append((start + rng.integers(0, int(space.n), size=n)).astype(space.dtype))
        else:
            low = np.broadcast_to(space.low, space.shape).astype(np.float64)
            high = np.broadcast_to(space.high, space.shape).astype(np.float64)
            low = np.where(np.isfinite(low), low, -1.0)
            high = np.where(np.isfinite(high), high, 1.0)
            out.append(rng.uniform(low, high, size=(n, *space.shape)).astype(space.dtype))
    return out


def envpool_stepper(task: str, num_envs: int, mode: str) -> tuple[Callable[[int], int], str]:
    """A function doing one call (step or recv+send) and returning the env steps it made."""
    import envpool

    rng = np.random.default_rng(0)
    if mode == "sync":
        env = envpool.make(task, env_type="gymnasium", num_envs=num_envs, seed=0)
        acts = sample_actions(env.action_space, num_envs, rng)
        env.reset()

        def step(i: int) -> int:
            env.step(acts[i % N_ACTION_SETS])
            return num_envs

        return step, envpool.__version__
    batch = max(1, num_envs // 2)
    env = envpool.make(task, env_type="gymnasium", num_envs=num_envs, batch_size=batch, seed=0)
    acts = sample_actions(env.action_space, batch, rng)
    env.async_reset()

    def step_async(i: int) -> int:
        info = env.recv()[-1]
        env.send(acts[i % N_ACTION_SETS], info["env_id"])
        return batch

    return step_async, envpool.__version__


def gymnasium_stepper(task: str, num_envs: int, mode: str) -> tuple[Callable[[int], int], str]:
    """gymnasium's SyncVectorEnv (only the sync mode exists for it here)."""
    import gymnasium

    if mode != "sync":
        raise SystemExit("gymnasium is measured in sync mode only")
    env = gymnasium.make_vec(task, num_envs=num_envs, vectorization_mode="sync")
    acts = sample_actions(env.single_action_space, num_envs, np.random.default_rng(0))
    env.reset(seed=0)

    def step(i: int) -> int:
        env.step(acts[i % N_ACTION_SETS])
        return num_envs

    return step, gymnasium.__version__


def main() -> None:
    """Parse the arguments, warm up, then step for the given wall time."""
    lib, task, num_envs, mode, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
    make = envpool_stepper if lib == "envpool" else gymnasium_stepper
    try:
        step, ver = make(task, num_envs, mode)
    except Exception as exc:  # reported, not raised: a missing family is a row, not a crash
        print(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return
    for i in range(WARMUP_CALLS):
        step(i)
    steps = 0
    i = 0
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while True:
        steps += step(i)
        i += 1
        if time.perf_counter() >= deadline:
            break
    elapsed = time.perf_counter() - t0
    print(json.dumps({"version": ver, "steps": steps, "calls": i, "seconds": elapsed, "sps": steps / elapsed}))


if __name__ == "__main__":
    main()
