"""Shared readers and helpers of the tooling: ELF files, wheel and sdist archives."""
