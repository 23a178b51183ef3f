"""The release set: every distribution this repository builds, how, and its size budget.

This table is the one place that declares budgets; the size guard, the release checker and the
benchmarks read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from tools import REPO

if TYPE_CHECKING:
    from pathlib import Path

WHEELHOUSE = REPO / "wheelhouse"
VERSION_FILE = REPO / "VERSION"

#: PyPI's default per-file limit; every artifact must stay strictly below it.
PYPI_FILE_LIMIT = 100_000_000
MB = 1_000_000

Kind = Literal["extension", "data", "library"]

#: The newest glibc any platform wheel of the set may need: the manylinux_2_28 policy (RHEL/Rocky 8,
#: Debian 11, Ubuntu 20.04 and newer). The build refuses a wheel whose symbols need more.
GLIBC_FLOOR = (2, 28)
MANYLINUX_FLOOR = f"manylinux_{GLIBC_FLOOR[0]}_{GLIBC_FLOOR[1]}"


@dataclass(frozen=True)
class CoreBuild:
    """One core wheel of the release matrix: the interpreter it is built with and its wheel tag."""

    python: str  # "3.12"
    tag: str  # "cp312-abi3": the name ``nox -s build -- --only TAG`` selects it by


#: cp311, and one stable-ABI wheel for CPython 3.12 and later (scikit-build-core's wheel.py-api).
CORE_MATRIX: tuple[CoreBuild, ...] = (CoreBuild("3.11", "cp311"), CoreBuild("3.12", "cp312-abi3"))


@dataclass(frozen=True)
class Package:
    """One distribution of the release set."""

    directory: str  # relative to the repository root
    distribution: str  # name on the index
    kind: Kind  # extension: scikit-build-core + auditwheel; data: hatchling; library: repackaged libraries
    budget: int  # compressed bytes allowed per artifact
    extra: str | None  # the core extra that installs it (None for the core)

    @property
    def path(self) -> Path:
        """Absolute path of the package directory."""
        return REPO / self.directory

    @property
    def normalized(self) -> str:
        """The distribution name as it appears in artifact file names."""
        return self.distribution.replace("-", "_")


PACKAGES: tuple[Package, ...] = (
    Package("packages/core", "envpool", "extension", 3 * MB, None),
    Package("packages/assets-vizdoom", "envpool-assets-vizdoom", "data", 15 * MB, "vizdoom"),
    Package("packages/assets-robotics", "envpool-assets-robotics", "data", 10 * MB, "robotics"),
    Package("packages/procgen-libs", "envpool-procgen-libs", "library", 25 * MB, "procgen"),
)


def version() -> str:
    """The one version of the whole set."""
    return VERSION_FILE.read_text(encoding="utf-8").strip()


def present() -> list[Package]:
    """The packages whose directory holds a pyproject.toml (the ones a build produces)."""
    return [p for p in PACKAGES if (p.path / "pyproject.toml").is_file()]


def package_of_artifact(filename: str) -> Package | None:
    """The package an artifact file name (wheel or sdist) belongs to."""
    stem = filename.split("-", 1)[0].lower()
    for p in PACKAGES:
        if p.normalized.lower() == stem:
            return p
    return None
