"""Without the robotics extra: the tasks are listed, make() names the pip line, no libmujoco is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

import envpool
from envpool.families import installed_version

pytestmark = pytest.mark.family_absent("robotics")

PIP_LINE = f'pip install "envpool[robotics]=={envpool.__version__}"'


@pytest.mark.parametrize("task_id", ["FetchReach-v4", "FetchPushDense-v4", "HandReach-v3"])
def test_make_without_the_extra(task_id: str) -> None:
    assert task_id in envpool.list_all_envs()
    with pytest.raises(envpool.MissingExtraError) as info:
        envpool.make(task_id, num_envs=2)
    assert PIP_LINE in str(info.value)
    # the sibling check comes first: libmujoco was never looked for, let alone loaded
    assert "libmujoco" not in Path("/proc/self/maps").read_text()


def test_loader_without_mujoco_core() -> None:
    from envpool import robotics_loader

    if installed_version("mujoco-core") is not None:
        pytest.skip("mujoco-core is installed here (only the asset wheel is missing)")
    with pytest.raises(envpool.MissingExtraError, match=r"needs mujoco-core==4\.0\.0, which is not installed"):
        robotics_loader.library_path()
