"""Prove the robotics closure with real MuJoCo: every root loads from the staged closure alone, and
hiding any one staged file makes some root fail to load (so nothing kept is dead either).

MuJoCo is not a dependency of the tools: pass the python of a venv that has the mujoco matching the
release set's mujoco-core pin (``MUJOCO_CORE`` in tools/release/release_set.py), e.g.
``uv venv /tmp/mj && VIRTUAL_ENV=/tmp/mj uv pip install mujoco==<that version>`` then
``python -m tools.assets validate-mujoco --python /tmp/mj/bin/python``.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tools.assets.tree import AssetError
from tools.common import process

if TYPE_CHECKING:
    from pathlib import Path

_SCRIPT = r"""
import json, os, sys
import mujoco
root, roots, files = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])

def failures():
    bad = []
    for r in roots:
        try:
            mujoco.MjModel.from_xml_path(os.path.join(root, r))
        except Exception as exc:
            bad.append(f"{r}: {exc}".strip())
    return bad

report = {"version": mujoco.__version__, "full": failures(), "unneeded": []}
for f in files:
    path = os.path.join(root, f)
    os.rename(path, path + ".hidden")
    try:
        if not failures():
            report["unneeded"].append(f)
    finally:
        os.rename(path + ".hidden", path)
print(json.dumps(report))
"""


def validate(python: str, staged: Path, roots: list[str], files: list[str]) -> str:
    """Run the check with ``python``; returns a summary, raises AssetError on any failure."""
    out = process.run([python, "-c", _SCRIPT, str(staged), json.dumps(roots), json.dumps(files)])
    if out.returncode != 0:
        raise AssetError(f"mujoco check could not run with {python}: {out.stderr.strip()}")
    report = json.loads(out.stdout)
    if report["full"]:
        raise AssetError(f"roots fail to load from the staged closure: {report['full']}")
    if report["unneeded"]:
        raise AssetError(f"staged files no root needs (closure not minimal): {report['unneeded']}")
    return (
        f"mujoco {report['version']}: {len(roots)} roots load from {len(files)} staged files; "
        "hiding any one of them breaks a root"
    )
