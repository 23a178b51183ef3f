"""Pool construction is all-or-nothing: a thread, memory, a family's init or an asset file that fails
raises a Python exception naming the resource and the limit, the workers already started are
stopped and joined, and the process makes its next pool as usual.

Resource limits are set in a child interpreter (tests/faults/child.py), never in the test process.
The tests run as root, whom RLIMIT_NPROC does not bind: the child drops to uid/gid 65534 (nobody)
after loading everything, so the limit applies to its threads.
"""

from __future__ import annotations

import re
import shutil
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

import envpool
from envpool.registration import native_options
from tests.faults.child import TASKS, run_child, script, settled_thread_count, thread_count

FAMILIES = [pytest.param(name, marks=pytest.mark.family(name)) for name in TASKS]


def _start_1000_threads_under(family: str, limit: str) -> dict[str, Any]:
    """In a child: load the family, apply ``limit`` (script lines), make a 1000-thread pool, then a small one."""
    prologue = """
        use(envpool.make(TASK, num_envs=2, num_threads=2, **OPTIONS))  # loads the family, then freed
        gc.collect()
        base = threads()
        """
    epilogue = """
        first = attempt(lambda: envpool.make(TASK, num_envs=2, num_threads=1000, **OPTIONS))
        after = threads()
        second = attempt(lambda: use(envpool.make(TASK, num_envs=2, num_threads=2, **OPTIONS)))
        result(first=first, second=second, base=base, after=after)
        """
    code = script(family, "".join(textwrap.dedent(part) for part in (prologue, limit, epilogue)))
    r = run_child(code)
    first = r["first"]
    assert not first["ok"] and first["type"] == "RuntimeError", first
    assert "could not start worker thread" in first["message"], first
    assert first["seconds"] < 2.0, first
    return r


@pytest.mark.timeout(120, method="thread")
@pytest.mark.parametrize("family", FAMILIES)
def test_thread_creation_fails_under_address_space_limit(family: str) -> None:
    """`ulimit -v` leaves no room for 1000 thread stacks: a RuntimeError within 2 s, not a hang.

    For CartPole this is the exact report: num_threads=1000 under `ulimit -v 8000000` (KiB).
    """
    r = _start_1000_threads_under(
        family,
        """
        if TASK == "CartPole-v1":
            limit_as(absolute=8_000_000 * 1024)
        else:
            limit_as(headroom=512 << 20)
        """,
    )
    first = r["first"]
    assert "RLIMIT_AS" in first["message"], first
    assert "were stopped" in first["message"] and "num_threads=" in first["message"]
    assert r["after"] == r["base"], "the workers already started must be joined"
    assert r["second"]["ok"], r["second"]


@pytest.mark.timeout(120, method="thread")
@pytest.mark.parametrize("family", FAMILIES)
def test_thread_creation_fails_under_nproc_limit(family: str) -> None:
    """RLIMIT_NPROC (ulimit -u) reached while starting workers: a RuntimeError naming it, then a new pool works."""
    r = _start_1000_threads_under(
        family,
        """
        resource.setrlimit(resource.RLIMIT_NPROC, (64, 64))
        if os.geteuid() == 0:  # root is exempt from RLIMIT_NPROC
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
        """,
    )
    assert "RLIMIT_NPROC" in r["first"]["message"], r["first"]
    assert r["after"] == r["base"]
    assert r["second"]["ok"], r["second"]


@pytest.mark.timeout(30, method="thread")
def test_num_envs_and_num_threads_bounds_fail_fast() -> None:
    """The documented bounds are checked before any seed list or buffer is built."""
    for kwargs, message in [
        ({"num_envs": 2**31}, f"num_envs must be <= {envpool.registration.MAX_NUM_ENVS}"),
        ({"num_envs": 10**7}, "num_envs must be <= 1048576"),
        ({"num_threads": 1025}, "num_threads must be <= 1024"),
    ]:
        t0 = time.monotonic()
        with pytest.raises(ValueError, match=message):
            envpool.make("CartPole-v1", **kwargs)  # type: ignore[arg-type]
        assert time.monotonic() - t0 < 0.5
    # The C++ pool checks the same bounds for callers that skip envpool.make.
    from envpool.resolution import load_family

    module = load_family("classic_control")
    assert module.MAX_NUM_ENVS == envpool.registration.MAX_NUM_ENVS
    assert module.MAX_NUM_THREADS == envpool.registration.MAX_NUM_THREADS
    with pytest.raises(ValueError, match=r"num_threads must be in \[1, 1024\], got 5000"):
        module.Pool("CartPole-v1", native_options("CartPole-v1"), 1, 1, 5000, [0])
    n = module.MAX_NUM_ENVS + 1
    with pytest.raises(ValueError, match=r"num_envs must be in \[1, 1048576\]"):
        module.Pool("CartPole-v1", native_options("CartPole-v1"), n, 1, 1, [0] * n)


@pytest.mark.timeout(60, method="thread")
@pytest.mark.family("vizdoom")
def test_observation_memory_is_checked_up_front() -> None:
    """2**20 DoomNav envs of 1024x1024 frames need terabytes: MemoryError with the bytes, at once."""
    t0 = time.monotonic()
    with pytest.raises(MemoryError, match=r"num_envs=1048576 of DoomNav-MyWayHome-v0 needs at least \d+ bytes"):
        envpool.make("DoomNav-MyWayHome-v0", num_envs=2**20, height=1024, width=1024)
    assert time.monotonic() - t0 < 5.0


@pytest.mark.timeout(60, method="thread")
def test_memory_check_honours_address_space_limit() -> None:
    """Under `ulimit -v` the up-front check compares with what RLIMIT_AS leaves, and says so."""
    code = script(
        "classic_control",
        """
        limit_as(headroom=256 << 20)
        first = attempt(lambda: envpool.make(TASK, num_envs=2**20, num_threads=1))
        second = attempt(lambda: use(envpool.make(TASK, num_envs=4, num_threads=1)))
        result(first=first, second=second)
        """,
    )
    r = run_child(code)
    first = r["first"]
    assert not first["ok"] and first["type"] == "MemoryError", first
    assert "needs at least" in first["message"] and "RLIMIT_AS" in first["message"], first
    assert first["seconds"] < 2.0
    assert r["second"]["ok"], r["second"]


@pytest.mark.timeout(90, method="thread")
@pytest.mark.family("vizdoom")
def test_allocation_failure_while_making_envs() -> None:
    """Loading the 28 MB IWAD does not fit: MemoryError naming the env, and the next pool works."""
    code = script(
        "vizdoom",
        """
        # Load the family and every Python module make() needs, but not the level (the IWAD is
        # read when the first env is made), so that malloc keeps no freed 28 MB chunk to reuse.
        envpool.make_spec(TASK, **OPTIONS).observation_space
        import envpool.gymnasium_pool
        gc.collect()
        old = limit_as(headroom=16 << 20)
        first = attempt(lambda: envpool.make(TASK, num_envs=2, num_threads=1, **OPTIONS) and None)
        resource.setrlimit(resource.RLIMIT_AS, old)
        second = attempt(lambda: use(envpool.make(TASK, num_envs=2, num_threads=1, **OPTIONS)))
        result(first=first, second=second)
        """,
    )
    r = run_child(code)
    first = r["first"]
    assert not first["ok"] and first["type"] == "MemoryError", first
    assert "out of memory creating env 0 of num_envs=2 of DoomNav-MyWayHome-v0" in first["message"], first
    assert r["second"]["ok"], r["second"]


@pytest.mark.timeout(90, method="thread")
@pytest.mark.family("vizdoom")
def test_allocation_failure_while_stepping_leaves_the_pool_unchanged() -> None:
    """A result batch that cannot be allocated: MemoryError, and the same pool steps once memory is back."""
    code = script(
        "vizdoom",
        """
        env = envpool.make(TASK, num_envs=8, num_threads=2, height=1024, width=1024)
        # No batch has been allocated yet (a freed one would stay with malloc, within the limit).
        gc.collect()
        old = limit_as(headroom=8 << 20)
        first = attempt(lambda: env.step(actions(env)))
        resource.setrlimit(resource.RLIMIT_AS, old)
        second = attempt(lambda: list(env.step(actions(env))[0].shape))
        env.close()
        result(first=first, second=second)
        """,
    )
    r = run_child(code)
    first = r["first"]
    assert not first["ok"] and first["type"] == "MemoryError", first
    assert "out of memory queueing 8 envs" in first["message"] and "unchanged" in first["message"], first
    assert r["second"] == {"ok": True, "value": [8, 1024, 1024, 3], "seconds": r["second"]["seconds"]}


def _asset_copy(family: str, tmp_path: Path) -> Path:
    """A writable copy of a family's asset tree (large files linked, not copied)."""
    from envpool.resolution import asset_root

    src = asset_root(family)
    root = tmp_path / family
    for path in src.rglob("*"):
        if path.is_file():
            target = root / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            if path.stat().st_size > 1 << 20:
                target.symlink_to(path)
            else:
                shutil.copyfile(path, target)
    return root


@pytest.mark.timeout(60, method="thread")
@pytest.mark.family("robotics")
@pytest.mark.family("vizdoom")
def test_family_init_and_asset_failures_leave_the_process_usable(tmp_path: Path) -> None:
    """A model MuJoCo rejects and a missing asset file: ValueError naming the file; no thread is left."""
    from envpool.resolution import load_family

    base = thread_count()
    robotics = _asset_copy("robotics", tmp_path)
    (robotics / "fetch" / "reach.xml").write_text("<mujoco><option timestep='5'/></mujoco>")
    with pytest.raises(ValueError, match=r"fetch/reach\.xml"):
        load_family("robotics").Pool(
            "FetchReach-v4", native_options("FetchReach-v4", asset_root=robotics), 2, 2, 2, [0, 1]
        )
    vizdoom = _asset_copy("vizdoom", tmp_path)
    (vizdoom / "freedoom2.wad").unlink()
    options = native_options("DoomNav-MyWayHome-v0", {"frame_skip": 4, "height": 60, "width": 80}, asset_root=vizdoom)
    with pytest.raises(ValueError, match=r"freedoom2\.wad: cannot open the file"):
        load_family("vizdoom").Pool("DoomNav-MyWayHome-v0", options, 2, 2, 2, [0, 1])
    assert settled_thread_count(base) == base
    for task_id, options in [("FetchReach-v4", {}), ("DoomNav-MyWayHome-v0", {"height": 60, "width": 80})]:
        with envpool.make(task_id, num_envs=2, **options) as env:
            env.reset()
    assert settled_thread_count(base) == base


@pytest.mark.timeout(60, method="thread")
@pytest.mark.family("robotics")
@pytest.mark.parametrize(
    ("option", "key", "allowed"),
    [
        ('timestep="5"', "option timestep = 5 ", r"\(0, 0\.1\] seconds"),
        ('timestep="0.002" gravity="0 0 1e300"', "option gravity = 1e+300 ", r"\[-1000, 1000\] m/s\^2"),
        ('timestep="nan"', "", ""),
    ],
)
def test_model_numbers_are_range_checked(tmp_path: Path, option: str, key: str, allowed: str) -> None:
    """Numbers taken from the MJCF are range-checked: an error naming the file, the key and the range."""
    from envpool.resolution import load_family

    root = _asset_copy("robotics", tmp_path)
    xml = root / "hand" / "reach.xml"
    xml.write_text(xml.read_text().replace('timestep="0.002"', option, 1))
    with pytest.raises(ValueError, match=r"hand/reach\.xml") as info:
        load_family("robotics").Pool("HandReach-v3", native_options("HandReach-v3", asset_root=root), 1, 1, 1, [0])
    message = str(info.value)
    assert key in message, message
    if allowed:  # MuJoCo itself refuses a timestep it cannot parse; otherwise ours names the range
        assert re.search(f"is outside the allowed range {allowed}", message), message


@pytest.mark.timeout(60, method="thread")
@pytest.mark.family("robotics")
def test_actuator_ctrlrange_is_range_checked(tmp_path: Path) -> None:
    """An actuator's control range from the MJCF is range-checked like the options: file, key and range."""
    from envpool.resolution import load_family

    root = _asset_copy("robotics", tmp_path)
    shared = root / "hand" / "shared.xml"
    text = shared.read_text()
    assert 'ctrlrange="-0.489 0.14"' in text
    shared.write_text(text.replace('ctrlrange="-0.489 0.14"', 'ctrlrange="-1e300 0.14"', 1))
    with pytest.raises(ValueError, match=r"hand/reach\.xml") as info:
        load_family("robotics").Pool("HandReach-v3", native_options("HandReach-v3", asset_root=root), 1, 1, 1, [0])
    message = str(info.value)
    assert re.search(r"actuator \d+ ctrlrange low = -1e\+300 is outside the allowed range \[-1e6, 1e6\]", message), (
        message
    )
