"""Every registered task: the one table of task ids, their options, parameters and asset files.

This is the only place a task id is defined. The C++ families know no task id: ``envpool.make``
passes each task's ``params`` and ``assets`` (with the user's ``options``) to the family's C++
code, which builds the env from them (docs/runtime.md, "Tasks: one table"). Pure data, importing
nothing from envpool: the release tools read this file from the source tree to compute which files
each asset wheel must carry, so the asset lists are never hand-kept. Time limits and spaces live
with the C++ implementation and are reported by ``make_spec``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

OptionValue = bool | int | float | str
#: A fixed parameter may also be a tuple of floats (a vector, e.g. a position).
ParamValue = bool | int | float | str | tuple[float, ...]


@dataclass(frozen=True)
class Task:
    """One registered task id."""

    task_id: str
    family: str
    #: options a user may override with ``envpool.make(task_id, **options)``, with their defaults
    options: Mapping[str, OptionValue] = field(default_factory=dict)
    #: files this task reads, relative to the family's asset root, keyed by the C++ parameter
    #: that receives the path
    assets: Mapping[str, str] = field(default_factory=dict)
    #: fixed parameters the family's C++ code builds the task from (which env, which rules, ...)
    params: Mapping[str, ParamValue] = field(default_factory=dict)

    def native(self, options: Mapping[str, OptionValue]) -> dict[str, ParamValue]:
        """The parameters, asset paths and ``options`` the family's C++ code receives (asset_root aside)."""
        return {**self.params, **self.assets, **options}


#: DoomNav options: 35 Hz tics per step (action repeat) and the observation size in pixels.
_DOOM_OPTIONS: Mapping[str, OptionValue] = {"frame_skip": 4, "height": 120, "width": 160}
_FREEDOOM2 = "freedoom2.wad"


def _doom(task_id: str, scenario: str, assets: Mapping[str, str]) -> Task:
    """A DoomNav task: ``scenario`` names its rules (cpp/vizdoom/tasks.cpp), played on map MAP01 of
    ``map_wad`` (or of the IWAD when there is none) with Freedoom2's textures."""
    params = {"scenario": scenario, "map": "MAP01"}
    return Task(task_id, "vizdoom", options=_DOOM_OPTIONS, assets={"iwad": _FREEDOOM2, **assets}, params=params)


def _qpos(joints: Mapping[str, tuple[float, ...]]) -> dict[str, ParamValue]:
    """Initial joint positions as the C++ code takes them: the names, then all values in that order."""
    return {"initial_qpos_joints": " ".join(joints), "initial_qpos": tuple(v for q in joints.values() for v in q)}


def _fetch(name: str, model: str, initial_qpos: Mapping[str, tuple[float, ...]], **params: ParamValue) -> list[Task]:
    """A Fetch task and its Dense twin, with the constructor arguments of gymnasium-robotics 1.4.2's
    envs/fetch/<task>.py (MujocoFetch<Task>Env): see cpp/robotics/fetch.h for their meaning."""
    params = {"robot": "fetch", **params, **_qpos(initial_qpos)}
    return [
        Task(f"{name}{suffix}-v4", "robotics", options={"reward_type": reward}, assets={"model": model}, params=params)
        for suffix, reward in (("", "sparse"), ("Dense", "dense"))
    ]


_ARM = {"robot0:slide1": (0.48,), "robot0:slide2": (0.0,)}
_OBJECT = (1.0, 0.0, 0.0, 0.0)  # the object's initial orientation (a unit quaternion)

TASKS: tuple[Task, ...] = (
    Task("CartPole-v1", "classic_control", params={"env": "CartPole"}),
    Task("Pendulum-v1", "classic_control", params={"env": "Pendulum"}),
    Task("MountainCar-v0", "classic_control", params={"env": "MountainCar"}),
    Task("MountainCarContinuous-v0", "classic_control", params={"env": "MountainCarContinuous"}),
    Task("Acrobot-v1", "classic_control", params={"env": "Acrobot"}),
    # Our own raycasting navigation engine on ViZDoom's scenario maps and Freedoom's MAP01
    # (not ViZDoom: see docs/vizdoom.md for what follows the scenarios and what differs).
    _doom(
        "DoomNav-MyWayHome-v0",
        "my_way_home",
        {"map_wad": "scenarios/my_way_home.wad", "cfg": "scenarios/my_way_home.cfg"},
    ),
    _doom(
        "DoomNav-HealthGathering-v0",
        "health_gathering",
        {"map_wad": "scenarios/health_gathering.wad", "cfg": "scenarios/health_gathering.cfg"},
    ),
    _doom("DoomNav-Freedoom2Map01-v0", "reach_exit", {}),
    # MuJoCo robotics with gymnasium-robotics v4 semantics; assets are the root model files,
    # whose include/mesh/texture closure the asset tooling computes.
    *_fetch(
        "FetchReach",
        "fetch/reach.xml",
        {"robot0:slide0": (0.4049,), **_ARM},
        has_object=False,
        block_gripper=True,
        gripper_extra_height=0.2,
        target_in_the_air=True,
        target_offset=(0.0, 0.0, 0.0),
        obj_range=0.15,
        target_range=0.15,
        distance_threshold=0.05,
    ),
    *_fetch(
        "FetchPush",
        "fetch/push.xml",
        {"robot0:slide0": (0.405,), **_ARM, "object0:joint": (1.25, 0.53, 0.4, *_OBJECT)},
        has_object=True,
        block_gripper=True,
        gripper_extra_height=0.0,
        target_in_the_air=False,
        target_offset=(0.0, 0.0, 0.0),
        obj_range=0.15,
        target_range=0.15,
        distance_threshold=0.05,
    ),
    *_fetch(
        "FetchSlide",
        "fetch/slide.xml",
        {"robot0:slide0": (0.05,), **_ARM, "object0:joint": (1.7, 1.1, 0.41, *_OBJECT)},
        has_object=True,
        block_gripper=True,
        gripper_extra_height=-0.02,
        target_in_the_air=False,
        target_offset=(0.4, 0.0, 0.0),
        obj_range=0.1,
        target_range=0.3,
        distance_threshold=0.05,
    ),
    *_fetch(
        "FetchPickAndPlace",
        "fetch/pick_and_place.xml",
        {"robot0:slide0": (0.405,), **_ARM, "object0:joint": (1.25, 0.53, 0.4, *_OBJECT)},
        has_object=True,
        block_gripper=False,
        gripper_extra_height=0.2,
        target_in_the_air=True,
        target_offset=(0.0, 0.0, 0.0),
        obj_range=0.15,
        target_range=0.15,
        distance_threshold=0.05,
    ),
    *(
        Task(
            f"HandReach{suffix}-v3",
            "robotics",
            options={"reward_type": reward},
            assets={"model": "hand/reach.xml"},
            params={"robot": "hand"},
        )
        for suffix, reward in (("", "sparse"), ("Dense", "dense"))
    ),
    # Procgen-style games of our own (not procgen's games), drawn with QPainter: see docs/procgen.md.
    *(
        Task(
            task_id,
            "procgen",
            options={"num_levels": 0, "start_level": 0, "distribution_mode": "hard"},
            params={"game": game},
        )
        for task_id, game in (("QtMaze-v0", "maze"), ("QtDodge-v0", "dodge"))
    ),
)


def assets_of(family: str) -> list[str]:
    """The sorted union of the asset files of every task of ``family``."""
    return sorted({path for task in TASKS if task.family == family for path in task.assets.values()})
