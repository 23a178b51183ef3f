"""One ``envpool.make`` resolves its family once, and the sibling pins come from envpool's own metadata."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import envpool
from envpool import families, resolution, store
from envpool.families import FAMILIES
from envpool.manifest import read_manifest

if TYPE_CHECKING:
    from pathlib import Path

OPTIONAL = [name for name, family in FAMILIES.items() if family.extra is not None]


class Calls:
    """Counts calls of the functions a make goes through (each wrapped with monkeypatch)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, missing: str | None = None) -> None:
        self.counts: Counter[str] = Counter()
        self.versions: Counter[str] = Counter()
        real_resolve, real_find, real_version = resolution.resolve, store.find, resolution.installed_version

        def resolve(name: str, **kwargs: Any) -> resolution.Resolved:
            self.counts["resolve"] += 1
            return real_resolve(name, **kwargs)

        def find(family: str) -> store.StoreEntry | None:
            self.counts["store.find"] += 1
            return real_find(family)

        def installed_version(distribution: str) -> str | None:
            self.versions[distribution] += 1
            return None if distribution == missing else real_version(distribution)

        monkeypatch.setattr(resolution, "resolve", resolve)
        monkeypatch.setattr(store, "find", find)
        monkeypatch.setattr(resolution, "installed_version", installed_version)


def test_classic_control_make_resolves_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls(monkeypatch)
    with envpool.make("CartPole-v1", num_envs=2) as env:
        env.reset()
    assert calls.counts == {"resolve": 1}
    assert calls.versions == {}  # no extra, no sibling to look up


@pytest.mark.family("robotics")
def test_robotics_make_checks_each_sibling_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = Calls(monkeypatch)
    with envpool.make("FetchReach-v4", num_envs=1) as env:
        env.reset()
    assert calls.counts == {"resolve": 1}
    assert calls.versions == {s.distribution: 1 for s in FAMILIES["robotics"].siblings}
    assert len(calls.versions) == 2  # the asset wheel and mujoco-core


@pytest.mark.family("vizdoom")
def test_vizdoom_make_from_a_store_checks_the_store_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The asset package looks absent; a store (links to its files) stands in: one lookup of each."""
    source = resolution.locate("vizdoom")
    tree = tmp_path / "store" / "vizdoom"
    for entry in read_manifest(source.root).files:
        (tree / entry.path).parent.mkdir(parents=True, exist_ok=True)
        (tree / entry.path).symlink_to(source.root / entry.path)
    shutil.copyfile(source.root / "manifest.json", tree / "manifest.json")
    monkeypatch.setenv(store.ENV_VAR, str(tmp_path / "store"))
    calls = Calls(monkeypatch, missing=source.distribution)
    with envpool.make("DoomNav-MyWayHome-v0", num_envs=1, height=60, width=80) as env:
        env.reset()
        assert env.spec.native_options["asset_root"] == str(tree)
    assert calls.counts == {"resolve": 1, "store.find": 1}
    assert calls.versions == {source.distribution: 1}


def _pins_of(extra: str) -> set[tuple[str, str]]:
    """The exact pins of ``extra`` in the installed envpool's Requires-Dist, read with packaging."""
    pins = set()
    for line in metadata.requires("envpool") or []:
        req = Requirement(line)
        if req.marker is not None and req.marker.evaluate({"extra": extra}) and not req.marker.evaluate({"extra": ""}):
            (spec,) = req.specifier
            assert spec.operator == "==", line
            pins.add((canonicalize_name(req.name), spec.version))
    return pins


@pytest.mark.parametrize("name", OPTIONAL)
def test_sibling_pins_are_envpools_requires_dist(name: str) -> None:
    family = FAMILIES[name]
    assert family.extra is not None
    pins = {(s.distribution, s.version) for s in family.siblings}
    assert pins and pins == _pins_of(family.extra)


@pytest.mark.family("robotics")
def test_a_different_pin_in_the_metadata_changes_what_the_runtime_requires(monkeypatch: pytest.MonkeyPatch) -> None:
    """No version is typed in the runtime: rewrite mujoco-core's pin in the metadata and the checks follow it."""
    from envpool import robotics_loader

    pinned = robotics_loader.pin()
    pin_line = re.compile(rf"^{pinned.distribution}==\S+;")
    lines = tuple(pin_line.sub(f"{pinned.distribution}==9.9.9;", r) for r in metadata.requires("envpool") or [])
    monkeypatch.setattr(families, "_requirements", lambda: lines)
    families.extra_pins.cache_clear()
    try:
        assert robotics_loader.library() == "libmujoco.so.9.9.9"
        with pytest.raises(envpool.VersionSkewError) as info:
            resolution.resolve("robotics", check_files=False)
        assert f"needs {pinned.distribution}==9.9.9" in str(info.value)
        assert f"{pinned.distribution} {pinned.version} is installed" in str(info.value)
    finally:
        monkeypatch.undo()
        families.extra_pins.cache_clear()
    assert robotics_loader.library() == f"libmujoco.so.{pinned.version}"
