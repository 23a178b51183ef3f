"""Parity of the robotics family with gymnasium-robotics 1.4.2 on the same MuJoCo 4.0.0.

Both run in this process on the same libmujoco.so.4.0.0 (mujoco-core). For each episode the oracle
is reset, its state (qpos, qvel, goal) is copied into our env with ``set_state``, and both get the
same actions; observations, rewards and ``is_success`` must agree to 1e-6 (they agree to ~1e-16).
What cannot be copied, the random streams of reset, is checked against the oracle's attributes and
its own resets (the same patterns in the same shares, the same distributions): no constant of
gymnasium-robotics is typed here.
"""

from __future__ import annotations

import math
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


def _oracle_resets(ref: Any, n: int = 1000) -> dict[str, np.ndarray]:
    """The goals of ``n`` resets of the gymnasium-robotics env ``ref`` (seeded once), stacked."""
    ref.reset(seed=5)
    rows = [ref.reset()[0] for _ in range(n)]
    keys = ("desired_goal", "achieved_goal")
    return {key: np.stack([np.array(r[key], dtype=np.float64) for r in rows]) for key in keys}


#: Significance of each comparison of ours (400 resets) with the oracle's (1000). Both streams are
#: seeded, so a pass or a failure is reproducible; the bounds are about as tight as the hand-typed
#: ranges they replace (e.g. a share of 0.5 must agree within 0.10, one of 0.1 within 0.06).
ALPHA = 1e-3
SHARE_ERRORS = 3.5


def _same_distribution(ours: np.ndarray, theirs: np.ndarray, what: str, *, bounded: bool = True) -> None:
    """Two-sample Kolmogorov-Smirnov: ours and the oracle's samples come from one distribution. For a
    ``bounded`` one (uniform draws) the smallest and largest samples also agree within 5% of the
    oracle's range, which catches a range too wide or too narrow that KS alone might miss."""
    a, b = np.sort(ours), np.sort(theirs)
    grid = np.concatenate([a, b])
    cdf_a, cdf_b = np.searchsorted(a, grid, side="right") / len(a), np.searchsorted(b, grid, side="right") / len(b)
    distance = np.abs(cdf_a - cdf_b).max()
    bound = math.sqrt(-math.log(ALPHA / 2) * (len(a) + len(b)) / (2 * len(a) * len(b)))
    assert distance < bound, f"{what}: KS distance {distance:.3f} >= {bound:.3f} from gymnasium-robotics"
    if bounded:
        pad = 0.05 * (b[-1] - b[0]) + 1e-12
        spans = f"ours span [{a[0]}, {a[-1]}], theirs [{b[0]}, {b[-1]}]"
        assert abs(a[0] - b[0]) <= pad and abs(a[-1] - b[-1]) <= pad, f"{what}: {spans}"


def _same_share(ours: np.ndarray, theirs: np.ndarray, what: str) -> None:
    """Two shares of True (e.g. episodes whose goal stays on the table) agree within SHARE_ERRORS errors."""
    p = (ours.sum() + theirs.sum()) / (len(ours) + len(theirs))
    error = math.sqrt(p * (1 - p) * (1 / len(ours) + 1 / len(theirs)))
    gap = abs(ours.mean() - theirs.mean())
    assert gap <= SHARE_ERRORS * error + 1e-12, f"{what}: {ours.mean():.3f} vs {theirs.mean():.3f}"


@pytest.mark.parametrize("task_id", ["FetchReach-v4", "FetchPush-v4", "FetchSlide-v4", "FetchPickAndPlace-v4"])
def test_fetch_reset_sampling_ranges(gym_robotics: Any, task_id: str) -> None:
    """Goals and object starts: the env's ranges (its attributes), then the oracle's own resets."""
    ref = gym_robotics.make(task_id).unwrapped
    theirs = _oracle_resets(ref)
    gripper = ref.initial_gripper_xpos[:3]
    obs = _many_resets(task_id)
    goal = obs["desired_goal"]
    offset = np.broadcast_to(np.asarray(ref.target_offset, dtype=np.float64), (3,))
    r = ref.target_range
    # goal xy = gripper xy + U(-r, r) + offset, spread over the whole range
    rel = goal[:, :2] - gripper[:2] - offset[:2]
    assert (np.abs(rel) <= r + 1e-12).all()
    assert (rel.min(axis=0) < -0.8 * r).all() and (rel.max(axis=0) > 0.8 * r).all()
    for axis, name in enumerate("xy"):
        _same_distribution(goal[:, axis], theirs["desired_goal"][:, axis], f"goal {name}")
    if not ref.has_object:
        relz = goal[:, 2] - gripper[2]
        assert (np.abs(relz) <= r + 1e-12).all() and relz.min() < -0.8 * r and relz.max() > 0.8 * r
        _same_distribution(goal[:, 2], theirs["desired_goal"][:, 2], "goal z")
        np.testing.assert_allclose(obs["achieved_goal"], np.broadcast_to(gripper, goal.shape), atol=TOL)
        return
    lift, their_lift = goal[:, 2] - ref.height_offset, theirs["desired_goal"][:, 2] - ref.height_offset
    on_table, their_on_table = np.isclose(lift, 0.0, atol=1e-9), np.isclose(their_lift, 0.0, atol=1e-9)
    assert (lift >= -1e-9).all()
    if ref.target_in_the_air:  # some goals on the table, the others in the air
        _same_share(on_table, their_on_table, "goals on the table")
        _same_distribution(lift[~on_table], their_lift[~their_on_table], "goal height in the air")
    else:
        assert on_table.all() and their_on_table.all()
    # the object starts within obj_range of the gripper in xy, as far from it as the oracle's does
    obj, their_obj = obs["achieved_goal"], theirs["achieved_goal"]
    d = obj[:, :2] - gripper[:2]
    assert (np.abs(d) <= ref.obj_range + 1e-9).all()
    for axis, name in enumerate("xy"):
        _same_distribution(obj[:, axis], their_obj[:, axis], f"object start {name}")
    distance = np.linalg.norm(their_obj[:, :2] - gripper[:2], axis=1)
    # bounded=False: few draws land near the corners of the square, so its maximum is a loose estimate
    _same_distribution(np.linalg.norm(d, axis=1), distance, "object distance from the gripper", bounded=False)
    assert np.linalg.norm(d, axis=1).min() >= distance.min() - 0.05 * np.ptp(distance)  # as close as theirs
    np.testing.assert_allclose(obj[:, 2], ref.height_offset, atol=1e-6)


def test_hand_reset_goal_distribution(gym_robotics: Any) -> None:
    """Which fingertips get a new goal, in what shares, and where: as the oracle's own resets."""
    ref = gym_robotics.make("HandReach-v3").unwrapped
    initial = ref.initial_goal.reshape(5, 3)
    theirs = _oracle_resets(ref)["desired_goal"].reshape(-1, 5, 3)
    goals = _many_resets("HandReach-v3")["desired_goal"].reshape(-1, 5, 3)

    def moved(g: np.ndarray) -> np.ndarray:  # which fingertips got a new goal, per episode
        return ~np.isclose(g, initial, atol=1e-12).all(axis=2)

    ours_moved, their_moved = moved(goals), moved(theirs)
    patterns = {tuple(row) for row in their_moved}
    assert {tuple(row) for row in ours_moved} == patterns
    for pattern in sorted(patterns):
        _same_share((ours_moved == pattern).all(axis=1), (their_moved == pattern).all(axis=1), f"tips moved {pattern}")
    for tip in range(5):
        for axis, name in enumerate("xyz"):
            ours_tip, their_tip = goals[ours_moved[:, tip], tip, axis], theirs[their_moved[:, tip], tip, axis]
            _same_distribution(ours_tip, their_tip, f"goal of tip {tip}, {name}", bounded=False)  # normal jitter

    def spread(g: np.ndarray, m: np.ndarray) -> np.ndarray:  # the largest distance between two moved tips' goals
        rows = np.flatnonzero(m.sum(axis=1) >= 2)
        pairs = [(i, j) for i in range(5) for j in range(i + 1, 5)]
        both = np.array([[m[r, i] and m[r, j] for i, j in pairs] for r in rows])
        dist = np.array([[np.linalg.norm(g[r, i] - g[r, j]) for i, j in pairs] for r in rows])
        return np.where(both, dist, 0.0).max(axis=1)

    ours_spread, their_spread = spread(goals, ours_moved), spread(theirs, their_moved)
    _same_distribution(ours_spread, their_spread, "distance between the moved goals", bounded=False)
