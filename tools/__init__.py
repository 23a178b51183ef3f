"""Release tooling for the envpool release set (run from the repository root)."""
