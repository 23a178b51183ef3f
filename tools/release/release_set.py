"""The release set: every distribution this repository builds, how, its size budget, and the pins.

This table is the one place that declares the distributions and their names, the core's extras
(which distributions each extra pulls in; ``all`` is their union), the third-party pins (mujoco-core
and its version), the libraries the core's auditwheel repair leaves to a sibling, and the budgets.
Everything else derives from it: the size guard, the release checker, the install matrix and the
benchmarks read it; ``tools.release.build`` writes what the core's own build needs into
``packages/core/pins.json`` (:func:`core_pins`), and the core's build backend
(packages/core/backend/envpool_backend.py) turns that into build requirements and extras.
tests/tools/test_one_place.py fails when one of these facts is typed anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from tools import REPO

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

WHEELHOUSE = REPO / "wheelhouse"
VERSION_FILE = REPO / "VERSION"
#: Third-party wheels the tests and the install matrix install offline (tools.release.thirdparty fills it).
THIRDPARTY = REPO / ".cache" / "thirdparty"
#: The core's build inputs derived from this table, written by tools.release.build (untracked; in the sdist).
PINS_FILE = "pins.json"

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
class Arch:
    """A CPU architecture the set is built for (on this x86-64 machine), and each system's name for it."""

    machine: str  # platform_machine and the wheel tag's suffix: "x86_64", "aarch64"
    debian: str  # Debian's architecture name: "amd64", "arm64"
    elf_machine: str  # the ELF header's e_machine, as pyelftools names it: "EM_X86_64", "EM_AARCH64"
    #: the core wheels (same tags on every architecture). The interpreter runs the build; the headers
    #: of a cross build come from the target's Debian packages (tools/release/cross.py), and Debian
    #: ships no 3.12, so aarch64's stable-ABI wheel is compiled by 3.13 with Py_LIMITED_API 3.12.
    matrix: tuple[CoreBuild, ...]
    #: the newest glibc the library wheel's upstream binaries need; the core's own wheels always stay
    #: at GLIBC_FLOOR. aarch64: no PyPI wheel carries an aarch64 Qt 5, and Debian 11's libQt5Core
    #: needs GLIBC_2.29 and GLIBCXX_3.4.28, which auditwheel's policies place at manylinux_2_31.
    library_glibc: tuple[int, int] = GLIBC_FLOOR

    @property
    def zig_target(self) -> str:
        """zig's target triple for this architecture at the set's glibc floor."""
        return f"{self.machine}-linux-gnu.{GLIBC_FLOOR[0]}.{GLIBC_FLOOR[1]}"

    @property
    def platform(self) -> Platform:
        """Linux on this architecture, as environment markers name it."""
        return Platform("Linux", self.machine)

    def floor(self, kind: Kind) -> tuple[int, int]:
        """The newest glibc a wheel of ``kind`` for this architecture may need."""
        return self.library_glibc if kind == "library" else GLIBC_FLOOR


X86_64 = Arch("x86_64", "amd64", "EM_X86_64", CORE_MATRIX)
AARCH64 = Arch("aarch64", "arm64", "EM_AARCH64", (CoreBuild("3.11", "cp311"), CoreBuild("3.13", "cp312-abi3")), (2, 31))
#: Every architecture a release publishes; the first is this build machine's own.
ARCHES: tuple[Arch, ...] = (X86_64, AARCH64)


def arch_of(machine: str) -> Arch:
    """The architecture named ``machine`` (a wheel tag's suffix or platform_machine)."""
    for a in ARCHES:
        if a.machine == machine:
            return a
    raise KeyError(f"{machine!r} is not an architecture of the release set; known: {[a.machine for a in ARCHES]}")


def arch_of_wheel(filename: str) -> Arch | None:
    """The architecture of a platform wheel's file name (None for a pure or unknown-platform wheel)."""
    platforms = filename.removesuffix(".whl").split("-")[-1].split(".")
    for a in ARCHES:
        if all(p.endswith("_" + a.machine) for p in platforms):
            return a
    return None


@dataclass(frozen=True)
class Pin:
    """A third-party distribution the set pins exactly, and the shared library of it the core links."""

    distribution: str
    version: str
    soname_template: str = ""  # "{version}" is replaced; empty when the core links none of it

    @property
    def requirement(self) -> str:
        """The exact requirement, e.g. ``mujoco-core==4.0.0``."""
        return f"{self.distribution}=={self.version}"

    @property
    def soname(self) -> str:
        """The soname of its library the core links against (empty when none)."""
        return self.soname_template.format(version=self.version)


#: MuJoCo's C library: the core compiles against it, the robotics extra installs it, and the core
#: wheel never carries it (auditwheel repair excludes it; at run time it comes from mujoco-core).
MUJOCO_CORE = Pin("mujoco-core", "4.0.0", "libmujoco.so.{version}")


@dataclass(frozen=True)
class Platform:
    """A platform a wheel is published for, as environment markers name it."""

    system: str  # platform_system, e.g. "Linux"
    machine: str  # platform_machine, e.g. "x86_64"

    @property
    def marker(self) -> str:
        """The environment marker true on this platform only."""
        return f'platform_system == "{self.system}" and platform_machine == "{self.machine}"'

    def environment(self, extra: str = "") -> dict[str, str]:
        """The marker environment of an install on this platform under ``extra`` (other variables: the host's)."""
        return {"platform_system": self.system, "platform_machine": self.machine, "extra": extra}


#: Linux on each architecture of the set: the platforms the library wheel is published for.
LINUX: tuple[Platform, ...] = tuple(a.platform for a in ARCHES)


def platform_marker(platforms: Sequence[Platform]) -> str:
    """The environment marker true on exactly ``platforms`` (one of them)."""
    markers = [p.marker for p in platforms]
    return markers[0] if len(markers) == 1 else " or ".join(f"({m})" for m in markers)


#: The extra that installs every sibling: the union of all the other extras.
ALL_EXTRA = "all"


@dataclass(frozen=True)
class Package:
    """One distribution of the release set."""

    directory: str  # relative to the repository root
    distribution: str  # name on the index
    kind: Kind  # extension: scikit-build-core + auditwheel; data: hatchling; library: repackaged libraries
    budget: int  # compressed bytes allowed per artifact
    extra: str | None  # the core extra that installs it (None for the core)
    extra_pins: tuple[Pin, ...] = ()  # third-party pins its extra installs beside it
    build_pins: tuple[Pin, ...] = ()  # third-party pins its build compiles against (their libraries excluded)
    #: the platforms its wheels are published for, when not every platform its sdist builds on: the
    #: extra's requirement carries their marker (a source build elsewhere uses the system's library)
    platforms: tuple[Platform, ...] = ()

    @property
    def path(self) -> Path:
        """Absolute path of the package directory."""
        return REPO / self.directory

    @property
    def normalized(self) -> str:
        """The distribution name as it appears in artifact file names."""
        return self.distribution.replace("-", "_")

    def requirement(self, version: str) -> str:
        """Its requirement in the core's extra: ``==version``, with the marker of its platforms if it has any."""
        marker = f"; {platform_marker(self.platforms)}" if self.platforms else ""
        return f"{self.distribution}=={version}{marker}"

    @property
    def import_name(self) -> str:
        """Its top-level import package (the normalized distribution name, by this set's convention)."""
        return self.normalized


PACKAGES: tuple[Package, ...] = (
    Package("packages/core", "envpool", "extension", 3 * MB, None, build_pins=(MUJOCO_CORE,)),
    Package("packages/assets-vizdoom", "envpool-assets-vizdoom", "data", 15 * MB, "vizdoom"),
    Package("packages/assets-robotics", "envpool-assets-robotics", "data", 10 * MB, "robotics", (MUJOCO_CORE,)),
    Package("packages/procgen-libs", "envpool-procgen-libs", "library", 12 * MB, "procgen", platforms=LINUX),
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


def package_of_extra(extra: str | None) -> Package:
    """The package the core extra ``extra`` installs (``None``: the core itself)."""
    for p in PACKAGES:
        if p.extra == extra:
            return p
    raise KeyError(f"no package of the release set has extra {extra!r}; known: {[p.extra for p in PACKAGES]}")


def package_of_kind(kind: Kind) -> Package:
    """The one package of ``kind`` (the core is the one extension, envpool-procgen-libs the one library)."""
    (package,) = [p for p in PACKAGES if p.kind == kind]
    return package


def optional_dependencies(version: str) -> dict[str, list[str]]:
    """The core's extras: each sibling at ``==version`` (with its platforms' marker) and its third-party pins,
    then ``all``, their union."""
    extras = {
        p.extra: [p.requirement(version), *(pin.requirement for pin in p.extra_pins)]
        for p in PACKAGES
        if p.extra is not None
    }
    extras[ALL_EXTRA] = list(dict.fromkeys(r for reqs in extras.values() for r in reqs))
    return extras


def excluded_libraries(package: Package) -> list[str]:
    """Sonames of the third-party libraries ``package`` links against and must not carry."""
    return [pin.soname for pin in package.build_pins if pin.soname]


def combinations(packages: Sequence[Package]) -> list[str | None]:
    """The extras combinations to test: None (the core alone), each extra of ``packages``, and ``all``
    when ``packages`` holds every sibling."""
    extras = sorted({p.extra for p in packages if p.extra})
    every = sorted({p.extra for p in PACKAGES if p.extra})
    combos: list[str | None] = [None, *extras]
    if extras and extras == every:
        combos.append(ALL_EXTRA)
    return combos


def core_pins(version: str) -> dict[str, object]:
    """The content of ``packages/core/pins.json``: what the core's sdist and wheel builds take from this table.

    ``build-requires`` (added by the core's build backend to scikit-build-core's), ``mujoco`` (read by
    cpp/robotics/find_mujoco.py for CMake), ``optional-dependencies`` (the core's extras) and
    ``procgen-libs`` (the platforms of the library wheel: CMake's ``ENVPOOL_QT=auto`` links the system's
    Qt elsewhere).
    """
    core = package_of_kind("extension")
    library = package_of_kind("library")
    return {
        "generated-by": "tools.release.build from tools/release/release_set.py: edit the table, not this file",
        "build-requires": [pin.requirement for pin in core.build_pins],
        "mujoco": {
            "distribution": MUJOCO_CORE.distribution,
            "version": MUJOCO_CORE.version,
            "library": MUJOCO_CORE.soname,
        },
        "optional-dependencies": optional_dependencies(version),
        "procgen-libs": {
            "distribution": library.distribution,
            "platforms": [{"system": p.system, "machine": p.machine} for p in library.platforms],
        },
    }
