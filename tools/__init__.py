"""Tooling for the envpool release set (run from the repository root).

Packages, by job:

- ``tools.release``: the release pipeline, in the order of its stages (see its docstring);
- ``tools.assets``: asset sourcing for the data wheels (locks, fetch, staging, pruning);
- ``tools.procgen_libs``: assembly of the Qt/ICU library wheel from locked upstream binaries;
- ``tools.common``: one module per shared job (wheel and sdist files, ELF, sha256, subprocesses, the
  package-index client);
- ``tools.wad``: WAD test tooling (sanitizer and fuzz drivers, bad-WAD fixtures, doc frames);
- ``tools.bench``: ``nox -s bench``.
"""

from __future__ import annotations

from pathlib import Path

#: The repository root (the directory holding VERSION, packages/ and tools/).
REPO = Path(__file__).resolve().parent.parent
