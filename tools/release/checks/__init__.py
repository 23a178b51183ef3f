"""The checks of tools.release.check_release, by kind: metadata, contents, external tools (base: shared)."""
