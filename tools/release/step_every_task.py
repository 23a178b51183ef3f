"""Step every task of every family with fixed seeds and a fixed action sequence; save what came out.

    python step_every_task.py --out FILE.npz [--steps N] [--num-envs N] [--seed S]

A standalone script (numpy and the *installed* envpool only): tools.release.emulated runs this very file
with the x86_64 wheels on the host and with the aarch64 wheels in the arm64 root, and
tools.release.arch_parity compares the two files. Never run it from a checkout's source tree.

The actions come from integers of numpy's PCG64 (bit-identical on every platform): Discrete(n) draws
in [0, n); a Box action is ``low + (high - low) * k / 65535`` with k in [0, 65535], computed by separate
numpy ufuncs (no fused multiply-add). Saved per task ``T`` (npz keys ``T/...``):

- ``T/action``: every action sent (so the two sides can be checked to have sent the same ones);
- ``T/reward``, ``T/terminated``, ``T/truncated``: one row per step;
- ``T/obs/F``: observation field F at reset and after every step, when it has at most SMALL values
  per env; larger ones (images) are saved as ``T/obs/F#crc32`` (a CRC-32 per env and step) and
  ``T/obs/F#frames`` (every FRAME_EVERY-th observation, for the pixel comparison).

``__meta__`` holds JSON: the machine, envpool's version, the seconds each task took.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import zlib
from typing import Any

import numpy as np

SMALL = 4096  # values per env below which an observation field is saved whole
FRAME_EVERY = 25  # every how many steps a large observation is saved whole
LEVELS = 65535  # the resolution of a Box action


def actions(space: Any, rng: np.random.Generator, n: int) -> np.ndarray:
    """One action per env for ``space`` (a gymnasium Discrete or Box), from integers only."""
    if hasattr(space, "n"):
        return rng.integers(0, int(space.n), size=n).astype(np.int64)
    shape = (n, *space.shape)
    low = np.broadcast_to(np.where(np.isfinite(space.low), space.low, -1.0).astype(np.float64), shape)
    high = np.broadcast_to(np.where(np.isfinite(space.high), space.high, 1.0).astype(np.float64), shape)
    k = rng.integers(0, LEVELS + 1, size=shape).astype(np.float64)
    span = np.subtract(high, low)
    scaled = np.multiply(span, k)
    return np.add(low, np.divide(scaled, LEVELS)).astype(np.float32)


def fields(obs: Any) -> dict[str, np.ndarray]:
    """The observation's fields by name (``obs`` for a plain array)."""
    return {k: np.asarray(v) for k, v in obs.items()} if isinstance(obs, dict) else {"obs": np.asarray(obs)}


def digests(batch: np.ndarray) -> np.ndarray:
    """A CRC-32 of each env's observation (a change detector, not an artifact hash): uint32 (num_envs, 1)."""
    return np.array([[zlib.crc32(np.ascontiguousarray(x).tobytes())] for x in batch], dtype=np.uint32)


def run_task(task_id: str, steps: int, num_envs: int, seed: int) -> dict[str, np.ndarray]:
    """Reset, then ``steps`` steps of ``task_id``; the arrays to save under ``task_id/``."""
    import envpool

    env = envpool.make(task_id, num_envs=num_envs, seed=seed, num_threads=1)
    rng = np.random.default_rng(seed)
    obs, _ = env.reset()
    records: dict[str, list[np.ndarray]] = {}

    def keep(step: int, observation: Any) -> None:
        for name, value in fields(observation).items():
            if value[0].size <= SMALL:
                records.setdefault(f"obs/{name}", []).append(value.copy())
            else:
                records.setdefault(f"obs/{name}#crc32", []).append(digests(value))
                if step % FRAME_EVERY == 0 or step == steps:
                    records.setdefault(f"obs/{name}#frames", []).append(value.copy())

    keep(0, obs)
    for step in range(1, steps + 1):
        action = actions(env.action_space, rng, num_envs)
        obs, reward, terminated, truncated, _ = env.step(action)
        records.setdefault("action", []).append(action)
        records.setdefault("reward", []).append(np.asarray(reward).copy())
        records.setdefault("terminated", []).append(np.asarray(terminated).copy())
        records.setdefault("truncated", []).append(np.asarray(truncated).copy())
        keep(step, obs)
    env.close()
    return {f"{task_id}/{key}": np.stack(values) for key, values in records.items()}


def main(argv: list[str] | None = None) -> int:
    """Step every task and write the npz file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--num-envs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tasks", nargs="*", help="task ids (default: envpool.list_all_envs())")
    args = parser.parse_args(argv)
    import envpool
    from envpool.registration import family_of

    arrays: dict[str, np.ndarray] = {}
    meta: dict[str, Any] = {
        "machine": platform.machine(),
        "python": platform.python_version(),
        "envpool": envpool.__version__,
        "envpool_file": envpool.__file__,
        "steps": args.steps,
        "num_envs": args.num_envs,
        "seed": args.seed,
        "tasks": {},
    }
    for task_id in args.tasks or envpool.list_all_envs():
        start = time.monotonic()
        arrays.update(run_task(task_id, args.steps, args.num_envs, args.seed))
        seconds = time.monotonic() - start
        meta["tasks"][task_id] = {"family": family_of(task_id), "seconds": round(seconds, 3)}
        print(f"{task_id}: {args.steps} steps x {args.num_envs} envs in {seconds:.1f} s", flush=True)
    arrays["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez_compressed(args.out, **arrays)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
