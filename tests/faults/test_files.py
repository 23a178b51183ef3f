"""Every number read from a file is range-checked: a scenario .cfg and WAD map lumps.

A bad value gives a ValueError naming the file, the key (or lump) and the allowed range; a .cfg
with no key ViZDoom knows is an error, not a silent fall back to defaults.
"""

from __future__ import annotations

import importlib
import random
import re
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import pwad

TASK = "DoomNav-MyWayHome-v0"
GOOD_CFG = """# a scenario config
doom_scenario_path = my_way_home.wad
living_reward = -0.0001
episode_timeout = 2100
available_buttons =
    {
        TURN_LEFT
        MOVE_FORWARD
    }
mode = PLAYER
"""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    """An asset root whose my_way_home.cfg the test rewrites (the WADs are the installed ones)."""
    from envpool.resolution import asset_root

    src = asset_root("vizdoom")
    root = tmp_path / "assets"
    (root / "scenarios").mkdir(parents=True)
    (root / "freedoom2.wad").symlink_to(src / "freedoom2.wad")
    shutil.copyfile(src / "scenarios" / "my_way_home.wad", root / "scenarios" / "my_way_home.wad")
    (root / "scenarios" / "my_way_home.cfg").write_text(GOOD_CFG)
    return root


def _spec(root: Path) -> dict[str, Any]:
    from envpool.registration import native_options
    from envpool.resolution import load_family

    options = native_options(TASK, {"frame_skip": 4, "height": 60, "width": 80}, asset_root=root)
    spec: dict[str, Any] = load_family("vizdoom").spec(TASK, options)
    return spec


def _pool(root: Path) -> Any:
    from envpool.registration import native_options
    from envpool.resolution import load_family

    options = native_options(TASK, {"frame_skip": 4, "height": 60, "width": 80}, asset_root=root)
    return load_family("vizdoom").Pool(TASK, options, 1, 1, 1, [0])


@pytest.mark.timeout(30, method="thread")
@pytest.mark.family("vizdoom")
def test_good_cfg_is_read(scenario: Path) -> None:
    assert _spec(scenario)["max_episode_steps"] == 525  # 2100 tics / frame_skip 4
    cfg = scenario / "scenarios" / "my_way_home.cfg"
    cfg.write_text(GOOD_CFG.replace("2100", "2101"))
    assert _spec(scenario)["max_episode_steps"] == 526
    pool = _pool(scenario)
    pool.close()


@pytest.mark.timeout(30, method="thread")
@pytest.mark.family("vizdoom")
@pytest.mark.parametrize(
    ("line", "key", "message"),
    [
        # the values of the report: max_episode_steps was -536870911 and the episode never ended
        ("episode_timeout = 1e10", "episode_timeout", r"allowed range \[1, 10000000\] \(an integer\)"),
        ("episode_timeout = 2147483647", "episode_timeout", r"allowed range \[1, 10000000\]"),
        ("episode_timeout = -1e20", "episode_timeout", r"allowed range \[1, 10000000\]"),
        ("episode_timeout = 0", "episode_timeout", r"allowed range \[1, 10000000\]"),
        ("episodeTimeout = 2100.5", "episodeTimeout", r"allowed range \[1, 10000000\]"),
        ("episode_timeout = soon", "episode_timeout", r"must be an integer in \[1, 10000000\]"),
        # rewards of inf
        ("living_reward = 1e308", "living_reward", r"allowed range \[-1e6, 1e6\] \(a finite number\)"),
        ("living_reward = nan", "living_reward", r"allowed range \[-1e6, 1e6\]"),
        ("death_penalty = -inf", "death_penalty", r"allowed range \[-1e6, 1e6\]"),
        ("living_reward = 1e999", "living_reward", r"allowed range \[-1e6, 1e6\]"),
        ("living_reward = lots", "living_reward", r"must be a number in \[-1e6, 1e6\]"),
        ("doom_skill = 9", "doom_skill", r"allowed range \[1, 5\]"),
        ("seed = -1", "seed", r"allowed range \[0, 10000000\]"),
        ("liveing_reward = 1", "liveing_reward", "unknown key 'liveing_reward'"),
        ("episode_timeout =", "episode_timeout", "'episode_timeout' has no value"),
    ],
)
def test_bad_cfg_value_names_file_key_and_range(scenario: Path, line: str, key: str, message: str) -> None:
    cfg = scenario / "scenarios" / "my_way_home.cfg"
    cfg.write_text(GOOD_CFG + line + "\n")
    for call in (_spec, _pool):  # make_spec and the pool both read the whole file
        with pytest.raises(ValueError) as info:
            call(scenario)
        text = str(info.value)
        assert text.startswith(f"{cfg}: line 11: "), text
        assert f"'{key}'" in text, text
        assert re.search(message, text), text


@pytest.mark.timeout(30, method="thread")
@pytest.mark.family("vizdoom")
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (bytes(range(256)) * 8, r"line \d+: is not text \(control byte \d+\)"),
        (b"", "no 'key = value' line: not a ViZDoom scenario config"),
        (b"# only a comment\n\n", "no 'key = value' line: not a ViZDoom scenario config"),
        (b"hello world\n", r"line 1: expected 'key = value'"),
        (b"available_buttons = { TURN_LEFT\n", r"line 1: the \{ list is not closed"),
        (b"mode = PLAYER\n}\n", r"line 2: expected 'key = value'"),
    ],
)
def test_cfg_that_is_not_a_scenario_is_an_error(scenario: Path, content: bytes, message: str) -> None:
    """Random bytes, an empty file or prose: an error, never the defaults."""
    cfg = scenario / "scenarios" / "my_way_home.cfg"
    cfg.write_bytes(content)
    with pytest.raises(ValueError) as info:
        _spec(scenario)
    assert str(info.value).startswith(f"{cfg}: "), str(info.value)
    assert re.search(message, str(info.value)), str(info.value)


@pytest.mark.timeout(30, method="thread")
@pytest.mark.family("vizdoom")
def test_random_cfg_bytes_are_an_error(scenario: Path) -> None:
    cfg = scenario / "scenarios" / "my_way_home.cfg"
    rng = random.Random(0)
    for _ in range(50):
        cfg.write_bytes(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000))))
        with pytest.raises(ValueError, match=re.escape(str(cfg))):
            _spec(scenario)


def _map(things: bytes) -> bytes:
    return pwad(
        [
            ("MAP01", b""),
            ("THINGS", things),
            ("LINEDEFS", struct.pack("<HHHHHHH", 0, 1, 1, 0, 0, 0, 0xFFFF)),
            ("SIDEDEFS", struct.pack("<hh8s8s8sH", 0, 0, b"-", b"-", b"STARTAN3", 0)),
            ("VERTEXES", struct.pack("<hhhh", 0, 0, 64, 0)),
            ("SECTORS", struct.pack("<hh8s8shhh", 0, 128, b"FLOOR4_8", b"CEIL3_5", 160, 0, 0)),
        ]
    )


@pytest.mark.timeout(30, method="thread")
@pytest.mark.parametrize("size", [2001, 9, 11])
def test_lump_that_is_not_whole_records_is_an_error(tmp_path: Path, size: int) -> None:
    """A THINGS lump of 2001 bytes (10-byte records) was accepted; now it names the file and the lump."""
    read_wad = importlib.import_module("envpool._vizdoom").read_wad  # in the core wheel, whatever the extras
    path = tmp_path / "map.wad"
    path.write_bytes(_map(b"\0" * size))
    with pytest.raises(ValueError) as info:
        read_wad(str(path))
    text = str(info.value)
    assert text.startswith(f"{path}: lump 'THINGS' (#1): "), text
    assert f"is {size} bytes, not a whole number of 10-byte records" in text, text
    path.write_bytes(_map(b"\0" * 2000))  # 200 whole records are fine
    assert read_wad(str(path))["maps"]["MAP01"]["things"] == 200
