"""Print the version, header directory and library of the pinned mujoco-core (used by CMake at build time).

Usage: ``find_mujoco.py PINS_JSON``. The pin (distribution, version, library soname) is the ``mujoco``
entry of ``pins.json``, which tools.release.build generates from the release set's table. Output:
four lines, ``version``, ``include dir``, ``library path`` and the library's soname. Exit status 1 with a message naming
the fix on stderr when the pins are missing or mujoco-core is missing, at another version, or lacks
the files.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path, PurePosixPath


def main(pins: Path) -> int:
    """Locate the pinned mujoco-core's library and headers through its file list."""
    if not pins.is_file():
        print(
            f"{pins} is missing: it is generated from tools/release/release_set.py by "
            "`python -m tools.release.build packages/core` (or use the envpool sdist, which carries it)",
            file=sys.stderr,
        )
        return 1
    pin = json.loads(pins.read_text(encoding="utf-8"))["mujoco"]
    name, required, library = pin["distribution"], pin["version"], pin["library"]
    fix = f"install it into the build environment: pip install {name}=={required}"
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        print(f"{name}=={required} is not installed in the build environment; {fix}", file=sys.stderr)
        return 1
    if dist.version != required:
        print(f"{name} {dist.version} is installed, the build needs {required}; {fix}", file=sys.stderr)
        return 1
    lib = include = None
    for entry in dist.files or ():
        path = PurePosixPath(str(entry))
        if path.name == library:
            lib = Path(str(dist.locate_file(entry))).resolve()
        elif path.name == "mujoco.h" and path.parent.name == "mujoco" and path.parent.parent.name == "include":
            include = Path(str(dist.locate_file(entry))).resolve().parent.parent
    if lib is None or include is None or not lib.is_file():
        print(f"{name} {dist.version} has no {library} or include/mujoco/mujoco.h; {fix}", file=sys.stderr)
        return 1
    print(dist.version)
    print(include.as_posix())
    print(lib.as_posix())
    print(library)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} PINS_JSON")
    sys.exit(main(Path(sys.argv[1])))
