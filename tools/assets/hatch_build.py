"""Hatchling hook of the asset packages: keep the repository's .gitignore out of their sdists.

hatchling always adds the nearest ``.gitignore`` to an sdist; ours belongs to the repository, not
to the package. ``tools.release.build`` writes this file into each ``packages/assets-*/`` as a plain file
(like VERSION), so the sdist carries it and builds its wheel alone.
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class DropGitignore(BuildHookInterface):  # type: ignore[misc,type-arg,unused-ignore]
    """Remove the force-included ``.gitignore`` from the sdist."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Called by hatchling before it builds a target."""
        if self.target_name == "sdist":
            include: dict[str, str] = build_data["force_include"]
            for source in [s for s, target in include.items() if target == ".gitignore"]:
                del include[source]
