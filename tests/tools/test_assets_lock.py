"""The asset lock: hash checks stop staging with the right name, the lock check follows tasks.py."""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from tools.assets.families import SPECS
from tools.assets.lockfile import Artifact, Lock, Member, load, lock_path
from tools.assets.lockgen import check, check_roots
from tools.assets.paths import package_dir, repo_root
from tools.assets.stage import manifest, stage_lock
from tools.assets.tree import AssetError, ZipTree

if TYPE_CHECKING:
    from pathlib import Path

ARTIFACT = "fake_upstream-1.0-py3-none-any.whl"
FILES = {"fake/freedoom2.wad": b"IWAD" + bytes(100), "fake/scenarios/a.cfg": b"doom_scenario_path = a.wad\n"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Lock, Path]:
    """A crafted artifact in its own cache and a lock that matches it; no network is reachable."""
    cache = tmp_path / "cache"
    cache.mkdir()
    with zipfile.ZipFile(cache / ARTIFACT, "w") as zf:
        for name, data in FILES.items():
            zf.writestr(name, data)
    blob = (cache / ARTIFACT).read_bytes()
    monkeypatch.setenv("ENVPOOL_ARTIFACT_CACHE", str(cache))
    monkeypatch.setenv("PIP_INDEX_URL", "http://127.0.0.1:9/simple")  # any fetch attempt fails fast
    members = tuple(
        Member(ARTIFACT, name, name.removeprefix("fake/"), sha(data), len(data), len(data), "MIT")
        for name, data in FILES.items()
    )
    lock = Lock(
        family="fake",
        distribution="envpool-assets-fake",
        import_name="envpool_assets_fake",
        roots=tuple(m.path for m in members),
        artifacts=(Artifact("fake-upstream", "1.0", ARTIFACT, sha(blob), len(blob)),),
        members=members,
        licenses=(),
    )
    return lock, cache


def test_stage_good_lock(fake: tuple[Lock, Path], tmp_path: Path) -> None:
    lock, cache = fake
    dest = stage_lock(lock, tmp_path / "staged", cache, recompute=False)
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()) == lock.paths()
    assert (dest / "freedoom2.wad").read_bytes() == FILES["fake/freedoom2.wad"]


def test_artifact_hash_mismatch_names_the_artifact(fake: tuple[Lock, Path], tmp_path: Path) -> None:
    lock, cache = fake
    with zipfile.ZipFile(cache / ARTIFACT, "a") as zf:  # the cached artifact is tampered with
        zf.writestr("fake/extra", b"x")
    with pytest.raises(AssetError, match=rf"artifact {ARTIFACT}: sha256 mismatch"):
        stage_lock(lock, tmp_path / "staged", cache, recompute=False)
    assert not (tmp_path / "staged").exists()


def test_member_hash_mismatch_names_the_member(fake: tuple[Lock, Path], tmp_path: Path) -> None:
    lock, cache = fake
    bad = replace(lock.members[1], sha256="0" * 64)
    lock = replace(lock, members=(lock.members[0], bad))
    with pytest.raises(AssetError, match=r"member scenarios/a\.cfg \(fake/scenarios/a\.cfg in .*\): sha256 mismatch"):
        stage_lock(lock, tmp_path / "staged", cache, recompute=False)
    assert not (tmp_path / "staged").exists()


def test_manifest_lists_every_member_with_its_hash(fake: tuple[Lock, Path]) -> None:
    lock, _cache = fake
    data = json.loads(manifest(lock, "9.8.7"))
    assert data["version"] == "9.8.7" and data["family"] == lock.family
    assert data["files"] == {m.path: {"sha256": m.sha256, "size": m.size, "license": m.license} for m in lock.members}


def test_check_fails_when_tasks_lists_a_file_the_lock_lacks(tmp_path: Path) -> None:
    tasks = (repo_root() / "packages/core/src/envpool/tasks.py").read_text()
    crafted = tmp_path / "tasks.py"
    # a new task that reads a scenario the lock does not carry
    extra = 'Task("Extra-v0", "vizdoom", assets={"map_wad": "scenarios/basic.wad"})'
    crafted.write_text(tasks + f"\nTASKS = (*TASKS, {extra})\n")
    with pytest.raises(AssetError, match=r"tasks\.py lists scenarios/basic\.wad, which the vizdoom lock lacks"):
        check("vizdoom", tasks_file=crafted)


def test_check_fails_when_a_task_no_longer_uses_a_locked_root() -> None:
    lock = load(lock_path(package_dir("robotics")))
    with pytest.raises(AssetError, match=r"roots no task uses any more \(hand/reach\.xml\)"):
        check_roots(lock, [r for r in lock.roots if r != "hand/reach.xml"])


@pytest.mark.parametrize("family", sorted(SPECS))
def test_committed_locks_match_tasks(family: str) -> None:
    notes = check(family)
    assert notes and notes[0].startswith(family)


def test_lock_members_cover_tasks_and_name_their_license() -> None:
    for family in SPECS:
        lock = load(lock_path(package_dir(family)))
        assert {m.license for m in lock.members} <= {"MIT", "BSD-3-Clause", "MIT AND Apache-2.0"}
        assert all(len(m.sha256) == 64 and m.size > 0 for m in lock.members)
        assert set(lock.roots) <= set(lock.paths())


def test_no_package_directory_holds_a_symbolic_link() -> None:
    """An sdist must build alone: uv refuses a link that points outside it, so the sources hold none."""
    links = [p for p in (repo_root() / "packages").rglob("*") if p.is_symlink()]
    assert not links, f"symbolic links under packages/: {links}"


def test_vizdoom_cfg_whose_map_is_not_listed_fails(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "v.whl", "w") as zf:
        zf.writestr("vizdoom/scenarios/a.cfg", "# comment\ndoom_scenario_path = a.wad\n")
        zf.writestr("vizdoom/scenarios/a.wad", b"PWAD")
    with zipfile.ZipFile(tmp_path / "v.whl") as zf:
        tree = ZipTree(zf, "vizdoom/")
        expand = SPECS["vizdoom"].expand
        assert expand(tree, ["scenarios/a.cfg", "scenarios/a.wad"]) == ["scenarios/a.cfg", "scenarios/a.wad"]
        with pytest.raises(AssetError, match=r"scenarios/a\.cfg: doom_scenario_path a\.wad is not listed"):
            expand(tree, ["scenarios/a.cfg"])
        with pytest.raises(AssetError, match=r"tasks\.py lists scenarios/b\.wad, which the upstream artifact"):
            expand(tree, ["scenarios/b.wad"])
