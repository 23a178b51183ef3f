"""The core records the ABI fingerprint of the library wheel it is built beside (issue 13, item 2).

``nox -s build`` builds ``envpool-procgen-libs`` first; before the core is built, ``record`` copies
that wheel's fingerprint (its manifest's ``abi`` block, see tools/procgen_libs/fingerprint.py) into
``packages/core/procgen-abi.json``. The sdist carries that file and the core wheel installs it as
``envpool/_procgen_abi.json``; at run time ``envpool.procgen_loader`` refuses a library wheel of the
same version whose fingerprint differs.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from tools.common.distfile import artifact
from tools.release.release_set import PACKAGES, version

if TYPE_CHECKING:
    from pathlib import Path

#: The file in the core's source directory (untracked, generated; listed in .gitignore and sdist.include).
RECORD = "procgen-abi.json"


class AbiRecordError(RuntimeError):
    """The library wheel to record is missing or unreadable; the message names the fix."""


def _library() -> tuple[str, str]:
    (lib,) = [p for p in PACKAGES if p.kind == "library"]
    return lib.distribution, lib.normalized


def library_manifest(out: Path) -> dict[str, Any]:
    """The manifest of this version's library wheel in ``out``."""
    dist, normalized = _library()
    wheels = sorted(out.glob(f"{normalized}-{version()}-*.whl"))
    if len(wheels) != 1:
        found = ", ".join(w.name for w in wheels) or "none"
        raise AbiRecordError(
            f"the core records the ABI of {dist} {version()}, but {out} holds {found}: "
            "build it first with `nox -s build -- packages/procgen-libs`"
        )
    wheel = artifact(wheels[0])
    (member,) = [n for n in wheel.members() if n.endswith("/_manifest.json")]
    data: dict[str, Any] = json.loads(wheel.read(member))
    if "abi" not in data:
        raise AbiRecordError(f"{wheels[0].name} has no ABI fingerprint in {member}: rebuild it")
    return data


def record(core_dir: Path, out: Path) -> str:
    """Write the library wheel's fingerprint into ``core_dir/procgen-abi.json``; return the fingerprint."""
    dist, _ = _library()
    data = library_manifest(out)
    abi = data["abi"]
    text = json.dumps({"distribution": dist, "version": data["version"], **abi}, indent=1, sort_keys=True) + "\n"
    target = core_dir / RECORD
    if not target.is_file() or target.read_text() != text:
        target.write_text(text)
    return str(abi["fingerprint"])
