"""The DoomNav tasks (vizdoom family): batched stepping, determinism, rewards and termination,
and the WAD reader against the omgifol oracle on the real asset files."""

from __future__ import annotations

import importlib
import math
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest

import envpool

TASKS = ["DoomNav-MyWayHome-v0", "DoomNav-HealthGathering-v0", "DoomNav-Freedoom2Map01-v0"]
FORWARD, BACKWARD, TURN_LEFT, TURN_RIGHT, STRAFE_LEFT, STRAFE_RIGHT, NOOP = range(7)

vizdoom = pytest.mark.family("vizdoom")


def asset_root() -> Path:
    import envpool_assets_vizdoom

    return Path(envpool_assets_vizdoom.root())


def read_wad(path: Path) -> dict[str, Any]:
    module = importlib.import_module("envpool._vizdoom")  # in the core wheel, whatever the extras
    result: dict[str, Any] = module.read_wad(str(path))
    return result


@pytest.mark.family_absent("vizdoom")
def test_make_without_the_extra_names_the_pip_line() -> None:
    with pytest.raises(envpool.MissingExtraError) as info:
        envpool.make("DoomNav-MyWayHome-v0")
    assert f'pip install "envpool[vizdoom]=={envpool.__version__}"' in str(info.value)


@vizdoom
@pytest.mark.parametrize("task_id", TASKS)
def test_batch_steps_and_frames_change(task_id: str) -> None:
    env = envpool.make(task_id, num_envs=4, seed=3)
    try:
        assert env.action_space == gymnasium.spaces.Discrete(7)
        obs, info = env.reset()
        assert obs.shape == (4, 120, 160, 3) and obs.dtype == np.uint8
        assert env.observation_space.contains(obs[0])
        for frame in obs:
            assert frame.std() > 10, "blank frame"
            assert len(np.unique(frame.reshape(-1, 3), axis=0)) > 30, "too few colours for a textured view"
        first = obs.copy()
        # turn, then walk: every env's view must change
        for _ in range(3):
            obs, *_ = env.step(np.full(4, TURN_LEFT))
        turned = obs.copy()
        for _ in range(4):
            obs, reward, _, _, info = env.step(np.full(4, FORWARD))
        for i in range(4):
            assert np.abs(turned[i].astype(int) - first[i]).mean() > 2, f"env {i}: turning did not change the view"
            assert not np.array_equal(obs[i], turned[i]), f"env {i}: walking did not change the view"
        assert reward.dtype == np.float64 and list(info["env_id"]) == [0, 1, 2, 3]
    finally:
        env.close()


def _rollout(task_id: str, seed: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    env = envpool.make(task_id, num_envs=2, seed=seed)
    actions = np.random.default_rng(0).integers(0, 7, size=(steps, 2))
    frames, rewards = [env.reset()[0]], [np.zeros(2)]
    for a in actions:
        obs, reward, _, _, _ = env.step(a)
        frames.append(obs)
        rewards.append(reward)
    env.close()
    return np.stack(frames), np.stack(rewards)


@vizdoom
@pytest.mark.parametrize("task_id", TASKS)
def test_deterministic_for_a_seed(task_id: str) -> None:
    f1, r1 = _rollout(task_id, seed=7, steps=40)
    f2, r2 = _rollout(task_id, seed=7, steps=40)
    assert np.array_equal(f1, f2) and np.array_equal(r1, r2)


@vizdoom
def test_seed_changes_my_way_home_spawn() -> None:
    starts = {_rollout("DoomNav-MyWayHome-v0", seed=s, steps=0)[0][0, 0].tobytes() for s in range(6)}
    assert len(starts) > 1, "random MapSpot spawn ignores the seed"


@vizdoom
def test_health_gathering_drains_to_death_when_idle() -> None:
    # Damage_LavaHefty floor: 8 health every 16 tics -> 13 hits (208 tics, 52 steps of 4) from 100,
    # unless a medikit happens to spawn under the player.
    env = envpool.make("DoomNav-HealthGathering-v0", num_envs=1, seed=0)
    env.reset()
    total, steps = 0.0, 0
    for _ in range(env.spec.max_episode_steps):
        _, reward, terminated, truncated, _ = env.step(np.array([NOOP]))
        total += float(reward[0])
        steps += 1
        if terminated[0] or truncated[0]:
            break
    env.close()
    assert terminated[0] and not truncated[0]
    assert steps >= 52
    assert total == pytest.approx(4 * steps - 100)  # living_reward 1 per tic, death_penalty 100
    assert float(reward[0]) == pytest.approx(4 - 100)


@vizdoom
def test_health_gathering_medikit_extends_life() -> None:
    """Walking over the floor collects medikits, so a walking player outlives an idle one on average."""

    def lifetime(action: int, seed: int) -> int:
        env = envpool.make("DoomNav-HealthGathering-v0", num_envs=8, seed=seed)
        env.reset()
        alive = np.ones(8, dtype=bool)
        life = np.zeros(8, dtype=int)
        rng = np.random.default_rng(seed)
        for _ in range(env.spec.max_episode_steps):
            a = np.full(8, action) if action >= 0 else rng.choice([FORWARD, FORWARD, TURN_LEFT, TURN_RIGHT], 8)
            _, _, terminated, truncated, _ = env.step(a)
            life += alive
            alive &= ~(terminated | truncated)
            if not alive.any():
                break
        env.close()
        return int(life.sum())

    assert lifetime(-1, 1) > lifetime(NOOP, 1)


@vizdoom
def test_my_way_home_goal_gives_reward_and_ends() -> None:
    info = read_wad(asset_root() / "scenarios" / "my_way_home.wad")["maps"]["MAP01"]
    gx, gy = next((x, y) for x, y, t in info["thing_xyt"] if t == 2018)  # the green armor goal
    env = envpool.make("DoomNav-MyWayHome-v0", num_envs=1, seed=0)
    env.reset()
    # 150 units north of the armor, facing south (the goal room opens to the north)
    env.set_state(0, [gx, gy + 150, 270.0])
    rewards = []
    for _ in range(30):
        _, reward, terminated, _, _ = env.step(np.array([FORWARD]))
        rewards.append(float(reward[0]))
        if terminated[0]:
            break
    env.close()
    assert terminated[0], "walking into the goal did not end the episode"
    # the episode ends on the pickup tic: +1 plus living_reward for the 1..4 tics run in that step
    assert any(rewards[-1] == pytest.approx(1.0 - k * 0.0001) for k in range(1, 5)), rewards[-1]
    assert all(r == pytest.approx(-4 * 0.0001) for r in rewards[:-1])


@vizdoom
def test_my_way_home_times_out_without_reward() -> None:
    env = envpool.make("DoomNav-MyWayHome-v0", num_envs=1, seed=0, frame_skip=35)
    assert env.spec.max_episode_steps == 60  # episode_timeout 2100 tics from the scenario cfg
    env.reset()
    truncations = []
    for _ in range(60):
        _, reward, terminated, truncated, _ = env.step(np.array([TURN_LEFT]))
        assert not terminated[0]
        assert float(reward[0]) == pytest.approx(-35 * 0.0001)
        truncations.append(bool(truncated[0]))
    assert truncations == [False] * 59 + [True]
    env.close()


@vizdoom
def test_freedoom2_map01_exit_switch_ends_the_episode() -> None:
    info = read_wad(asset_root() / "freedoom2.wad")["maps"]["MAP01"]
    v1, v2, _, _, _ = next(line for line in info["linedef_refs"] if line[4] == 11)  # S1 exit switch
    (x1, y1), (x2, y2) = info["vertex_xy"][v1], info["vertex_xy"][v2]
    length = math.hypot(x2 - x1, y2 - y1)
    nx, ny = (y2 - y1) / length, -(x2 - x1) / length  # towards the front (right) side
    mx, my = (x1 + x2) / 2, (y1 + y2) / 2
    facing = math.degrees(math.atan2(-ny, -nx))
    env = envpool.make("DoomNav-Freedoom2Map01-v0", num_envs=2, seed=0)
    env.reset()
    env.set_state(0, [mx + 40 * nx, my + 40 * ny, facing])  # in reach, facing the switch
    env.set_state(1, [mx + 40 * nx, my + 40 * ny, facing + 180])  # in reach, back to the switch
    _, reward, terminated, _, _ = env.step(np.array([NOOP, NOOP]))
    env.close()
    assert list(terminated) == [True, False]
    assert list(reward) == [1.0, 0.0]


@vizdoom
def test_freedoom2_map01_start_does_not_exit() -> None:
    env = envpool.make("DoomNav-Freedoom2Map01-v0", num_envs=1, seed=0)
    env.reset()
    for _ in range(30):
        _, reward, terminated, _, _ = env.step(np.array([NOOP]))
        assert not terminated[0] and reward[0] == 0.0
    env.close()


@vizdoom
def test_walls_block_the_player() -> None:
    """Walking forward into a wall stops: the view stops changing."""
    env = envpool.make("DoomNav-HealthGathering-v0", num_envs=1, seed=0)
    env.reset()
    env.set_state(0, [608.0, 608.0, 0.0, 100])
    frames = [env.step(np.array([FORWARD]))[0][0] for _ in range(60)]
    env.close()
    assert not np.array_equal(frames[0], frames[5])
    # the room is 1216 units wide: after ~600 units the player is against the east wall
    assert np.array_equal(frames[-1][:40], frames[-2][:40]), "the player walked through the wall"


# ---------------------------------------------------------------- reader vs omgifol


def _omgifol_view(path: Path) -> dict[str, Any]:
    omg = pytest.importorskip("omg")
    from omg import wadio

    raw = wadio.WadIO(str(path))
    lumps = [(e.name, int(e.ptr), int(e.size)) for e in raw.entries]
    raw.close()
    wad = omg.WAD(str(path))
    maps: dict[str, Any] = {}
    for name in wad.maps:
        m = omg.MapEditor(wad.maps[name])
        maps[name] = {
            "counts": (len(m.things), len(m.linedefs), len(m.sidedefs), len(m.vertexes), len(m.sectors)),
            "vertex_xy": [(float(v.x), float(v.y)) for v in m.vertexes],
            "thing_xyt": [(float(t.x), float(t.y), int(t.type)) for t in m.things],
        }
    for name in wad.udmfmaps:
        u = omg.UMapEditor(wad.udmfmaps[name])
        maps[name] = {
            "counts": (len(u.things), len(u.linedefs), len(u.sidedefs), len(u.vertexes), len(u.sectors)),
            "vertex_xy": [(float(v.x), float(v.y)) for v in u.vertexes],
            "thing_xyt": [(float(t.x), float(t.y), int(t.type)) for t in u.things],
        }
    return {"lumps": lumps, "maps": maps}


@vizdoom
@pytest.mark.parametrize("relpath", ["freedoom2.wad", "scenarios/my_way_home.wad", "scenarios/health_gathering.wad"])
def test_reader_matches_omgifol(relpath: str) -> None:
    path = asset_root() / relpath
    oracle = _omgifol_view(path)
    ours = read_wad(path)
    assert ours["kind"] == path.read_bytes()[:4].decode()
    assert [(n, o, s) for n, o, s in ours["lumps"]] == oracle["lumps"]
    assert sorted(ours["maps"]) == sorted(oracle["maps"])
    assert ours["maps"], "no map found"
    rng = np.random.default_rng(0)
    for name, want in oracle["maps"].items():
        got = ours["maps"][name]
        counts = (got["things"], got["linedefs"], got["sidedefs"], got["vertexes"], got["sectors"])
        assert counts == want["counts"], name
        for key in ("vertex_xy", "thing_xyt"):
            n = len(want[key])
            for i in rng.choice(n, size=min(n, 50), replace=False):
                assert got[key][i] == pytest.approx(want[key][i]), f"{name} {key}[{i}]"
    if relpath == "freedoom2.wad":
        assert len(ours["maps"]) == 32 and ours["textures"] > 100 and ours["palette"]
    else:
        assert all(m["format"] == "udmf" for m in ours["maps"].values())


@vizdoom
def test_set_state_rejects_bad_states() -> None:
    env = envpool.make("DoomNav-HealthGathering-v0", num_envs=1, seed=0)
    env.reset()
    with pytest.raises(ValueError, match="outside the map"):
        env.set_state(0, [-5000.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="health"):
        env.set_state(0, [608.0, 608.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="state is"):
        env.set_state(0, [608.0, 608.0])
    env.close()
