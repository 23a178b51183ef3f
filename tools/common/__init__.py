"""Shared helpers of the tooling, one module per job.

- ``distfile``: the one reader and writer of wheels and sdists (fixed member dates);
- ``elf``: reading ELF shared libraries;
- ``hashing``: the one sha256 helper;
- ``index``: the one package-index client (the core's ``envpool/package_index.py``, loaded by path);
- ``process``: the one subprocess helper (find a console tool, run a command).
"""
