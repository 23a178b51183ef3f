"""Every registered task: its family, its default options, and the asset files it loads.

Pure data, importing nothing from envpool: the release tools read this file from the source
tree to compute which files each asset wheel must carry, so the asset lists are never hand-kept.
Time limits and spaces live with the C++ implementation and are reported by ``make_spec``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

OptionValue = bool | int | float | str


@dataclass(frozen=True)
class Task:
    """One registered task id."""

    task_id: str
    family: str
    #: options a user may override with ``envpool.make(task_id, **options)``, with their defaults
    options: Mapping[str, OptionValue] = field(default_factory=dict)
    #: files, relative to the family's asset root, that this task reads
    assets: tuple[str, ...] = ()


#: DoomNav options: 35 Hz tics per step (action repeat) and the observation size in pixels.
_DOOM_OPTIONS: Mapping[str, OptionValue] = {"frame_skip": 4, "height": 120, "width": 160}

TASKS: tuple[Task, ...] = (
    Task("CartPole-v1", "classic_control"),
    Task("Pendulum-v1", "classic_control"),
    Task("MountainCar-v0", "classic_control"),
    Task("MountainCarContinuous-v0", "classic_control"),
    Task("Acrobot-v1", "classic_control"),
    # Our own raycasting navigation engine on ViZDoom's scenario maps and Freedoom's MAP01
    # (not ViZDoom: see docs/vizdoom.md for what follows the scenarios and what differs).
    Task(
        "DoomNav-MyWayHome-v0",
        "vizdoom",
        options=_DOOM_OPTIONS,
        assets=("freedoom2.wad", "scenarios/my_way_home.cfg", "scenarios/my_way_home.wad"),
    ),
    Task(
        "DoomNav-HealthGathering-v0",
        "vizdoom",
        options=_DOOM_OPTIONS,
        assets=("freedoom2.wad", "scenarios/health_gathering.cfg", "scenarios/health_gathering.wad"),
    ),
    Task("DoomNav-Freedoom2Map01-v0", "vizdoom", options=_DOOM_OPTIONS, assets=("freedoom2.wad",)),
    # MuJoCo robotics with gymnasium-robotics v4 semantics; assets are the root model files,
    # whose include/mesh/texture closure the asset tooling computes.
    *(
        Task(f"{name}{suffix}-v4", "robotics", options={"reward_type": reward}, assets=(xml,))
        for name, xml in (
            ("FetchReach", "fetch/reach.xml"),
            ("FetchPush", "fetch/push.xml"),
            ("FetchSlide", "fetch/slide.xml"),
            ("FetchPickAndPlace", "fetch/pick_and_place.xml"),
        )
        for suffix, reward in (("", "sparse"), ("Dense", "dense"))
    ),
    *(
        Task(f"HandReach{suffix}-v3", "robotics", options={"reward_type": reward}, assets=("hand/reach.xml",))
        for suffix, reward in (("", "sparse"), ("Dense", "dense"))
    ),
    # Procgen-style games of our own (not procgen's games), drawn with QPainter: see docs/procgen.md.
    *(
        Task(task_id, "procgen", options={"num_levels": 0, "start_level": 0, "distribution_mode": "hard"})
        for task_id in ("QtMaze-v0", "QtDodge-v0")
    ),
)


def assets_of(family: str) -> list[str]:
    """The sorted union of the asset files of every task of ``family``."""
    return sorted({path for task in TASKS if task.family == family for path in task.assets})
