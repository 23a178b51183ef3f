"""What each asset family takes from which pinned upstream artifact, and under which license."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tools.assets import prune_mujoco
from tools.assets.tree import AssetError, Tree
from tools.release.release_set import package_of_extra

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass(frozen=True)
class FamilySpec:
    """How to compute one asset package's members from its registered tasks."""

    family: str
    artifact_name: str
    artifact_version: str
    artifact_filename: str
    #: the folder of the artifact that maps onto our asset root
    source_prefix: str
    #: registered task assets (roots) -> every file the wheel must hold, as paths below the root
    expand: Callable[[Tree, list[str]], list[str]]
    #: SPDX expression of one member
    license_of: Callable[[str], str]
    #: license texts copied verbatim from the artifact: (path in artifact, file in the package dir)
    upstream_licenses: tuple[tuple[str, str], ...] = ()

    @property
    def distribution(self) -> str:
        """The distribution name (the release set's table: the package the family's extra installs)."""
        return package_of_extra(self.family).distribution

    @property
    def import_name(self) -> str:
        """The import package name."""
        return package_of_extra(self.family).import_name


def _vizdoom_files(tree: Tree, roots: list[str]) -> list[str]:
    """The roots themselves (ViZDoom tasks list every file they read); each must exist, and the map a
    scenario .cfg names (``doom_scenario_path``) must be listed too, or the task would not load."""
    missing = [r for r in roots if not tree.exists(r)]
    if missing:
        raise AssetError(f"tasks.py lists {', '.join(missing)}, which the upstream artifact does not carry")
    for cfg in (r for r in roots if r.endswith(".cfg")):
        for line in tree.read(cfg).decode("utf-8", "replace").splitlines():
            key, sep, value = line.split("#", 1)[0].partition("=")
            if sep and key.strip().lower().replace("_", "") == "doomscenariopath":
                wad = posixpath.normpath(posixpath.join(posixpath.dirname(cfg), value.strip()))
                if wad not in roots:
                    raise AssetError(f"{cfg}: doom_scenario_path {value.strip()} is not listed in tasks.py")
    return sorted(roots)


def _mujoco_closure(tree: Tree, roots: list[str]) -> list[str]:
    return prune_mujoco.closure(tree, roots).paths()


def _vizdoom_license(path: str) -> str:
    return "BSD-3-Clause" if path.startswith("freedoom") else "MIT"


def _robotics_license(path: str) -> str:
    # assets/LICENSE.md: the Shadow Hand model carries Apache-2.0 code by Vikash Kumar; the Fetch
    # model has no separate terms and ships under gymnasium-robotics' MIT license.
    return "MIT AND Apache-2.0" if path.startswith(("hand/", "stls/hand/")) else "MIT"


_SPECS: tuple[FamilySpec, ...] = (
    FamilySpec(
        family="vizdoom",
        artifact_name="vizdoom",
        artifact_version="1.3.2",
        artifact_filename="vizdoom-1.3.2-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
        source_prefix="vizdoom/",
        expand=_vizdoom_files,
        license_of=_vizdoom_license,
    ),
    FamilySpec(
        family="robotics",
        artifact_name="gymnasium-robotics",
        artifact_version="1.4.2",
        artifact_filename="gymnasium_robotics-1.4.2-py3-none-any.whl",
        source_prefix="gymnasium_robotics/envs/assets/",
        expand=_mujoco_closure,
        license_of=_robotics_license,
        upstream_licenses=(
            ("gymnasium_robotics/envs/assets/LICENSE.md", "licenses/gymnasium-robotics-assets-LICENSE.md"),
            ("gymnasium_robotics-1.4.2.dist-info/licenses/LICENSE", "licenses/gymnasium-robotics-LICENSE"),
        ),
    ),
)
#: family (the core extra that installs its asset package) -> spec
SPECS: dict[str, FamilySpec] = {s.family: s for s in _SPECS}


def spec(family: str) -> FamilySpec:
    """The spec of ``family``; raises AssetError listing the known families."""
    try:
        return SPECS[family]
    except KeyError:
        raise AssetError(f"unknown asset family {family!r}; known: {', '.join(sorted(SPECS))}") from None
