"""Where a family's asset files come from: the installed asset package of this version."""

from __future__ import annotations

import importlib
from pathlib import Path

from envpool.families import FAMILIES, Family, check_siblings


def asset_package(family: Family) -> str | None:
    """The import name of the family's asset package, if it has one."""
    for sib in family.siblings:
        if sib.import_name.startswith("envpool_assets_"):
            return sib.import_name
    return None


def asset_root(family_name: str) -> Path:
    """The directory holding ``family_name``'s assets, after checking the sibling versions.

    Raises MissingExtraError or VersionSkewError (naming the pip line) before any file is read.
    """
    family = FAMILIES[family_name]
    package = asset_package(family)
    if package is None:
        raise ValueError(f"the {family_name} family has no assets")
    check_siblings(family)
    module = importlib.import_module(package)
    return Path(module.root())
