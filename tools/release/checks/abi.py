"""The ABI-fingerprint check: the core was built against the very library wheel of the set (issue 13).

The library wheel's manifest carries a fingerprint of what it provides (tools/procgen_libs/
fingerprint.py), recomputed here from the wheel's own files; the core wheel carries the fingerprint
it was built against (``envpool/_procgen_abi.json``). All three must agree, per architecture: a
core wheel is compared with the library wheel of its own architecture.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.procgen_libs.fingerprint import abi_fingerprint
from tools.release.abi_record import WHEEL_RECORD
from tools.release.checks.base import Context, Status, fail, is_core, ok, skip
from tools.release.release_set import arch_of_wheel

if TYPE_CHECKING:
    from tools.common.distfile import Artifact

#: Where the core wheel records the library fingerprint it was built against.
CORE_RECORD = WHEEL_RECORD


def _json_member(wheel: Artifact, suffix: str) -> dict[str, Any] | None:
    names = [n for n in wheel.members() if n.endswith(suffix)]
    return json.loads(wheel.read(names[0])) if names else None


def _library_wheel(ctx: Context, core: Artifact) -> Artifact | None:
    """The set's library wheel for the architecture of the ``core`` wheel."""
    arch = arch_of_wheel(core.filename)
    for a in ctx.artifacts:
        pkg = ctx.package(a)
        if a.kind == "wheel" and pkg is not None and pkg.kind == "library" and arch_of_wheel(a.filename) == arch:
            return a
    return None


def recomputed_fingerprint(wheel: Artifact, manifest: dict[str, Any]) -> str:
    """The fingerprint of the libraries in ``wheel``, computed from the files themselves."""
    with tempfile.TemporaryDirectory(prefix="abi-") as tmp:
        libdir = Path(tmp)
        for name in wheel.members():
            if "/lib/" in name:
                (libdir / Path(name).name).write_bytes(wheel.read(name))
        versions = dict(manifest["abi"]["library_versions"])
        return str(abi_fingerprint(libdir, versions)["fingerprint"])


def _check_library(a: Artifact) -> tuple[Status, str]:
    manifest = _json_member(a, "/_manifest.json")
    if manifest is None or "abi" not in manifest:
        return fail(f"{a.filename} has no ABI fingerprint in its _manifest.json: rebuild it with nox -s build")
    claimed = manifest["abi"]["fingerprint"]
    actual = recomputed_fingerprint(a, manifest)
    if actual != claimed:
        return fail(f"the manifest says {claimed} but the bundled libraries give {actual}: rebuild the wheel")
    return ok(claimed)


def _check_core(ctx: Context, a: Artifact) -> tuple[Status, str]:
    recorded = _json_member(a, CORE_RECORD)
    if recorded is not None and recorded.get("source") == "system":
        return fail(
            f"{CORE_RECORD} says the procgen family uses the system's Qt ({recorded.get('library')}): a release "
            "wheel must use the library wheel; rebuild with nox -s build (never -Ccmake.define.ENVPOOL_QT=system)"
        )
    library = _library_wheel(ctx, a)
    if library is None:
        return skip("no library wheel of its architecture in the set")
    if recorded is None:
        return fail(f"{a.filename} has no {CORE_RECORD}: the core must record the library ABI it was built against")
    manifest = _json_member(library, "/_manifest.json") or {}
    theirs = manifest.get("abi", {}).get("fingerprint")
    if recorded.get("fingerprint") != theirs:
        return fail(
            f"{CORE_RECORD} records {recorded.get('fingerprint')} ({recorded.get('version')}), but "
            f"{library.filename} provides {theirs}: rebuild the core after the library (nox -s build)"
        )
    return ok(f"built against {theirs}")


def check_abi_fingerprint(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """The library wheel's fingerprint matches its files, and the core recorded that same fingerprint."""
    pkg = ctx.package(a)
    if a.kind == "wheel" and pkg is not None and pkg.kind == "library":
        return _check_library(a)
    if a.kind == "wheel" and is_core(ctx, a):
        return _check_core(ctx, a)
    return skip("neither a core nor a library wheel")
