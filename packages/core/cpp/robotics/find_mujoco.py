"""Print the header directory and library of the installed mujoco-core (used by CMake at build time).

Output: three lines, ``version``, ``include dir`` and ``library path``. Exit status 1 with a message
on stderr when mujoco-core is missing or lacks the files.
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path, PurePosixPath


def main(required: str) -> int:
    """Locate mujoco-core==``required``'s libmujoco and headers through its file list."""
    try:
        dist = metadata.distribution("mujoco-core")
    except metadata.PackageNotFoundError:
        print(f"mujoco-core=={required} is not installed in the build environment", file=sys.stderr)
        return 1
    if dist.version != required:
        print(f"mujoco-core {dist.version} is installed, the build needs {required}", file=sys.stderr)
        return 1
    lib = include = None
    for entry in dist.files or ():
        path = PurePosixPath(str(entry))
        if path.name == f"libmujoco.so.{required}":
            lib = Path(str(dist.locate_file(entry))).resolve()
        elif path.name == "mujoco.h" and path.parent.name == "mujoco" and path.parent.parent.name == "include":
            include = Path(str(dist.locate_file(entry))).resolve().parent.parent
    if lib is None or include is None or not lib.is_file():
        print(f"mujoco-core {dist.version} has no libmujoco.so.{required} or include/mujoco/mujoco.h", file=sys.stderr)
        return 1
    print(dist.version)
    print(include.as_posix())
    print(lib.as_posix())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "4.0.0"))
