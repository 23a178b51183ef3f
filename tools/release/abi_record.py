"""The core records the ABI fingerprint of the library wheel it is built beside (issue 13, item 2).

``nox -s build`` builds ``envpool-procgen-libs`` first; before the core is built, ``record`` copies
the fingerprint of its wheel for each architecture (the manifest's ``abi`` block, see
tools/procgen_libs/fingerprint.py) into ``packages/core/procgen-abi.json``, keyed by machine. The sdist
carries that file and the core wheel installs its architecture's record as
``envpool/_procgen_abi.json``; at run time ``envpool.procgen_loader`` refuses a library wheel of the
same version whose fingerprint differs.

A source build may link the system's Qt instead (``-Ccmake.define.ENVPOOL_QT=system``, see
packages/core/CMakeLists.txt); a release wheel never does: :func:`release_qt_setting` refuses the
option before the release build and :func:`require_wheel_qt` checks the built wheel's record.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from tools.common.distfile import artifact
from tools.release.release_set import ARCHES, PACKAGES, arch_of_wheel, version

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

#: Where the core wheel installs the record.
WHEEL_RECORD = "envpool/_procgen_abi.json"
#: The CMake cache entry that picks the procgen family's Qt (auto, wheel or system).
QT_OPTION = "ENVPOOL_QT"
#: Environment variables through which CMake definitions reach scikit-build-core.
CMAKE_ENV = ("CMAKE_ARGS", "SKBUILD_CMAKE_ARGS", "SKBUILD_CMAKE_DEFINE")

#: The file in the core's source directory (untracked, generated; listed in .gitignore and sdist.include).
RECORD = "procgen-abi.json"


class AbiRecordError(RuntimeError):
    """The library wheel to record is missing or unreadable; the message names the fix."""


def _library() -> tuple[str, str]:
    (lib,) = [p for p in PACKAGES if p.kind == "library"]
    return lib.distribution, lib.normalized


def library_manifests(out: Path) -> dict[str, dict[str, Any]]:
    """The manifest of this version's library wheel for each architecture in ``out``, by machine."""
    dist, normalized = _library()
    wheels = sorted(out.glob(f"{normalized}-{version()}-*.whl"))
    found: dict[str, dict[str, Any]] = {}
    for path in wheels:
        arch = arch_of_wheel(path.name)
        if arch is None:
            raise AbiRecordError(
                f"{path.name}: not a wheel of an architecture of the release set ({[a.machine for a in ARCHES]})"
            )
        if arch.machine in found:
            raise AbiRecordError(f"{out} holds two {dist} {version()} wheels for {arch.machine}: remove the stale one")
        wheel = artifact(path)
        (member,) = [n for n in wheel.members() if n.endswith("/_manifest.json")]
        data: dict[str, Any] = json.loads(wheel.read(member))
        if "abi" not in data:
            raise AbiRecordError(f"{path.name} has no ABI fingerprint in {member}: rebuild it")
        found[arch.machine] = data
    if not found:
        raise AbiRecordError(
            f"the core records the ABI of {dist} {version()}, but {out} holds no wheel of it: "
            "build it first with `nox -s build -- packages/procgen-libs`"
        )
    return found


def record(core_dir: Path, out: Path, machines: Iterable[str]) -> str:
    """Write the fingerprint of every library wheel in ``out`` into ``core_dir/procgen-abi.json``, one record
    per architecture (CMake installs its target's); return the fingerprints. Each of ``machines`` (the
    architectures about to be built) must have its library wheel."""
    dist, _ = _library()
    manifests = library_manifests(out)
    missing = sorted(set(machines) - set(manifests))
    if missing:
        raise AbiRecordError(
            f"the {', '.join(missing)} core records the ABI of the {dist} {version()} wheel for its architecture, "
            f"but {out} holds none: nox -s build -- packages/procgen-libs --arch {missing[0]}"
        )
    # "source": "wheel": at run time the Qt comes from that library wheel (CMakeLists.txt writes
    # "system" instead for a source build with -Ccmake.define.ENVPOOL_QT=system).
    records = {
        machine: {"distribution": dist, "version": data["version"], "source": "wheel", **data["abi"]}
        for machine, data in sorted(manifests.items())
    }
    text = json.dumps(records, indent=1, sort_keys=True) + "\n"
    target = core_dir / RECORD
    if not target.is_file() or target.read_text() != text:
        target.write_text(text)
    return ",".join(f"{m}={r['fingerprint']}" for m, r in records.items())


def release_qt_setting(env: Mapping[str, str] | None = None) -> list[str]:
    """The config setting a release core build passes; AbiRecordError when the environment picks the Qt."""
    env = os.environ if env is None else env
    for var in CMAKE_ENV:
        if QT_OPTION in env.get(var, ""):
            raise AbiRecordError(
                f"{var}={env[var]!r} sets {QT_OPTION}: a release wheel always takes its Qt from the library wheel "
                f"({QT_OPTION}=system is for source builds only); unset {var}"
            )
    return [f"--config-setting=cmake.define.{QT_OPTION}=wheel"]


def require_wheel_qt(wheel: Path) -> None:
    """AbiRecordError unless the built core ``wheel`` records the library wheel's Qt (never the system's)."""
    core = artifact(wheel)
    if WHEEL_RECORD not in core.members():
        raise AbiRecordError(f"{wheel.name} has no {WHEEL_RECORD}: packages/core/CMakeLists.txt must install it")
    source = json.loads(core.read(WHEEL_RECORD)).get("source")
    if source != "wheel":
        raise AbiRecordError(
            f"{wheel.name} records the {source!r} Qt in {WHEEL_RECORD}: a release wheel must use the library wheel "
            f"(build it with {QT_OPTION}=wheel)"
        )
