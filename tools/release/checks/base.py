"""What every check of the release-set checker shares: the context, the result, the verdict helpers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from packaging.utils import canonicalize_name

from tools.common.distfile import Artifact
from tools.release import release_set
from tools.release.thirdparty import CACHE as THIRDPARTY

if TYPE_CHECKING:
    from pathlib import Path

Status = Literal["PASS", "FAIL", "SKIP"]

#: package kinds that publish no sdist: a library wheel repackages binary upstream packages; its sdist
#: builds (packages/procgen-libs is a PEP 517 project) but needs the network and Linux x86_64 binaries.
NO_SDIST_KINDS = {"library"}


@dataclass(frozen=True)
class Result:
    """The outcome of one check on one artifact."""

    check: str
    artifact: str
    status: Status
    message: str = ""

    def line(self) -> str:
        """The printed line: status, check name, file, then why."""
        tail = f": {self.message}" if self.message else ""
        return f"{self.status} {self.check} {self.artifact}{tail}"


@dataclass
class Context:
    """Everything a check may need about the set under test."""

    wheelhouse: Path
    version: str
    artifacts: list[Artifact]
    require_sdist: bool = False
    packages: Sequence[release_set.Package] = release_set.PACKAGES
    #: the architectures a release must cover: each one's core wheels (``arch.matrix``) and library wheel
    arches: Sequence[release_set.Arch] = release_set.ARCHES
    thirdparty: Path = THIRDPARTY  # the third-party wheels the core pins (the linkage check's providers)
    _members: dict[Path, list[str]] = field(default_factory=dict)

    def members(self, a: Artifact) -> list[str]:
        """Cached archive member list."""
        if a.path not in self._members:
            self._members[a.path] = a.members()
        return self._members[a.path]

    def package(self, a: Artifact) -> release_set.Package | None:
        """The release-set package of an artifact."""
        name = canonicalize_name(a.name)
        for p in self.packages:
            if canonicalize_name(p.distribution) == name:
                return p
        return None

    def sdist_of(self, wheel: Artifact) -> Artifact | None:
        """The sdist of the same distribution and version as ``wheel``."""
        for a in self.artifacts:
            if (
                a.kind == "sdist"
                and canonicalize_name(a.name) == canonicalize_name(wheel.name)
                and a.version == wheel.version
            ):
                return a
        return None


Check = Callable[[Context, Artifact], tuple[Status, str]]


def ok(msg: str = "") -> tuple[Status, str]:
    """A passing verdict."""
    return "PASS", msg


def fail(msg: str) -> tuple[Status, str]:
    """A failing verdict: ``msg`` says what is wrong and the fix."""
    return "FAIL", msg


def skip(msg: str) -> tuple[Status, str]:
    """The check does not apply: ``msg`` says why."""
    return "SKIP", msg


def arch_of(a: Artifact) -> release_set.Arch | None:
    """The architecture of a platform wheel (None for a pure wheel, an sdist or a platform outside the set)."""
    return release_set.arch_of_wheel(a.filename) if a.is_platform_wheel else None


def is_core(ctx: Context, a: Artifact) -> bool:
    """The artifact is of the core distribution (the one without an extra)."""
    p = ctx.package(a)
    return p is not None and p.extra is None
