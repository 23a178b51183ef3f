"""Resolving a family, once per ``envpool.make``: what it needs is installed at the pinned versions.

:func:`resolve` goes once through the distributions the family's extra pins (read from envpool's
metadata by :mod:`envpool.families`):

- an asset distribution (``envpool-assets-*``): the installed package of the pinned version; when it
  is not installed, an asset store (``ENVPOOL_ASSETS_PATH``, then the fetch cache; see
  :mod:`envpool.store`) of that version stands in for it; else MissingExtraError;
- any other sibling (``mujoco-core``, ``envpool-procgen-libs``): installed at the pinned version,
  unless this build uses the system's libraries instead (a source build with the system's Qt);

and, with ``check_files``, checks the size of every asset file against the tree's manifest before C++
reads any (once per tree and process). A sibling or store of another version raises VersionSkewError,
whose message is built by :func:`skew_error` only. :func:`load` then runs the family's preload hook
and imports its extension module (once per process). Nothing here writes anything.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from envpool import store
from envpool._version import __version__
from envpool.errors import BrokenInstallError, MissingExtraError, VersionSkewError
from envpool.families import Family, Sibling, asset_families, family, installed_version
from envpool.manifest import verify_tree

if TYPE_CHECKING:
    from collections.abc import Sequence
    from types import ModuleType

    from envpool.manifest import Problem

Origin = Literal["package", "store"]


@dataclass(frozen=True)
class AssetSource:
    """Where one family's assets are read from."""

    family: str
    origin: Origin
    root: Path
    version: str
    distribution: str  # the asset distribution this tree is (or stands in for)

    def describe(self) -> str:
        """One line: origin, version and root."""
        what = f"package {self.distribution}" if self.origin == "package" else "store"
        return f"{what} {self.version} at {self.root}"

    def fix(self) -> str:
        """How to repair this tree."""
        if self.origin == "package":
            return f'pip install --force-reinstall --no-deps "{self.distribution}=={self.version}"'
        return (
            f"export or fetch the {self.family} tree again into an empty directory "
            f"(envpool assets fetch {self.family} --dest DIR) and point ENVPOOL_ASSETS_PATH at it"
        )

    def problems(self, full: bool = True) -> list[Problem]:
        """Every problem of the tree against its manifest (full sha256 check unless ``full`` is False)."""
        return verify_tree(self.root, self.family, self.version, full)


@dataclass(frozen=True)
class Resolved:
    """A family whose siblings are installed at their pins, and where its assets are (if it has any)."""

    family: Family
    assets: AssetSource | None


def skew_error(family: Family, needs: str, found: str, fixes: Sequence[str]) -> VersionSkewError:
    """The one version-skew message: what the family needs, what was found instead, and the fix(es)."""
    how = "Fix it with:" if len(fixes) == 1 else "Fix it with one of:"
    return VersionSkewError(
        f"the {family.name} family needs {needs} (envpool {__version__}), but {found}. "
        + how
        + "".join(f"\n    {fix}" for fix in fixes)
    )


def missing_error(family: Family, sib: Sibling) -> MissingExtraError:
    """A sibling is not installed (and, for assets, no store stands in): the pip line that installs it."""
    hint = f"\n{store.missing_hint(family.name)}" if sib.is_assets else ""
    return MissingExtraError(
        f"the {family.name} family needs {sib.distribution}, which is not installed. "
        f"Install it with:\n    {family.pip_line()}{hint}"
    )


def _installed(family: Family, sib: Sibling) -> str | None:
    """The installed version of ``sib`` when it is the pinned one, None when it is not installed."""
    found = installed_version(sib.distribution)
    if found is not None and found != sib.version:
        needs, have = f"{sib.distribution}=={sib.version}", f"{sib.distribution} {found} is installed"
        raise skew_error(family, needs, have, [family.pip_line()])
    return found


def _package_source(family: Family, sib: Sibling, version: str) -> AssetSource:
    try:
        module = importlib.import_module(sib.import_name)
        root = Path(module.root())
    except Exception as exc:
        raise BrokenInstallError(
            f"{sib.distribution} {version} is installed but unusable ({type(exc).__name__}: {exc}). "
            f'Reinstall it with:\n    pip install --force-reinstall --no-deps "{sib.distribution}=={version}"'
        ) from exc
    return AssetSource(family.name, "package", root, version, sib.distribution)


def store_source(family: Family, sib: Sibling) -> AssetSource | None:
    """The store holding ``family``'s assets at ``sib``'s version, None when no store holds them."""
    entry = store.find(family.name)
    if entry is None:
        return None
    if entry.version != sib.version:
        fixes = [f"envpool assets fetch {family.name} --dest DIR   (then {store.ENV_VAR}=DIR)", family.pip_line()]
        found = (
            f"the asset store {entry.root} holds version {entry.version} "
            f"(found through {store.ENV_VAR} or the fetch cache)"
        )
        raise skew_error(family, f"assets version {sib.version}", found, fixes)
    return AssetSource(family.name, "store", entry.root, entry.version, sib.distribution)


def _assets(family: Family, sib: Sibling) -> AssetSource:
    version = _installed(family, sib)
    source = _package_source(family, sib, version) if version is not None else store_source(family, sib)
    if source is None:
        raise missing_error(family, sib)
    return source


_sizes_checked: dict[str, Path] = {}


def _check_sizes(source: AssetSource) -> None:
    """BrokenInstallError naming each missing or truncated file, before any file is read by C++."""
    if _sizes_checked.get(source.family) == source.root:
        return
    problems = source.problems(full=False)
    if problems:
        listed = "\n    ".join(str(p) for p in problems[:10])
        more = f"\n    ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise BrokenInstallError(
            f"the {source.family} assets ({source.describe()}) are broken:\n    {listed}{more}\n"
            f"Fix: {source.fix()}. `envpool assets verify {source.family}` checks every file's sha256."
        )
    _sizes_checked[source.family] = source.root


def resolve(name: str, *, check_files: bool = True) -> Resolved:
    """Check every sibling of family ``name`` once and locate its assets (sizes checked with ``check_files``).

    Raises MissingExtraError, VersionSkewError or BrokenInstallError, each naming the fix.
    """
    fam = family(name)
    assets = None
    system = fam.system_provided()
    for sib in fam.siblings:
        if sib.is_assets:
            assets = _assets(fam, sib)
        elif system:
            continue  # built against the system's libraries: this sibling is not used
        elif _installed(fam, sib) is None:
            raise missing_error(fam, sib)
    if assets is not None and check_files:
        _check_sizes(assets)
    return Resolved(fam, assets)


def asset_family(name: str) -> tuple[Family, Sibling]:
    """The family called ``name`` and its asset distribution; KeyError (unknown) or ValueError (no assets)."""
    fam = family(name)
    sib = fam.asset_sibling
    if sib is None:
        raise ValueError(f"the {name} family has no assets; families with assets: {', '.join(asset_families())}")
    return fam, sib


def locate(family_name: str) -> AssetSource:
    """Where ``family_name``'s assets are (package, else store), without checking its other siblings or files."""
    return _assets(*asset_family(family_name))


def asset_root(family_name: str) -> Path:
    """The directory holding ``family_name``'s assets, after resolving the family and checking file sizes."""
    asset_family(family_name)
    source = resolve(family_name).assets
    assert source is not None  # an asset family resolves with its assets or raises
    return source.root


_loaded: dict[str, ModuleType] = {}


def load(resolved: Resolved) -> ModuleType:
    """Run the resolved family's preload hook, then import and return its extension module (once)."""
    fam = resolved.family
    if fam.name in _loaded:
        return _loaded[fam.name]
    if fam.preload is not None:
        module_name, _, function = fam.preload.partition(":")
        getattr(importlib.import_module(module_name), function)()
    try:
        module = importlib.import_module(fam.module)
    except ModuleNotFoundError as exc:
        if exc.name != fam.module:
            raise
        raise MissingExtraError(
            f"this envpool build has no {fam.name} family (module {fam.module} is missing). "
            f"Reinstall with:\n    {fam.pip_line()}"
        ) from exc
    _loaded[fam.name] = module
    return module


def load_family(name: str) -> ModuleType:
    """The extension module of family ``name``: resolved (files not checked) and loaded on first use."""
    if name in _loaded:
        return _loaded[name]
    return load(resolve(name, check_files=False))
