"""The release pipeline, one module per stage, in the order a release runs them.

1. ``release_set``: the set's table (distributions, extras, third-party pins, budgets, the core
   build matrix, floors); ``toolchain`` and ``manylinux`` are the build's compiler and platform-tag helpers.
2. ``build`` (``nox -s build``): every wheel and sdist of the set into ``wheelhouse/``;
   ``build_procgen_libs`` assembles the library wheel.
3. ``size_guard``: each artifact against its budget and PyPI's file limit.
4. ``check_release`` (``nox -s check``): metadata, pins, tags and contents of the whole set.
5. ``install_matrix`` (``nox -s install_matrix``): pip and uv installs of every extra, offline.
6. ``rehearsal`` (``nox -s release_rehearsal``): publish to a local index (``local_index``) and install
   from it, also into minimal Debian roots (``minimal_root``).
7. ``publish`` (``nox -s publish``): siblings first, then the core.
8. ``bump``: the next version, everywhere it is derived.

``lint_workflows`` keeps the GitHub workflow files thin: they set up a runner and call these stages
through nox.
"""
