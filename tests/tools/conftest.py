"""Fixtures for the release-tool tests: a small, valid release set built from scratch.

The set mimics ours (a core wheel + sdist whose extras pin every sibling of
tools/release_set.PACKAGES, and a data sibling wheel + sdist) but is tiny and pure, so each test
can break one thing by rewriting a wheel (tools.common.distfile.rewrite_wheel fixes RECORD) and see
exactly one check fail.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from tools.common.distfile import write_sdist, write_wheel
from tools.release import release_set

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

README = "# {name}\n\nA test fixture of the envpool release set.\n"


#: The marker of the library sibling's requirement: the platforms its wheels are published for.
LIBRARY_MARKER = 'platform_system == "Linux" and platform_machine == "x86_64"'


def core_metadata(version: str, *, pin: str | None = None, dynamic: tuple[str, ...] = ()) -> str:
    """METADATA / PKG-INFO text of a core distribution pinning every sibling to ``pin`` (default ==version);
    the library sibling behind :data:`LIBRARY_MARKER`."""
    pin = pin if pin is not None else f"=={version}"
    lines = [
        "Metadata-Version: 2.4",
        "Name: envpool",
        f"Version: {version}",
        "Summary: Batched C++ reinforcement-learning environments.",
        "License-Expression: Apache-2.0",
        "Requires-Python: >=3.11",
        *(f"Dynamic: {d}" for d in dynamic),
        "Requires-Dist: numpy>=1.26",
    ]
    siblings = [p for p in release_set.PACKAGES if p.extra is not None]
    markers = {p.extra: f"{LIBRARY_MARKER} and " if p.kind == "library" else "" for p in siblings}
    for p in siblings:
        lines.append(f"Provides-Extra: {p.extra}")
        lines.append(f'Requires-Dist: {p.distribution}{pin}; {markers[p.extra]}extra == "{p.extra}"')
        if p.extra == "robotics":
            lines.append('Requires-Dist: mujoco-core==4.0.0; extra == "robotics"')
    lines.append("Provides-Extra: all")
    for p in siblings:
        lines.append(f'Requires-Dist: {p.distribution}{pin}; {markers[p.extra]}extra == "all"')
    lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + README.format(name="envpool")


def data_metadata(distribution: str, version: str) -> str:
    """METADATA text of a data sibling."""
    return (
        f"Metadata-Version: 2.4\nName: {distribution}\nVersion: {version}\n"
        "Summary: Data files of one envpool family.\nLicense-Expression: BSD-3-Clause\n"
        "Requires-Python: >=3.11\nDescription-Content-Type: text/markdown\n\n" + README.format(name=distribution)
    )


CORE_FILES = {
    "envpool/__init__.py": b'"""envpool."""\n\n__version__ = "x"\n',
    "envpool/registration.py": b'"""Registry."""\n',
    "envpool/py.typed": b"",
}
DATA_FILES = {
    "envpool_assets_vizdoom/__init__.py": b'"""Assets."""\n',
    "envpool_assets_vizdoom/data/freedoom2.wad": b"PWAD" + bytes(60),
}


@dataclass
class ReleaseSet:
    """Paths of the fixture set in its own wheelhouse."""

    wheelhouse: Path
    version: str
    core_wheel: Path
    core_sdist: Path
    data_wheel: Path
    data_sdist: Path

    def copy_to(self, directory: Path) -> ReleaseSet:
        """A copy of the set in ``directory`` (to break one artifact without touching the cached one)."""
        directory.mkdir(parents=True, exist_ok=True)
        for p in self.wheelhouse.iterdir():
            shutil.copy2(p, directory / p.name)
        return ReleaseSet(
            directory,
            self.version,
            *(directory / p.name for p in (self.core_wheel, self.core_sdist, self.data_wheel, self.data_sdist)),
        )


def build_release_set(wheelhouse: Path, version: str) -> ReleaseSet:
    """Write the good fixture set into ``wheelhouse``."""
    data = "envpool-assets-vizdoom"
    return ReleaseSet(
        wheelhouse,
        version,
        write_wheel(wheelhouse, "envpool", version, CORE_FILES, metadata=core_metadata(version)),
        write_sdist(wheelhouse, "envpool", version, {"README.md": b"# envpool\n"}, pkg_info=core_metadata(version)),
        write_wheel(wheelhouse, data, version, DATA_FILES, metadata=data_metadata(data, version)),
        write_sdist(wheelhouse, data, version, {"README.md": b"# data\n"}, pkg_info=data_metadata(data, version)),
    )


@pytest.fixture(scope="session")
def _good_set(tmp_path_factory: pytest.TempPathFactory) -> ReleaseSet:
    return build_release_set(tmp_path_factory.mktemp("good-set"), release_set.version())


@pytest.fixture
def good_set(_good_set: ReleaseSet, tmp_path: Path) -> ReleaseSet:
    """A fresh copy of a valid fixture release set (core + vizdoom data, wheels and sdists)."""
    return _good_set.copy_to(tmp_path / "wheelhouse")


@pytest.fixture
def release_set_factory() -> Callable[[Path, str], ReleaseSet]:
    """Build a fixture set for a given version."""
    return build_release_set


@pytest.fixture
def core_metadata_text() -> Callable[..., str]:
    """The core METADATA/PKG-INFO text builder: ``core_metadata_text(version, pin=..., dynamic=(...))``."""
    return core_metadata
