"""The procgen family (QtMaze-v0, QtDodge-v0): batching, determinism, level seeds, frames, options."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.family("procgen")

GAMES = ("QtMaze-v0", "QtDodge-v0")


def _rollout(task_id: str, steps: int, num_envs: int, **kwargs: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import envpool

    env = envpool.make(task_id, num_envs=num_envs, **kwargs)
    n = num_envs
    rng = np.random.default_rng(0)
    obs, _ = env.reset()
    frames, rewards, dones = [obs.copy()], [], []
    for _ in range(steps):
        obs, rew, term, trunc, _ = env.step(rng.integers(0, 15, size=n))
        frames.append(obs.copy())
        rewards.append(rew.copy())
        dones.append(term | trunc)
    env.close()
    return np.stack(frames), np.stack(rewards), np.stack(dones)


@pytest.mark.parametrize("task_id", GAMES)
def test_spaces_and_batch_step(task_id: str) -> None:
    import envpool

    env = envpool.make(task_id, num_envs=4, seed=3)
    assert env.observation_space.shape == (64, 64, 3)
    assert env.observation_space.dtype == np.uint8
    assert env.action_space.n == 15
    obs, _ = env.reset()
    assert obs.shape == (4, 64, 64, 3) and obs.dtype == np.uint8
    for _ in range(20):
        obs, rew, term, trunc, _info = env.step(np.arange(4) % 15)
        assert obs.shape == (4, 64, 64, 3)
        assert rew.shape == (4,) and term.shape == (4,) and trunc.shape == (4,)
    # frames are drawn, not blank: many colours in each
    for frame in obs:
        assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 4
    env.close()


@pytest.mark.parametrize("task_id", GAMES)
def test_deterministic_for_a_seed(task_id: str) -> None:
    a = _rollout(task_id, 60, num_envs=3, seed=11, num_threads=2)
    b = _rollout(task_id, 60, num_envs=3, seed=11, num_threads=1)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    c = _rollout(task_id, 60, num_envs=3, seed=12, num_threads=2)
    assert not np.array_equal(a[0][0], c[0][0])


def _first_frames(task_id: str, n_resets: int, **kwargs: object) -> list[bytes]:
    """The first frame of ``n_resets`` successive episodes of one env (reset -> new level)."""
    import envpool

    env = envpool.make(task_id, num_envs=1, **kwargs)
    out = []
    for _ in range(n_resets):
        obs, _ = env.reset()
        out.append(obs[0].tobytes())
    env.close()
    return out


@pytest.mark.parametrize("task_id", GAMES)
def test_num_levels_and_start_level(task_id: str) -> None:
    # num_levels=1: every episode is the level start_level, whatever the env seed
    one = _first_frames(task_id, 6, seed=1, num_levels=1, start_level=5)
    assert len(set(one)) == 1
    assert _first_frames(task_id, 2, seed=999, num_levels=1, start_level=5)[0] == one[0]
    # another start_level is another level
    assert _first_frames(task_id, 1, seed=1, num_levels=1, start_level=6)[0] != one[0]
    # num_levels=3: at most 3 distinct levels, and with 40 episodes all 3 show up
    three = _first_frames(task_id, 40, seed=2, num_levels=3, start_level=100)
    assert len(set(three)) == 3
    # levels [100, 103) are [100], [101], [102]
    singles = {_first_frames(task_id, 1, seed=7, num_levels=1, start_level=s)[0] for s in (100, 101, 102)}
    assert set(three) == singles
    # num_levels=0: unlimited levels, episodes differ
    many = _first_frames(task_id, 10, seed=3, num_levels=0)
    assert len(set(many)) >= 9


@pytest.mark.parametrize("task_id", GAMES)
def test_distribution_modes_differ(task_id: str) -> None:
    easy = _first_frames(task_id, 8, seed=4, distribution_mode="easy")
    hard = _first_frames(task_id, 8, seed=4, distribution_mode="hard")
    assert easy != hard


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"num_levels": -1}, "num_levels must be >= 0"),
        ({"start_level": -5}, "start_level must be in"),
        ({"start_level": 2**31}, "start_level must be in"),
        ({"num_levels": 10, "start_level": 2**31 - 5}, "start_level + num_levels"),
        ({"distribution_mode": "extreme"}, "distribution_mode must be 'easy' or 'hard'"),
        ({"distribution_mode": "EASY"}, "distribution_mode must be 'easy' or 'hard'"),
    ],
)
def test_invalid_options(options: dict[str, object], message: str) -> None:
    import envpool

    with pytest.raises(ValueError, match=re.escape(message)):
        envpool.make("QtMaze-v0", **options)


def test_wrong_option_type() -> None:
    import envpool

    with pytest.raises(TypeError, match="num_levels"):
        envpool.make("QtDodge-v0", num_levels="3")


def test_maze_episode_ends_with_reward_or_time_limit() -> None:
    import envpool

    env = envpool.make("QtMaze-v0", num_envs=8, seed=0, distribution_mode="easy")
    env.reset()
    rng = np.random.default_rng(1)
    ended = np.zeros(8, bool)
    total = np.zeros(8)
    for _ in range(520):
        _, rew, term, trunc, info = env.step(rng.choice([1, 3, 5, 7], size=8))
        total += rew
        assert np.all(rew[term] == 10.0)  # reaching the goal is the only reward
        assert np.all(rew[~term] == 0.0)
        assert not np.any(term & trunc)
        ended |= term | trunc
        if np.any(trunc):
            assert np.all(info["elapsed_step"][trunc] == 500)
    env.close()
    assert ended.all()
    assert total.sum() > 0  # a random walk solves some easy mazes within 500 steps


def test_dodge_rewards_and_failures() -> None:
    import envpool

    env = envpool.make("QtDodge-v0", num_envs=16, seed=0)
    env.reset()
    rng = np.random.default_rng(2)
    coins = deaths = 0
    for _ in range(300):
        _, rew, term, _trunc, _ = env.step(rng.integers(0, 9, size=16))
        assert np.all((rew == np.round(rew)) & (rew >= 0))
        coins += int((rew >= 1).sum())
        deaths += int((term & (rew < 10)).sum())
    env.close()
    assert coins > 0  # random play picks up coins
    assert deaths > 0  # and runs into hazards


def test_noop_keys_do_not_move() -> None:
    """Actions 9-14 are procgen's D/A/W/S/Q/E keys, no-ops here: the maze frame stays the same."""
    import envpool

    env = envpool.make("QtMaze-v0", num_envs=1, seed=5, num_levels=1, start_level=3)
    obs0, _ = env.reset()
    for a in (4, 9, 10, 11, 12, 13, 14):
        obs, *_ = env.step(np.array([a]))
        np.testing.assert_array_equal(obs, obs0)
    env.close()


def test_qt_comes_from_the_library_wheel() -> None:
    import envpool_procgen_libs

    import envpool

    envpool.make("QtMaze-v0")
    from envpool import _procgen  # type: ignore[attr-defined]

    loaded = envpool_procgen_libs.load()
    assert Path(_procgen.qt_core_path()).parent == loaded.directory
    assert _procgen.qt_version() == loaded.qt_version == envpool_procgen_libs.manifest()["qt_version"]
    assert envpool_procgen_libs.foreign_mappings() == []
    assert loaded.version == envpool.__version__
