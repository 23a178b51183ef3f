"""Env families: which extension module implements each, and which extra it needs.

Nothing here imports a family's extension module until :func:`load_family` is called, so
``import envpool`` stays fast and works with only the core installed.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from envpool._version import __version__
from envpool.errors import MissingExtraError, VersionSkewError

if TYPE_CHECKING:
    from types import ModuleType


@dataclass(frozen=True)
class Sibling:
    """A sibling distribution a family needs at run time."""

    distribution: str  # name on the package index, e.g. "envpool-assets-vizdoom"
    import_name: str  # its import package, e.g. "envpool_assets_vizdoom"
    version: str | None = None  # exact version required; None means this envpool's version


@dataclass(frozen=True)
class Family:
    """One env family: its extension module and what it needs installed."""

    name: str
    module: str
    extra: str | None = None
    siblings: tuple[Sibling, ...] = ()
    #: "module:function" run after the sibling check and before the extension is imported, e.g. to
    #: load shared libraries a sibling wheel provides; it raises BrokenInstallError when unusable
    preload: str | None = None

    def pip_line(self) -> str:
        """The exact command that installs what this family needs."""
        if self.extra is None:
            return f'pip install "envpool=={__version__}"'
        return f'pip install "envpool[{self.extra}]=={__version__}"'


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("classic_control", "envpool._classic_control"),
        Family(
            "vizdoom",
            "envpool._vizdoom",
            extra="vizdoom",
            siblings=(Sibling("envpool-assets-vizdoom", "envpool_assets_vizdoom"),),
        ),
        Family(
            "robotics",
            "envpool._robotics",
            extra="robotics",
            siblings=(
                Sibling("envpool-assets-robotics", "envpool_assets_robotics"),
                Sibling("mujoco-core", "mujoco", version="4.0.0"),
            ),
            preload="envpool.robotics_loader:preload",
        ),
        Family(
            "procgen",
            "envpool._procgen",
            extra="procgen",
            siblings=(Sibling("envpool-procgen-libs", "envpool_procgen_libs"),),
            preload="envpool.procgen_loader:preload",
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


def check_siblings(family: Family) -> None:
    """Raise MissingExtraError / VersionSkewError unless every sibling is installed at its pin.

    An asset store (``ENVPOOL_ASSETS_PATH``, see :mod:`envpool.store`) of the right version stands in
    for a missing ``envpool-assets-*`` sibling; it never stands in for any other sibling.
    """
    for sib in family.siblings:
        required = sib.version or __version__
        found = installed_version(sib.distribution)
        is_assets = sib.import_name.startswith("envpool_assets_")
        hint = ""
        if found is None and is_assets:
            from envpool import store

            if store.check_store(family.name, required):  # VersionSkewError for a store of another version
                continue
            hint = f"\n{store.missing_hint(family.name)}"
        if found is None:
            raise MissingExtraError(
                f"the {family.name} family needs {sib.distribution}, which is not installed. "
                f"Install it with:\n    {family.pip_line()}{hint}"
            )
        if found != required:
            raise VersionSkewError(
                f"the {family.name} family needs {sib.distribution}=={required} "
                f"(envpool {__version__}), but {sib.distribution} {found} is installed. "
                f"Fix it with:\n    {family.pip_line()}"
            )


def run_preload(family: Family) -> None:
    """Run the family's ``preload`` hook ("module:function"), if it has one."""
    if family.preload is None:
        return
    module_name, _, function = family.preload.partition(":")
    getattr(importlib.import_module(module_name), function)()


_loaded: dict[str, ModuleType] = {}


def load_family(name: str) -> ModuleType:
    """Check a family's siblings, then import and return its extension module."""
    if name in _loaded:
        return _loaded[name]
    family = FAMILIES[name]
    check_siblings(family)
    run_preload(family)
    try:
        module = importlib.import_module(family.module)
    except ModuleNotFoundError as exc:
        if exc.name != family.module:
            raise
        raise MissingExtraError(
            f"this envpool build has no {family.name} family (module {family.module} is missing). "
            f"Reinstall with:\n    {family.pip_line()}"
        ) from exc
    _loaded[name] = module
    return module
