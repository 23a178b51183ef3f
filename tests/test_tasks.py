"""The task table (envpool/tasks.py) is the one definition of every task id.

The C++ families know no task id: ``make`` passes each task's parameters and asset paths from the
table, and a family builds the env from them. These tests fail when a task id (or the parsing of
one) reappears in the C++ sources, and check the errors a family gives for a config that is not a
task's.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import envpool
from envpool.families import FAMILIES
from envpool.registration import native_options
from envpool.resolution import load_family
from envpool.tasks import TASKS

CPP_SUFFIXES = {".cpp", ".h", ".cc", ".hpp"}
# a version suffix in a C++ string literal: what parsing a task id would need
VERSIONED_LITERAL = re.compile(r'"[^"\n]*-v\d+[^"\n]*"')


def _cpp_sources(repo_root: Path) -> list[Path]:
    sources = sorted(p for p in (repo_root / "packages" / "core" / "cpp").rglob("*") if p.suffix in CPP_SUFFIXES)
    assert sources, "no C++ sources found under packages/core/cpp"
    return sources


def test_task_ids_are_unique() -> None:
    ids = [t.task_id for t in TASKS]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_cpp_sources_name_no_task_id(repo_root: Path) -> None:
    """The C++ code builds tasks from their parameters: no task id, no id parsing (envpool/tasks.py)."""
    found = []
    for path in _cpp_sources(repo_root):
        text = path.read_text()
        rel = path.relative_to(repo_root)
        found += [f"{rel}: {task.task_id}" for task in TASKS if task.task_id in text]
        found += [f"{rel}: {m.group()}" for m in VERSIONED_LITERAL.finditer(text)]
    assert not found, f"task ids belong in packages/core/src/envpool/tasks.py only, found: {found}"


def test_every_task_names_its_parameters_options_and_files_once() -> None:
    for task in TASKS:
        assert task.family in FAMILIES, task
        keys = [*task.params, *task.assets, *task.options]
        assert len(keys) == len(set(keys)), f"{task.task_id}: a key is both a parameter, a file and an option: {keys}"
        assert "asset_root" not in keys, task
        assert task.params, f"{task.task_id} names no parameter: its family could not tell what to build"
        for key, value in task.params.items():
            ok = isinstance(value, (bool, int, float, str)) or (
                isinstance(value, tuple) and all(type(v) is float for v in value)
            )
            assert ok, f"{task.task_id}: parameter {key}={value!r} is not a bool, int, float, str or tuple of floats"
        for rel in task.assets.values():
            assert rel and not rel.startswith("/") and ".." not in rel.split("/"), (task.task_id, rel)


def test_native_options_are_what_make_spec_passes() -> None:
    spec = envpool.make_spec("CartPole-v1")
    assert native_options("CartPole-v1") == dict(spec.native_options) == {"env": "CartPole"}
    with pytest.raises(TypeError, match="CartPole-v1 has no option 'height'"):
        native_options("CartPole-v1", {"height": 3})
    with pytest.raises(envpool.UnknownEnvError, match="Did you mean: CartPole-v1"):
        native_options("CartPol-v1")


# One task per family, and the parameter that selects the implementation.
SELECTORS = [
    pytest.param("CartPole-v1", "env", "classic_control env", marks=pytest.mark.family("classic_control")),
    pytest.param("DoomNav-MyWayHome-v0", "scenario", "vizdoom scenario", marks=pytest.mark.family("vizdoom")),
    pytest.param("FetchReach-v4", "robot", "robotics robot", marks=pytest.mark.family("robotics")),
    pytest.param("QtMaze-v0", "game", "procgen game", marks=pytest.mark.family("procgen")),
]


@pytest.mark.parametrize(("task_id", "key", "what"), SELECTORS)
def test_an_unknown_implementation_is_an_error_naming_the_known_ones(task_id: str, key: str, what: str) -> None:
    family = envpool.registration.family_of(task_id)
    module = load_family(family)
    known = sorted({str(t.params[key]) for t in TASKS if t.family == family})
    config = {**native_options(task_id), key: "nonesuch"}
    with pytest.raises(ValueError, match=re.escape(f"{what} 'nonesuch' is not one of: {', '.join(known)}")):
        module.spec(task_id, config)
    with pytest.raises(ValueError, match=re.escape(f"{what} 'nonesuch' is not one of")):
        module.Pool(task_id, config, 1, 1, 1, [0])


@pytest.mark.parametrize(("task_id", "key", "what"), SELECTORS)
def test_a_config_without_the_task_parameters_names_the_fix(task_id: str, key: str, what: str) -> None:
    module = load_family(envpool.registration.family_of(task_id))
    config = {k: v for k, v in native_options(task_id).items() if k != key}
    message = f"missing task parameter '{key}': a family's spec() and Pool() take the config of "
    with pytest.raises(ValueError, match=re.escape(message + "envpool.registration.native_options(task_id, options)")):
        module.spec(task_id, config)


@pytest.mark.family("robotics")
@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("obj_range", 0.05, "'obj_range' = 0.050000 is outside the allowed range [0.100000, 1.000000] m"),
        ("distance_threshold", float("nan"), "task parameter 'distance_threshold' = nan is outside the allowed range"),
        ("target_offset", (0.0, 0.0), "task parameter 'target_offset' must have 3 values (x, y, z), got 2"),
        ("target_offset", (0.0, 0.0, 1e9), "task parameter 'target_offset' must be 3 values in [-1, 1] m"),
        ("has_object", "yes", "task parameter 'has_object' must be a bool"),
        ("initial_qpos", (0.1,) * 500, "allow at most 64 joints"),
        ("initial_qpos", (0.4,), "task parameter 'initial_qpos' has 1 values, too few for the joints of"),
        ("initial_qpos", (0.4, 0.48, 0.0, 1.0), "task parameter 'initial_qpos' has 4 values, but its joints in"),
    ],
)
def test_fetch_parameters_are_checked(key: str, value: object, message: str) -> None:
    config = {**native_options("FetchReach-v4"), key: value}
    with pytest.raises(ValueError, match=re.escape(message)):
        load_family("robotics").Pool("FetchReach-v4", config, 1, 1, 1, [0])


@pytest.mark.family("vizdoom")
@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("map", "map01", "task parameter 'map' must be a map lump name (1 to 8 of A-Z, 0-9, _), got 'map01'"),
        ("map", "MAP0123456", "task parameter 'map' must be a map lump name"),
        ("map", "MAP99", "the file has no map MAP99"),
        ("cfg", "", "task parameter 'cfg' must be a file path below asset_root, got ''"),
        ("map_wad", "a\0b", "task parameter 'map_wad' must be a file path below asset_root, got 'a?b'"),
    ],
)
def test_doom_parameters_are_checked(key: str, value: str, message: str) -> None:
    config = {**native_options("DoomNav-MyWayHome-v0"), key: value}
    with pytest.raises(ValueError, match=re.escape(message)):
        load_family("vizdoom").Pool("DoomNav-MyWayHome-v0", config, 1, 1, 1, [0])


@pytest.mark.family("robotics")
def test_pools_of_one_model_with_different_parameters_keep_their_own() -> None:
    """Pools share a loaded model only when every Fetch parameter is the same."""
    import numpy as np

    module = load_family("robotics")
    ids = np.arange(8, dtype=np.int32)
    strict = module.Pool("FetchReach-v4", native_options("FetchReach-v4"), 8, 8, 1, list(range(8)))
    loose = module.Pool(
        "FetchReach-v4", {**native_options("FetchReach-v4"), "distance_threshold": 1.0}, 8, 8, 1, [0] * 8
    )
    try:
        assert list(loose.reset(ids)[-1]["is_success"]) == [1.0] * 8  # every goal is within 1 m
        assert sum(strict.reset(ids)[-1]["is_success"]) < 8  # goals are sampled up to 0.15 m away
    finally:
        strict.close()
        loose.close()
