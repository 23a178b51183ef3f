"""Parity of the robotics family with gymnasium-robotics 1.4.2 on the same MuJoCo 4.0.0.

Both run in this process on the same libmujoco.so.4.0.0 (mujoco-core). For each episode the oracle
is reset, its state (qpos, qvel, goal) is copied into our env with ``set_state``, and both get the
same actions; observations, rewards and ``is_success`` must agree to 1e-6 (they agree to ~1e-16).
What cannot be copied, the random streams of reset, is checked by its ranges against the oracle's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.family("robotics")

TOL = 1e-6


@pytest.fixture(scope="module")
def gym_robotics() -> Any:
    """gymnasium with gymnasium-robotics 1.4.2 registered, made to run on mujoco 4.0.0.

    gymnasium-robotics 1.4.2's ``set_joint_qpos`` (and friends) asserts
    ``joint_type in (mjJNT_HINGE, mjJNT_SLIDE)``, which is False under mujoco 4.0.0 because the
    enum's ``__eq__`` no longer accepts a numpy int32. The module's own source is re-executed with
    asserts stripped (``optimize=1``); nothing else of the oracle changes.
    """
    import gymnasium
    import gymnasium_robotics
    import mujoco
    from gymnasium_robotics.utils import mujoco_utils

    assert gymnasium_robotics.__version__ == "1.4.2"
    assert mujoco.__version__ == "4.0.0"
    source = Path(mujoco_utils.__file__).read_text(encoding="utf-8")
    exec(compile(source, mujoco_utils.__file__, "exec", optimize=1), mujoco_utils.__dict__)
    gymnasium.register_envs(gymnasium_robotics)
    return gymnasium


def _compare(gym_robotics: Any, task_id: str, episodes: int = 3, steps: int = 49) -> float:
    import envpool

    ref = gym_robotics.make(task_id).unwrapped
    ours = envpool.make(task_id, num_envs=1, seed=1)
    rng = np.random.default_rng(123)
    worst = 0.0
    for episode in range(episodes):
        ref.reset(seed=episode)
        ours.reset()
        ours.set_state(0, np.concatenate([ref.data.qpos, ref.data.qvel, ref.goal]))
        for t in range(steps):
            action = rng.uniform(-1.2, 1.2, size=ref.action_space.shape).astype(np.float32)
            r_obs, r_rew, r_term, _, r_info = ref.step(action)
            o_obs, o_rew, o_term, o_trunc, o_info = ours.step(action[None])
            for key in ("observation", "achieved_goal", "desired_goal"):
                diff = float(np.abs(r_obs[key] - o_obs[key][0]).max())
                assert diff <= TOL, f"{task_id} episode {episode} step {t}: {key} differs by {diff}"
                worst = max(worst, diff)
            assert abs(float(r_rew) - float(o_rew[0])) <= TOL, (t, r_rew, o_rew)
            assert float(r_info["is_success"]) == float(o_info["is_success"][0])
            assert bool(r_term) == bool(o_term[0]) is False
            assert not o_trunc[0]
    ours.close()
    ref.close()
    return worst


@pytest.mark.parametrize(
    "task_id",
    [
        "FetchReach-v4",
        "FetchReachDense-v4",
        "FetchPush-v4",
        "FetchPushDense-v4",
        "FetchSlide-v4",
        "FetchPickAndPlace-v4",
        "HandReach-v3",
        "HandReachDense-v3",
    ],
)
def test_trajectories_match(gym_robotics: Any, task_id: str) -> None:
    worst = _compare(gym_robotics, task_id)
    assert worst <= TOL


@pytest.mark.parametrize("task_id", ["FetchReach-v4", "HandReach-v3"])
def test_reset_observation_matches(gym_robotics: Any, task_id: str) -> None:
    """Without an object the reset observation is deterministic: it checks _env_setup as is."""
    import envpool

    ref = gym_robotics.make(task_id).unwrapped
    r_obs, _ = ref.reset(seed=0)
    ours = envpool.make(task_id, num_envs=2, seed=9)
    o_obs, _ = ours.reset()
    for i in range(2):
        np.testing.assert_allclose(o_obs["observation"][i], r_obs["observation"], rtol=0, atol=TOL)
        np.testing.assert_allclose(o_obs["achieved_goal"][i], r_obs["achieved_goal"], rtol=0, atol=TOL)
    ours.close()


def _many_resets(task_id: str, n: int = 400) -> Any:
    import envpool

    env = envpool.make(task_id, num_envs=n, seed=4)
    obs, _ = env.reset()
    env.close()
    return obs


@pytest.mark.parametrize("task_id", ["FetchReach-v4", "FetchPush-v4", "FetchSlide-v4", "FetchPickAndPlace-v4"])
def test_fetch_reset_sampling_ranges(gym_robotics: Any, task_id: str) -> None:
    ref = gym_robotics.make(task_id).unwrapped
    gripper = ref.initial_gripper_xpos[:3]
    obs = _many_resets(task_id)
    goal = obs["desired_goal"]
    offset = np.broadcast_to(np.asarray(ref.target_offset, dtype=np.float64), (3,))
    r = ref.target_range
    # goal xy = gripper xy + U(-r, r) + offset, spread over the whole range
    rel = goal[:, :2] - gripper[:2] - offset[:2]
    assert (np.abs(rel) <= r + 1e-12).all()
    assert (rel.min(axis=0) < -0.8 * r).all() and (rel.max(axis=0) > 0.8 * r).all()
    if not ref.has_object:
        relz = goal[:, 2] - gripper[2]
        assert (np.abs(relz) <= r + 1e-12).all() and relz.min() < -0.8 * r and relz.max() > 0.8 * r
        np.testing.assert_allclose(obs["achieved_goal"], np.broadcast_to(gripper, goal.shape), atol=TOL)
        return
    lift = goal[:, 2] - ref.height_offset
    if ref.target_in_the_air:
        assert (lift >= -1e-12).all() and (lift < 0.45).all()
        on_table = np.isclose(lift, 0.0, atol=1e-12).mean()
        assert 0.4 < on_table < 0.6 and lift.max() > 0.4
    else:
        np.testing.assert_allclose(lift, 0.0, atol=1e-12)
    # the object starts within obj_range of the gripper in xy, but at least 10 cm away
    obj = obs["achieved_goal"]
    d = obj[:, :2] - gripper[:2]
    assert (np.abs(d) <= ref.obj_range + 1e-9).all()
    assert (np.linalg.norm(d, axis=1) >= 0.1 - 1e-9).all()
    np.testing.assert_allclose(obj[:, 2], ref.height_offset, atol=1e-6)


def test_hand_reset_goal_distribution(gym_robotics: Any) -> None:
    ref = gym_robotics.make("HandReach-v3").unwrapped
    initial = ref.initial_goal.reshape(5, 3)
    meeting_center = ref.palm_xpos + np.array([0.0, -0.09, 0.05])
    goals = _many_resets("HandReach-v3")["desired_goal"].reshape(-1, 5, 3)
    moved = ~np.isclose(goals, initial, atol=1e-12).all(axis=2)  # which fingertips got a new goal
    unchanged = ~moved.any(axis=1)
    assert 0.04 < unchanged.mean() < 0.18  # the 10% of episodes whose goal is the start pose
    pairs = moved[~unchanged]
    assert pairs[:, 4].all() and (pairs[:, :4].sum(axis=1) == 1).all()  # thumb + one finger
    assert set(np.flatnonzero(pairs[:, :4].any(axis=0))) == {0, 1, 2, 3}
    # each moved tip's goal lies 5 mm short of a common meeting point on the line from its start:
    # recover that point from the thumb and from the finger; they must agree
    rows = np.flatnonzero(~unchanged)
    finger = pairs[:, :4].argmax(axis=1)

    def meeting(tip: np.ndarray, goal: np.ndarray) -> Any:
        direction = goal - initial[tip]
        return goal + 0.005 * direction / np.linalg.norm(direction, axis=-1, keepdims=True)

    from_thumb = meeting(np.full(len(rows), 4), goals[rows, 4])
    from_finger = meeting(finger, goals[rows, finger])
    np.testing.assert_allclose(from_thumb, from_finger, atol=1e-9)
    jitter = from_thumb - meeting_center  # normal(scale=0.005) per coordinate
    assert (np.abs(jitter.mean(axis=0)) < 0.0015).all()
    assert (np.abs(jitter.std(axis=0) - 0.005) < 0.001).all()
