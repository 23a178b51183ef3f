"""Env families: which extension module implements each, which extra it needs, and that extra's pins.

The distributions an extra needs and their exact versions are not written here: they are read at
run time from the installed ``envpool`` distribution's own metadata (its ``Requires-Dist`` lines
with ``extra == "<extra>"``), the pins the build wrote from the one table. Nothing here imports a
family's extension module, and the metadata is read only when a family with an extra is used, so
``import envpool`` stays fast and works with only the core installed.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from envpool._version import __version__
from envpool.errors import BrokenInstallError

#: The prefix of the asset distributions: a sibling named so is a family's data, which a store may stand in for.
ASSET_PREFIX = "envpool-assets-"
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;,]+)\s*;(.*)$")
_EXTRA = re.compile(r"""\bextra\s*==\s*["']([^"']+)["']""")


@dataclass(frozen=True)
class Sibling:
    """A sibling distribution a family needs at run time, at its exact pinned version."""

    distribution: str  # name on the package index, e.g. "envpool-assets-vizdoom"
    version: str  # the exact version this envpool pins

    @property
    def import_name(self) -> str:
        """Its import package, e.g. "envpool_assets_vizdoom" (used for the asset packages)."""
        return re.sub(r"[-_.]+", "_", self.distribution).lower()

    @property
    def is_assets(self) -> bool:
        """True for an ``envpool-assets-*`` distribution (data an asset store may stand in for)."""
        return self.distribution.lower().startswith(ASSET_PREFIX)


@dataclass(frozen=True)
class Family:
    """One env family: its extension module and the extra that installs what it needs."""

    name: str
    module: str
    extra: str | None = None
    #: "module:function" run after the family resolved and before the extension is imported, e.g. to
    #: load shared libraries a sibling wheel provides; it raises BrokenInstallError when unusable
    preload: str | None = None
    #: "module:function" telling whether this build uses the system's copy of what the family's library
    #: siblings provide (a source build with the system's Qt): then they are neither needed nor loaded
    uses_system: str | None = None

    def system_provided(self) -> bool:
        """True when this build takes the libraries of the family's non-asset siblings from the system."""
        if self.uses_system is None:
            return False
        import importlib

        module_name, _, function = self.uses_system.partition(":")
        return bool(getattr(importlib.import_module(module_name), function)())

    @property
    def siblings(self) -> tuple[Sibling, ...]:
        """The distributions the family's extra pins, asset distributions first (from envpool's metadata)."""
        return () if self.extra is None else extra_pins(self.extra)

    @property
    def asset_sibling(self) -> Sibling | None:
        """The family's asset distribution, if it has one."""
        return next((s for s in self.siblings if s.is_assets), None)

    def pip_line(self) -> str:
        """The exact command that installs what this family needs."""
        if self.extra is None:
            return f'pip install "envpool=={__version__}"'
        return f'pip install "envpool[{self.extra}]=={__version__}"'


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("classic_control", "envpool._classic_control"),
        Family("vizdoom", "envpool._vizdoom", extra="vizdoom"),
        Family("robotics", "envpool._robotics", extra="robotics", preload="envpool.robotics_loader:preload"),
        Family(
            "procgen",
            "envpool._procgen",
            extra="procgen",
            preload="envpool.procgen_loader:preload",
            uses_system="envpool.procgen_loader:uses_system_qt",
        ),
    )
}


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None when it is not installed."""
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


@functools.cache
def _requirements() -> tuple[str, ...]:
    """``Requires-Dist`` of the installed envpool distribution this package belongs to."""
    from importlib import metadata

    here = Path(__file__).resolve().parent
    candidates = list(metadata.distributions(name="envpool"))
    for dist in candidates:
        if Path(str(dist.locate_file("envpool"))).resolve() == here:
            return tuple(dist.requires or ())
    for dist in candidates:
        if dist.version == __version__:
            return tuple(dist.requires or ())
    found = ", ".join(sorted({d.version for d in candidates})) or "none"
    raise BrokenInstallError(
        f"envpool {__version__} has no installed metadata of its own (envpool metadata found: {found}), so the "
        "versions its extras pin are unknown. Reinstall it with:\n"
        f'    pip install --force-reinstall "envpool=={__version__}"'
    )


@functools.cache
def extra_pins(extra: str) -> tuple[Sibling, ...]:
    """The ``name==version`` requirements of envpool's ``extra``, asset distributions first."""
    pins = []
    for line in _requirements():
        match = _PIN.match(line)
        if match and extra in _EXTRA.findall(match[3]):
            pins.append(Sibling(re.sub(r"[-_.]+", "-", match[1]).lower(), match[2]))
    if not pins:
        raise BrokenInstallError(
            f"the installed metadata of envpool {__version__} pins nothing for the extra [{extra}]. Reinstall "
            f'it with:\n    pip install --force-reinstall "envpool[{extra}]=={__version__}"'
        )
    return tuple(sorted(pins, key=lambda s: not s.is_assets))


def all_pins() -> dict[str, str]:
    """Every distribution this envpool pins exactly (itself included): name -> version."""
    pins = {"envpool": __version__}
    for family in FAMILIES.values():
        pins.update((s.distribution, s.version) for s in family.siblings)
    return pins


def asset_families() -> list[str]:
    """The names of the families that have assets."""
    return [name for name, family in FAMILIES.items() if family.asset_sibling is not None]


def family(name: str) -> Family:
    """The family called ``name``; KeyError naming the known ones otherwise."""
    found = FAMILIES.get(name)
    if found is None:
        raise KeyError(f"unknown family {name!r}; known families: {', '.join(sorted(FAMILIES))}")
    return found
