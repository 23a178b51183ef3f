"""Parity with gymnasium (the oracle): same state, same actions, same observations, rewards and flags.

Each case puts our env and gymnasium's in the same state, applies the same action sequence until
gymnasium ends the episode (termination or its TimeLimit), and compares every step. Our env must
then auto-reset on the following step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium
import numpy as np
import pytest

import envpool

Policy = Callable[[np.ndarray, np.random.Generator], Any]


def _random_discrete(n: int) -> Policy:
    return lambda obs, rng: int(rng.integers(0, n))


def _balance(obs: np.ndarray, rng: np.random.Generator) -> int:
    # Keeps the pole up long enough to reach CartPole's 500-step time limit.
    return int(obs[2] + 0.5 * obs[3] + 0.01 * obs[0] + 0.1 * obs[1] > 0)


def _random_box(scale: float) -> Policy:
    return lambda obs, rng: np.array([rng.uniform(-scale, scale)], dtype=np.float32)


# task id, state sampler, state dtype gymnasium keeps, policy
CASES: list[tuple[str, Callable[[np.random.Generator], np.ndarray], Any, Policy]] = [
    ("CartPole-v1", lambda r: r.uniform(-0.05, 0.05, 4), np.float64, _random_discrete(2)),
    ("CartPole-v1", lambda r: r.uniform(-0.05, 0.05, 4), np.float64, _balance),
    ("CartPole-v1", lambda r: np.array([2.3, 1.0, 0.2, 0.5]), np.float64, _random_discrete(2)),
    ("Pendulum-v1", lambda r: r.uniform([-np.pi, -1], [np.pi, 1]), np.float64, _random_box(2.0)),
    ("Pendulum-v1", lambda r: r.uniform([-np.pi, -8], [np.pi, 8]), np.float64, _random_box(3.0)),  # clipped torques
    ("MountainCar-v0", lambda r: np.array([r.uniform(-0.6, -0.4), 0.0]), np.float64, _random_discrete(3)),
    ("MountainCar-v0", lambda r: np.array([-1.15, -0.05]), np.float64, _random_discrete(3)),  # left wall
    ("MountainCar-v0", lambda r: np.array([0.45, 0.06]), np.float64, lambda o, r: 2),  # reaches the goal
    ("MountainCarContinuous-v0", lambda r: np.array([r.uniform(-0.6, -0.4), 0.0]), np.float32, _random_box(1.0)),
    ("MountainCarContinuous-v0", lambda r: np.array([-0.5, 0.0]), np.float32, _random_box(1.5)),  # clipped
    ("MountainCarContinuous-v0", lambda r: np.array([0.4, 0.05]), np.float32, lambda o, r: np.ones(1, np.float32)),
    ("Acrobot-v1", lambda r: r.uniform(-0.1, 0.1, 4), np.float64, _random_discrete(3)),
    ("Acrobot-v1", lambda r: np.array([2.5, -2.0, 5.0, -10.0]), np.float64, _random_discrete(3)),
]


@pytest.mark.parametrize(
    ("task_id", "sampler", "dtype", "policy"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
@pytest.mark.parametrize("seed", [0, 1])
def test_parity_with_gymnasium(
    task_id: str, sampler: Callable[[np.random.Generator], np.ndarray], dtype: Any, policy: Policy, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    state = np.asarray(sampler(rng), dtype=dtype)

    ref = gymnasium.make(task_id, disable_env_checker=True)
    ref.reset(seed=seed)
    ref.unwrapped.state = state.copy()  # type: ignore[attr-defined]
    ours = envpool.make(task_id, num_envs=1, seed=seed)
    ours.reset()
    ours.set_state(0, state.astype(np.float64))

    obs = np.asarray(ref.unwrapped._get_obs() if hasattr(ref.unwrapped, "_get_obs") else state, dtype=np.float32)  # type: ignore[attr-defined]
    steps = 0
    while True:
        action = policy(obs, rng)
        ref_obs, ref_reward, ref_term, ref_trunc, _ = ref.step(action)
        batch = np.asarray([action], dtype=np.int64 if isinstance(action, int) else np.float32)
        our_obs, our_reward, our_term, our_trunc, info = ours.step(batch)
        steps += 1
        where = f"{task_id} step {steps}"
        np.testing.assert_allclose(our_obs[0], ref_obs, rtol=1e-6, atol=1e-6, err_msg=where)
        np.testing.assert_allclose(our_reward[0], ref_reward, rtol=1e-6, atol=1e-6, err_msg=where)
        assert bool(our_term[0]) == ref_term, where
        assert bool(our_trunc[0]) == ref_trunc, where
        assert info["elapsed_step"][0] == steps
        obs = np.asarray(ref_obs, dtype=np.float32)
        if ref_term or ref_trunc:
            break
    # Our env resets itself on the step after the episode ended.
    _, reward, terminated, truncated, info = ours.step(batch)
    assert info["elapsed_step"][0] == 0 and reward[0] == 0 and not terminated[0] and not truncated[0]


def test_cases_cover_termination_and_truncation() -> None:
    """The balancing policy reaches CartPole's time limit; MountainCar's goal case terminates."""
    ours = envpool.make("CartPole-v1", num_envs=1)
    obs, _ = ours.reset()
    for _ in range(500):
        obs, _, term, trunc, _ = ours.step(np.array([_balance(obs[0], np.random.default_rng())]))
        assert not term[0]
    assert trunc[0]
