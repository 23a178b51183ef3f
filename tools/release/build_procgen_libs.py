"""Build the envpool-procgen-libs wheel: ``python -m tools.release.build_procgen_libs --out wheelhouse``.

One ``py3-none-manylinux_*`` wheel per platform carrying Qt5Core + Qt5Gui and their run-time
closure, taken from the hash-locked upstream binaries of ``packages/procgen-libs/upstream.lock.json``
(see tools/procgen_libs/upstream.py and closure.py), with ICU's data cut down to the items of
``packages/procgen-libs/icu-data.txt`` (tools/procgen_libs/icu_data.py). The wheel is checked with
``auditwheel show`` and must be at the manylinux floor of the release set or older. The project's PEP 517 backend
(packages/procgen-libs/backend) calls ``build``; ``nox -s build`` runs that backend.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tools.procgen_libs.closure import closure
from tools.procgen_libs.icu_data import trim_library
from tools.procgen_libs.sbom import cyclonedx
from tools.procgen_libs.upstream import unpack
from tools.procgen_libs.wheel import DIST, IMPORT, PACKAGE_DIR, manifest_json, stage, write_wheel
from tools.release.manylinux import auditwheel_tag, require_floor
from tools.release.release_set import package_of_artifact, version


def _log(msg: str) -> None:
    print(msg, flush=True)


def build(out: Path) -> Path:
    """Build the wheel into ``out`` and return its path."""
    t0 = time.monotonic()
    release = version()
    _log(f"{DIST} {release}: grafting the Qt5Core + Qt5Gui closure from {PACKAGE_DIR / 'upstream.lock.json'}")
    with tempfile.TemporaryDirectory(prefix="procgen-libs-") as tmp:
        libs = closure(unpack(Path(tmp) / "upstream"))
        libs, icu_data = trim_library(libs, Path(tmp) / "icu-data", _log)
        staging = Path(tmp) / "root"
        manifest = stage(staging, libs, _log)
        manifest["icu_data"] = icu_data
        (staging / IMPORT / "_manifest.json").write_text(manifest_json(manifest, release))
        sbom = cyclonedx(DIST, release, manifest["_origins"])  # type: ignore[arg-type]
        _log(f"Qt {manifest['qt_version']}, ICU {manifest['icu_version']}; checking with auditwheel show")
        probe = write_wheel(staging, Path(tmp) / "probe", release, "linux_x86_64", sbom)
        tag = require_floor(probe, auditwheel_tag(probe))
        wheel = write_wheel(staging, out, release, tag, sbom)
    confirmed = auditwheel_tag(wheel)
    if confirmed != tag:
        raise RuntimeError(f"auditwheel show gives {confirmed} for the final wheel, expected {tag}")
    size = wheel.stat().st_size
    _log(f"wrote {wheel} ({size / 1e6:.1f} MB, tag {tag}) in {time.monotonic() - t0:.0f} s")
    package = package_of_artifact(wheel.name)
    if package is not None and size > package.budget:
        raise RuntimeError(f"{wheel.name} is {size / 1e6:.1f} MB, over its {package.budget / 1e6:.0f} MB budget")
    return wheel


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m tools.release.build_procgen_libs", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("wheelhouse"), help="output directory")
    args = parser.parse_args(argv)
    build(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
