"""The batched engine through the public API: sync and async stepping, auto-reset, seeding."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import envpool


def test_sync_step_returns_every_env_in_order() -> None:
    env = envpool.make("CartPole-v1", num_envs=8)
    assert isinstance(env.observation_space, gymnasium.spaces.Box)
    assert env.action_space == gymnasium.spaces.Discrete(2)
    obs, info = env.reset()
    assert obs.shape == (8, 4) and obs.dtype == np.float32
    assert info["env_id"].tolist() == list(range(8))
    assert (info["elapsed_step"] == 0).all()
    for t in range(1, 4):
        obs, reward, terminated, truncated, info = env.step(np.ones(8, dtype=np.int64))
        assert obs.shape == (8, 4) and obs.dtype == np.float32
        assert reward.shape == (8,) and reward.dtype == np.float64
        assert terminated.dtype == np.bool_ and truncated.dtype == np.bool_
        assert info["env_id"].tolist() == list(range(8))
        assert (info["elapsed_step"] == t).all()
    assert all(env.observation_space.contains(o) for o in obs)
    env.close()


def test_async_recv_returns_batches_with_ids() -> None:
    env = envpool.make("CartPole-v1", num_envs=8, batch_size=3, num_threads=2)
    env.async_reset()
    seen: dict[int, int] = {}
    for _ in range(40):
        obs, _reward, _terminated, _truncated, info = env.recv()
        ids = info["env_id"]
        assert obs.shape == (3, 4) and len(set(ids.tolist())) == 3
        for i in ids.tolist():
            seen[i] = seen.get(i, 0) + 1
        env.send(np.zeros(3, dtype=np.int64), ids)
    assert set(seen) == set(range(8))  # every env is served


def test_autoreset_after_termination() -> None:
    env = envpool.make("CartPole-v1", num_envs=1)
    env.reset()
    for _ in range(500):
        _, _, terminated, _, _ = env.step(np.zeros(1, dtype=np.int64))
        if terminated[0]:
            break
    assert terminated[0], "pushing left always must end the episode"
    obs, reward, terminated, _truncated, info = env.step(np.zeros(1, dtype=np.int64))
    assert info["elapsed_step"][0] == 0 and reward[0] == 0.0 and not terminated[0]
    assert np.all(np.abs(obs) <= 0.05)  # a fresh reset state


def test_truncation_at_time_limit() -> None:
    env = envpool.make("Pendulum-v1", num_envs=2)
    env.reset()
    for t in range(1, 201):
        _, _, terminated, truncated, _info = env.step(np.zeros((2, 1), dtype=np.float32))
        assert not terminated.any()
        assert truncated.all() == (t == 200)
    assert env.spec.max_episode_steps == 200


@pytest.mark.parametrize("task_id", ["CartPole-v1", "Pendulum-v1", "MountainCar-v0", "Acrobot-v1"])
def test_seeding_is_deterministic(task_id: str) -> None:
    def rollout(seed: int) -> np.ndarray:
        env = envpool.make(task_id, num_envs=4, seed=seed)
        obs, _ = env.reset()
        frames = [obs]
        rng = np.random.default_rng(0)
        for _ in range(20):
            action: np.ndarray
            if isinstance(env.action_space, gymnasium.spaces.Discrete):
                action = rng.integers(0, env.action_space.n, size=4)
            else:
                action = rng.uniform(-1, 1, size=(4, *env.action_space.shape)).astype(np.float32)
            frames.append(env.step(action)[0])
        return np.stack(frames)

    np.testing.assert_array_equal(rollout(1), rollout(1))
    assert not np.array_equal(rollout(1), rollout(2))


def test_seed_per_env_sequence() -> None:
    a = envpool.make("CartPole-v1", num_envs=3, seed=[5, 6, 7]).reset()[0]
    b = envpool.make("CartPole-v1", num_envs=3, seed=5).reset()[0]
    np.testing.assert_array_equal(a, b)


def test_make_spec_and_config() -> None:
    spec = envpool.make_spec("MountainCarContinuous-v0", num_envs=4, batch_size=2, seed=3)
    assert spec.max_episode_steps == 999
    assert spec.action_space.shape == (1,) and spec.action_space.dtype == np.float32
    assert spec.config["seed"] == [3, 4, 5, 6] and spec.config["batch_size"] == 2
    assert envpool.make_gymnasium("Acrobot-v1").observation_space.shape == (6,)


def test_many_envs_many_threads() -> None:
    env = envpool.make("Acrobot-v1", num_envs=64, num_threads=4)
    env.reset()
    for _ in range(50):
        obs, *_ = env.step(np.ones(64, dtype=np.int64))
    assert obs.shape == (64, 6) and np.isfinite(obs).all()


def test_context_manager_closes() -> None:
    with envpool.make("CartPole-v1", num_envs=2) as env:
        env.reset()
    with pytest.raises(RuntimeError, match="closed"):
        env.step(np.zeros(2, dtype=np.int64))
