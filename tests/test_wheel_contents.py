"""The core wheel holds exactly what it should, and its metadata pins the siblings to this version."""

from __future__ import annotations

import re
import zipfile
from typing import TYPE_CHECKING

import pytest

from tests.helpers import wheel_for_this_python
from tools.common.distfile import artifact
from tools.release.release_set import PACKAGES, platform_marker

if TYPE_CHECKING:
    from pathlib import Path


def _core_wheel(wheelhouse: Path) -> Path:
    """The core wheel of the release matrix this interpreter installs (cp311, or cp312-abi3 from 3.12)."""
    return wheel_for_this_python(wheelhouse, "envpool")


def test_core_wheel_files(wheelhouse: Path, repo_root: Path) -> None:
    import envpool
    from envpool.families import FAMILIES

    wheel = _core_wheel(wheelhouse)
    names = zipfile.ZipFile(wheel).namelist()
    names = [n for n in names if not n.endswith("/")]  # directory entries
    package_files = {n for n in names if n.startswith("envpool/")}
    sources = {f"envpool/{p.name}" for p in (repo_root / "packages/core/src/envpool").iterdir() if p.is_file()}
    expected_python = sources | {"envpool/_version.py", "envpool/_procgen_abi.json"}  # both generated
    python_files = {n for n in package_files if not n.endswith(".so")}
    assert python_files == expected_python
    modules = {re.sub(r"\..*", "", n.removeprefix("envpool/")) for n in package_files if n.endswith(".so")}
    assert modules == {f.module.removeprefix("envpool.") for f in FAMILIES.values()}
    others = {n for n in names if not n.startswith("envpool/")}
    dist_info = f"envpool-{envpool.__version__}.dist-info/"
    assert all(n.startswith(dist_info) for n in others), others  # no envpool.libs: nothing grafted
    assert {dist_info + f for f in ("METADATA", "WHEEL", "RECORD")} <= others


def test_core_wheel_requires_dist(wheelhouse: Path, repo_root: Path) -> None:
    version = (repo_root / "VERSION").read_text().strip()
    meta = artifact(_core_wheel(wheelhouse)).fields()
    assert meta["Version"] == [version]
    siblings = {p.distribution: p.extra for p in PACKAGES if p.extra}
    expected = {"numpy>=1.26", "gymnasium>=1.0", "platformdirs>=4", "filelock>=3.12"}
    for p in PACKAGES:
        if p.extra:
            # a sibling published for some platforms only (the library wheel) carries their marker
            marker = platform_marker(p.platforms)
            where = (f"({marker}) and " if " or " in marker else f"{marker} and ") if p.platforms else ""
            expected.add(f'{p.distribution}=={version}; {where}extra == "{p.extra}"')
            expected.add(f'{p.distribution}=={version}; {where}extra == "all"')
    expected |= {'mujoco-core==4.0.0; extra == "robotics"', 'mujoco-core==4.0.0; extra == "all"'}
    assert set(meta.get("Requires-Dist", [])) == expected
    assert set(meta.get("Provides-Extra", [])) == {*siblings.values(), "all"}


@pytest.mark.parametrize("suffix", [".tar.gz"])
def test_core_sdist_carries_version_file(wheelhouse: Path, suffix: str, repo_root: Path) -> None:
    import tarfile

    (sdist,) = wheelhouse.glob(f"envpool-*{suffix}")
    with tarfile.open(sdist) as tf:
        member = next(m for m in tf.getmembers() if m.name.endswith("/VERSION") and m.name.count("/") == 1)
        assert member.isfile(), "VERSION must be a real file in the sdist, not a link"
        f = tf.extractfile(member)
        assert f is not None
        assert f.read().decode().strip() == (repo_root / "VERSION").read_text().strip()
