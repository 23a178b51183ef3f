"""Asset wheels: lock upstream artifacts, fetch and verify them, stage and prune their members.

Stdlib only: the hatchling build hooks of the asset packages import this package from the
repository root while building from the git tree. Entry point: ``python -m tools.assets``.
"""
