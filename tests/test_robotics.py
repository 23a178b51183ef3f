"""The robotics family (Fetch*, HandReach on MuJoCo 4.0.0): batching, rewards, bad input, libmujoco."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.family("robotics")

FETCH = ("FetchReach", "FetchPush", "FetchSlide", "FetchPickAndPlace")
TASKS = [f"{n}{s}-v4" for n in FETCH for s in ("", "Dense")] + ["HandReach-v3", "HandReachDense-v3"]


def _sizes(task_id: str) -> tuple[int, int, int]:
    """(observation, goal, action) sizes of gymnasium-robotics 1.4.2."""
    if task_id.startswith("HandReach"):
        return 63, 15, 20
    return (10 if task_id.startswith("FetchReach") else 25), 3, 4


def _threshold(task_id: str) -> float:
    return 0.01 if task_id.startswith("HandReach") else 0.05


def _check_rewards(task_id: str, obs: dict[str, np.ndarray], reward: np.ndarray, info: dict[str, Any]) -> None:
    dist = np.linalg.norm(obs["achieved_goal"] - obs["desired_goal"], axis=-1)
    if "Dense" in task_id:
        np.testing.assert_allclose(reward, -dist, rtol=0, atol=1e-12)
    else:
        np.testing.assert_array_equal(reward, -(dist > _threshold(task_id)).astype(np.float64))
    np.testing.assert_array_equal(info["is_success"], (dist < _threshold(task_id)).astype(np.float64))


@pytest.mark.parametrize("task_id", TASKS)
def test_spaces_batch_step_and_time_limit(task_id: str) -> None:
    import envpool

    n_obs, n_goal, n_act = _sizes(task_id)
    env = envpool.make(task_id, num_envs=4, seed=7)
    space: Any = env.observation_space
    action_space: Any = env.action_space
    assert set(space.spaces) == {"observation", "achieved_goal", "desired_goal"}
    assert space["observation"].shape == (n_obs,) and space["observation"].dtype == np.float64
    assert space["achieved_goal"].shape == space["desired_goal"].shape == (n_goal,)
    assert action_space.shape == (n_act,) and action_space.dtype == np.float32
    assert action_space.low.min() == -1.0 and action_space.high.max() == 1.0
    assert env.spec.max_episode_steps == 50

    obs, info = env.reset()
    assert obs["observation"].shape == (4, n_obs) and obs["observation"].dtype == np.float64
    assert obs["desired_goal"].shape == (4, n_goal)
    assert info["is_success"].shape == (4,)
    rng = np.random.default_rng(0)
    first_goal = obs["desired_goal"].copy()
    start = obs["observation"].copy()
    for t in range(1, 51):
        action = rng.uniform(-1.5, 1.5, size=(4, n_act)).astype(np.float32)  # clipped to [-1, 1]
        obs, reward, terminated, truncated, info = env.step(action)
        assert reward.dtype == np.float64 and reward.shape == (4,)
        assert np.isfinite(obs["observation"]).all()
        assert not terminated.any()
        np.testing.assert_array_equal(info["elapsed_step"], t)
        np.testing.assert_array_equal(truncated, t == 50)
        np.testing.assert_array_equal(obs["desired_goal"], first_goal)  # the goal holds for the episode
        _check_rewards(task_id, obs, reward, info)
    assert not np.allclose(obs["observation"], start)  # the robot moved
    obs, reward, terminated, truncated, info = env.step(np.zeros((4, n_act), np.float32))  # auto-reset
    np.testing.assert_array_equal(info["elapsed_step"], 0)
    assert not np.allclose(obs["desired_goal"], first_goal)  # a new goal
    env.close()


def _rollout(task_id: str, seed: int, num_threads: int) -> list[np.ndarray]:
    import envpool

    env = envpool.make(task_id, num_envs=3, seed=seed, num_threads=num_threads)
    _, _, n_act = _sizes(task_id)
    rng = np.random.default_rng(1)
    obs, _ = env.reset()
    out = [obs["observation"].copy(), obs["desired_goal"].copy()]
    for _ in range(30):
        obs, reward, *_ = env.step(rng.uniform(-1, 1, size=(3, n_act)).astype(np.float32))
        out += [obs["observation"].copy(), reward.copy()]
    env.close()
    return out


@pytest.mark.parametrize("task_id", ["FetchPickAndPlace-v4", "HandReach-v3"])
def test_deterministic_for_a_seed(task_id: str) -> None:
    a = _rollout(task_id, 5, num_threads=2)
    b = _rollout(task_id, 5, num_threads=1)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    c = _rollout(task_id, 6, num_threads=2)
    assert not np.array_equal(a[1], c[1])


def test_async_batches() -> None:
    import envpool

    env = envpool.make("FetchPush-v4", num_envs=6, batch_size=3, seed=0)
    env.async_reset()
    seen: set[int] = set()
    for _ in range(20):
        obs, _, _, _, info = env.recv()
        assert obs["observation"].shape == (3, 25) and info["is_success"].shape == (3,)
        seen.update(int(i) for i in info["env_id"])
        env.send(np.zeros((3, 4), np.float32), info["env_id"])
    assert seen == set(range(6))
    env.close()


def test_non_finite_and_misshaped_actions_are_rejected() -> None:
    import envpool

    env = envpool.make("FetchReach-v4", num_envs=2)
    env.reset()
    bad = np.zeros((2, 4), np.float32)
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"action for env 1 has a non-finite value \(nan\) at index 2"):
        env.step(bad)
    bad[1, 2] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        env.step(bad)
    with pytest.raises(ValueError, match=r"expected actions of shape \(2, 4\)"):
        env.step(np.zeros((2, 3), np.float32))
    # rejected calls leave the pool usable
    obs, *_ = env.step(np.zeros((2, 4), np.float32))
    assert np.isfinite(obs["observation"]).all()
    env.close()


def test_bad_reward_type() -> None:
    import envpool

    with pytest.raises(ValueError, match="reward_type must be 'sparse' or 'dense', got 'shaped'"):
        envpool.make("FetchReach-v4", reward_type="shaped")
    with pytest.raises(TypeError, match="reward_type"):
        envpool.make("FetchReach-v4", reward_type=1)


def test_set_state_checks_its_input() -> None:
    import envpool

    env = envpool.make("FetchReach-v4", num_envs=1)
    env.reset()
    with pytest.raises(ValueError, match=r"set_state\(\) expects qpos \(15\) \+ qvel \(15\) \+ goal \(3\) = 33 values"):
        env.set_state(0, np.zeros(5))
    with pytest.raises(ValueError, match="finite"):
        env.set_state(0, np.full(33, np.nan))
    env.close()


# ---- broken model files, through the extension with an asset root of our own -------------------


@pytest.fixture
def asset_copy(tmp_path: Path) -> Path:
    """A writable copy of the installed robotics asset tree."""
    from envpool.resolution import asset_root

    root = tmp_path / "assets"
    shutil.copytree(asset_root("robotics"), root)
    return root


def _pool(root: Path, task_id: str = "FetchReach-v4") -> Any:
    from envpool.registration import native_options
    from envpool.resolution import load_family

    module = load_family("robotics")
    return module.Pool(task_id, native_options(task_id, {"reward_type": "sparse"}, asset_root=root), 1, 1, 1, [0])


def test_missing_model_file(asset_copy: Path) -> None:
    (asset_copy / "fetch" / "reach.xml").unlink()
    with pytest.raises(ValueError, match=r"robotics model file .*fetch/reach\.xml cannot be opened"):
        _pool(asset_copy)


def test_missing_included_file(asset_copy: Path) -> None:
    (asset_copy / "fetch" / "robot.xml").unlink()
    with pytest.raises(ValueError, match=r"MuJoCo 4\.0\.0 rejected model file .*fetch/reach\.xml: .*robot\.xml"):
        _pool(asset_copy)


def test_missing_mesh(asset_copy: Path) -> None:
    shutil.rmtree(asset_copy / "stls" / "hand")
    with pytest.raises(ValueError, match=r"rejected model file .*hand/reach\.xml: .*\.stl"):
        _pool(asset_copy, "HandReach-v3")


def test_corrupted_model_file(asset_copy: Path) -> None:
    path = asset_copy / "fetch" / "push.xml"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # truncated mid-element
    with pytest.raises(ValueError, match=r"rejected model file .*fetch/push\.xml: .*XML"):
        _pool(asset_copy, "FetchPush-v4")
    path.write_bytes(b"\x00\xff garbage \x13" * 40)
    with pytest.raises(ValueError, match=r"rejected model file .*fetch/push\.xml"):
        _pool(asset_copy, "FetchPush-v4")


def test_model_mujoco_rejects(asset_copy: Path) -> None:
    path = asset_copy / "fetch" / "slide.xml"
    text = path.read_text()
    path.write_text(text.replace("<worldbody>", '<worldbody><geom type="box" size="-1 0 0" bogus="1"/>', 1))
    with pytest.raises(ValueError, match=r"MuJoCo 4\.0\.0 rejected model file .*fetch/slide\.xml: .*bogus"):
        _pool(asset_copy, "FetchSlide-v4")


def test_model_that_is_not_a_fetch_robot(asset_copy: Path) -> None:
    (asset_copy / "fetch" / "reach.xml").write_text(
        '<mujoco><worldbody><body name="b"><freejoint/><geom size="0.1"/></body></worldbody></mujoco>'
    )
    with pytest.raises(ValueError, match=r"fetch/reach\.xml must have exactly one mocap body, has 0"):
        _pool(asset_copy)
    (asset_copy / "fetch" / "reach.xml").write_text(
        '<mujoco><worldbody><body name="m" mocap="true"><geom size="0.1" contype="0"/></body></worldbody></mujoco>'
    )
    with pytest.raises(ValueError, match=r"fetch/reach\.xml has no site named 'robot0:grip'"):
        _pool(asset_copy)


def test_mujoco_error_is_an_exception(asset_copy: Path) -> None:
    """mju_error (here: the arena is too small for a step) raises instead of exiting the process."""
    path = asset_copy / "fetch" / "reach.xml"
    path.write_text(path.read_text().replace("<mujoco>", '<mujoco><size memory="20K"/>', 1))
    with pytest.raises(RuntimeError, match=r"MuJoCo error: mj_stackAlloc: out of memory"):
        _pool(asset_copy)
    # the process and the family still work
    from envpool.resolution import asset_root

    pool = _pool(asset_root("robotics"))
    obs, *_ = pool.reset(np.zeros(1, np.int32))
    assert np.isfinite(obs[0]).all()
    pool.close()


# ---- where libmujoco comes from ------------------------------------------------------------------


def test_libmujoco_comes_from_mujoco_core() -> None:
    from importlib import metadata

    import envpool
    from envpool import robotics_loader

    env = envpool.make("FetchReach-v4")
    path = robotics_loader.library_path()
    assert path.name == "libmujoco.so.4.0.0"
    dist_root = Path(str(metadata.distribution("mujoco-core").locate_file(""))).resolve()
    assert path.resolve().is_relative_to(dist_root)
    assert robotics_loader.loaded_path() == str(path)
    maps = Path("/proc/self/maps").read_text()
    mapped = {line.split()[-1] for line in maps.splitlines() if "libmujoco" in line}
    assert mapped == {str(path.resolve())}, mapped
    # the core wheel carries no MuJoCo of its own
    assert not list(Path(envpool.__file__).parent.rglob("libmujoco*"))
    env.close()
