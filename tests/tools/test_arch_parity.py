"""tools.release.arch_parity on step files written here: each kind of difference is caught, or tolerated as stated.

Also tools/release/step_every_task.py's action generator: integers only, so the same on every platform.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tools.release import arch_parity
from tools.release.arch_parity import Tolerance
from tools.release.step_every_task import actions, digests

if TYPE_CHECKING:
    from pathlib import Path

Arrays = dict[str, np.ndarray]


def _task(steps: int = 5, image: bool = False) -> Arrays:
    rng = np.random.default_rng(1)
    out: Arrays = {
        "action": rng.integers(0, 3, size=(steps, 2)),
        "reward": np.ones((steps, 2), np.float32),
        "terminated": np.zeros((steps, 2), bool),
        "truncated": np.zeros((steps, 2), bool),
        "obs/obs": rng.normal(size=(steps + 1, 2, 4)),
    }
    if image:
        frames = rng.integers(0, 255, size=(steps + 1, 2, 8, 8, 3), dtype=np.uint8)
        out["obs/pixels#crc32"] = np.stack([digests(f) for f in frames])
        out["obs/pixels#frames"] = frames
    return out


def _save(path: Path, tasks: dict[str, tuple[str, Arrays]], machine: str) -> Path:
    meta = {"machine": machine, "tasks": {t: {"family": f, "seconds": 0.5} for t, (f, _) in tasks.items()}}
    arrays = {f"{t}/{k}": v for t, (_, a) in tasks.items() for k, v in a.items()}
    np.savez_compressed(path, __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8), **arrays)  # type: ignore[arg-type]
    return path


def _pair(tmp_path: Path, family: str, change: str | None, image: bool = False) -> list[arch_parity.Result]:
    ref = _task(image=image)
    cand = {k: v.copy() for k, v in ref.items()}
    if change == "float":
        cand["obs/obs"][3, 1, 2] += 1e-9
    elif change == "flag":
        cand["terminated"][2, 0] = True
    elif change == "pixel":
        cand["obs/pixels#frames"][4, 0, 1, 1, 0] ^= 1
        cand["obs/pixels#crc32"][4, 0] = digests(cand["obs/pixels#frames"][4])[0]
    elif change == "action":
        cand["action"][0, 0] = (cand["action"][0, 0] + 1) % 3
    a = _save(tmp_path / "x86_64.npz", {"T-v0": (family, ref)}, "x86_64")
    b = _save(tmp_path / "aarch64.npz", {"T-v0": (family, cand)}, "aarch64")
    tolerances = {"robotics": Tolerance(atol=1e-6, why="test"), "procgen": Tolerance(pixels=0.01, why="test")}
    return arch_parity.compare(a, b, tolerances)


def test_identical_files_are_exact(tmp_path: Path) -> None:
    (r,) = _pair(tmp_path, "classic_control", None, image=True)
    assert r.ok and r.exact and r.max_abs == 0


def test_one_ulp_in_classic_control_fails(tmp_path: Path) -> None:
    (r,) = _pair(tmp_path, "classic_control", "float")
    assert not r.ok and "obs/obs: max abs diff 1e-09 > 0 (first difference at row 3)" in r.problems


def test_a_float_difference_within_the_family_tolerance_passes_but_is_not_exact(tmp_path: Path) -> None:
    (r,) = _pair(tmp_path, "robotics", "float")
    assert r.ok and not r.exact and r.max_abs == pytest.approx(1e-9, rel=1e-3)


def test_a_flag_difference_fails_whatever_the_tolerance(tmp_path: Path) -> None:
    (r,) = _pair(tmp_path, "robotics", "flag")
    assert r.problems == ["terminated: 1 values differ (first at row 2)"]


def test_one_pixel_fails_an_exact_family_and_passes_a_tolerant_one(tmp_path: Path) -> None:
    (exact,) = _pair(tmp_path, "vizdoom", "pixel", image=True)
    assert (
        not exact.ok
        and exact.digests == 1
        and any("1 of 12 frames differ (first at step 4)" in p for p in exact.problems)
    )
    (tolerant,) = _pair(tmp_path, "procgen", "pixel", image=True)
    assert tolerant.ok and not tolerant.exact and tolerant.pixels == pytest.approx(1 / (6 * 2 * 64))


def test_different_actions_are_refused_before_anything_else(tmp_path: Path) -> None:
    (r,) = _pair(tmp_path, "robotics", "action")
    assert r.problems == ["the action sequences differ: the stepping script is not platform-independent"]


def test_a_task_missing_on_one_side(tmp_path: Path) -> None:
    a = _save(tmp_path / "a.npz", {"T-v0": ("vizdoom", _task()), "U-v0": ("vizdoom", _task())}, "x86_64")
    b = _save(tmp_path / "b.npz", {"T-v0": ("vizdoom", _task())}, "aarch64")
    results = {r.task: r for r in arch_parity.compare(a, b)}
    assert results["T-v0"].ok and not results["U-v0"].ok


class _Discrete:
    n = 5


class _Box:
    shape = (3,)
    low = np.array([-1.0, 0.0, -np.inf], np.float32)
    high = np.array([1.0, 2.0, np.inf], np.float32)


def test_actions_are_seeded_integers_mapped_into_the_space() -> None:
    first = actions(_Box(), np.random.default_rng(7), 4)
    assert np.array_equal(first, actions(_Box(), np.random.default_rng(7), 4))
    assert first.dtype == np.float32 and first.shape == (4, 3)
    assert (first[:, 0] >= -1).all() and (first[:, 1] <= 2).all() and (np.abs(first[:, 2]) <= 1).all()
    discrete = actions(_Discrete(), np.random.default_rng(7), 100)
    assert discrete.dtype == np.int64 and set(discrete.tolist()) <= set(range(5))


def test_a_task_tolerance_beats_its_familys_and_classic_control_stays_exact() -> None:
    assert arch_parity.tolerance_of("FetchSlide-v4", "robotics").atol > arch_parity.tolerance_of("X", "robotics").atol
    assert arch_parity.tolerance_of("CartPole-v1", "classic_control") == Tolerance()
    assert arch_parity.tolerance_of("QtMaze-v0", "procgen") == Tolerance()
