"""tools.release.thirdparty: which third-party requirements the offline cache holds, and filling it once.

pip is replaced by a fake that writes the files a download would, so nothing leaves the machine.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tools.common.distfile import write_wheel
from tools.release import thirdparty
from tools.release.release_set import AARCH64, ARCHES, GLIBC_FLOOR, X86_64

if TYPE_CHECKING:
    from tests.tools.conftest import ReleaseSet


def test_runtime_requirements_of_every_extra_without_our_own(good_set: ReleaseSet) -> None:
    """The fixture core pins each sibling (ours: left out) and mujoco-core for the robotics extra."""
    meta = "Metadata-Version: 2.4\nName: other\nVersion: 1\n"
    meta += 'Requires-Dist: py2only>=1; python_version < "3"\nRequires-Dist: platformdirs>=4\n'
    write_wheel(good_set.wheelhouse, "other", "1", {"other/__init__.py": b""}, metadata=meta)
    assert thirdparty.runtime_requirements(good_set.wheelhouse) == [
        "mujoco-core==4.0.0",
        "numpy>=1.26",
        "platformdirs>=4",
    ]


def test_test_requirements_drop_comments_and_blank_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "requirements.txt").write_text("# a comment\npytest>=8  # inline\n\nuv\n")
    (tmp_path / "tests" / "requirements-x.txt").write_text("omgifol==0.5.1\n")
    (tmp_path / "tests" / "other.txt").write_text("not-a-requirement\n")
    monkeypatch.setattr(thirdparty, "REPO", tmp_path)
    assert thirdparty.test_requirements() == ["omgifol==0.5.1", "pytest>=8", "uv"]  # files in name order


class FakePip:
    """``pip download`` writes a wheel, an sdist and one of our wheels; ``pip wheel`` turns an sdist into a wheel."""

    def __init__(self) -> None:
        self.downloads: list[list[str]] = []
        self.wheels: list[str] = []

    def __call__(self, cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        assert cmd[:3] == [sys.executable, "-m", "pip"], cmd
        if cmd[3] == "download":
            dest = cmd[cmd.index("--dest") + 1]
            self.downloads.append(cmd[cmd.index("--dest") + 2 :])
            for name in ("numpy-2.0.0-cp311-cp311-manylinux_2_17_x86_64.whl", "legacy-1.0.tar.gz"):
                (Path(dest) / name).write_bytes(b"x")
            (Path(dest) / "envpool_assets_vizdoom-0.0.1-py3-none-any.whl").write_bytes(b"ours")
        elif cmd[3] == "wheel":
            sdist = Path(cmd[-1])
            self.wheels.append(sdist.name)
            (Path(cmd[cmd.index("--wheel-dir") + 1]) / "legacy-1.0-py3-none-any.whl").write_bytes(b"built")
        else:
            pytest.fail(f"unexpected command {cmd}")
        return subprocess.CompletedProcess(cmd, 0)


def test_fill_downloads_once_builds_sdists_and_drops_our_distributions(
    good_set: ReleaseSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pip = FakePip()
    monkeypatch.setattr(thirdparty.process, "run", pip)
    monkeypatch.setattr(thirdparty, "test_requirements", lambda: ["pytest>=8"])
    cache = tmp_path / "cache"
    thirdparty.fill(good_set.wheelhouse, cache, ["extra-tool"])
    assert pip.downloads == [["extra-tool", "mujoco-core==4.0.0", "numpy>=1.26", "pytest>=8"]]
    assert pip.wheels == ["legacy-1.0.tar.gz"]
    files = sorted(p.name for p in cache.iterdir() if not p.name.startswith(".filled-"))
    assert files == ["legacy-1.0-py3-none-any.whl", "numpy-2.0.0-cp311-cp311-manylinux_2_17_x86_64.whl"]
    thirdparty.fill(good_set.wheelhouse, cache, ["extra-tool"])
    assert len(pip.downloads) == 1  # the same requirement set: nothing to do
    thirdparty.fill(good_set.wheelhouse, cache, ["another-tool"])
    assert len(pip.downloads) == 2  # a new requirement: pip runs again


def test_main_passes_its_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[Path, Path, list[str]]] = []
    monkeypatch.setattr(thirdparty, "fill", lambda wheelhouse, cache, extra: seen.append((wheelhouse, cache, extra)))
    argv = ["--wheelhouse", str(tmp_path / "wh"), "--cache", str(tmp_path / "c"), "twine"]
    assert thirdparty.main(argv) == 0
    assert seen == [(tmp_path / "wh", tmp_path / "c", ["twine"])]


def test_markers_are_evaluated_for_the_wheels_architecture(good_set: ReleaseSet) -> None:
    """An aarch64 wheel's requirement behind an aarch64 marker is aarch64's, not this host's; x86_64 wheels
    are left out of aarch64's requirements and the other way round."""
    arm = 'Requires-Dist: armonly==1; platform_machine == "aarch64"\n'
    arm += 'Requires-Dist: x86only==1; platform_machine == "x86_64"\n'
    meta = f"Metadata-Version: 2.4\nName: other\nVersion: 1\n{arm}"
    write_wheel(
        good_set.wheelhouse,
        "other",
        "1",
        {"other/__init__.py": b""},
        metadata=meta,
        tag="py3-none-manylinux_2_28_aarch64",
    )
    write_wheel(
        good_set.wheelhouse,
        "x86",
        "1",
        {"x86/__init__.py": b""},
        metadata=meta.replace("Name: other", "Name: x86"),
        tag="py3-none-manylinux_2_28_x86_64",
    )
    assert "armonly==1" in thirdparty.runtime_requirements(good_set.wheelhouse, AARCH64)
    assert "x86only==1" not in thirdparty.runtime_requirements(good_set.wheelhouse, AARCH64)
    assert "x86only==1" in thirdparty.runtime_requirements(good_set.wheelhouse, X86_64)
    assert "armonly==1" not in thirdparty.runtime_requirements(good_set.wheelhouse, X86_64)
    assert thirdparty.pinned_requirements(good_set.wheelhouse, AARCH64) == ["armonly==1", "mujoco-core==4.0.0"]


def test_pinned_wheels_are_downloaded_for_every_architecture_and_python_of_its_matrix(
    good_set: ReleaseSet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str, list[str]]] = []

    def fake_run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(
            (cmd[cmd.index("--python-version") + 1], cmd[cmd.index("--platform") + 1], cmd[cmd.index("--dest") + 2 :])
        )
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(thirdparty.process, "run", fake_run)
    thirdparty.fill_pinned(good_set.wheelhouse, tmp_path / "cache")
    floor = f"manylinux_{GLIBC_FLOOR[0]}_{GLIBC_FLOOR[1]}"
    expected = [(e.python, f"{floor}_{a.machine}", ["mujoco-core==4.0.0"]) for a in ARCHES for e in a.matrix]
    assert calls == expected
    assert ("3.13", f"{floor}_aarch64", ["mujoco-core==4.0.0"]) in calls  # aarch64's abi3 core is built by 3.13
