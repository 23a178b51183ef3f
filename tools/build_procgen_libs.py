"""Build the envpool-procgen-libs wheel: ``python -m tools.build_procgen_libs --out wheelhouse``.

One ``py3-none-manylinux_*`` wheel per platform carrying the host's Qt5Core + Qt5Gui and their
run-time closure (see tools/procgen_libs/closure.py). No sdist: the wheel repackages binary system
packages; the package's source is packages/procgen-libs/ in this repository.

``--print-excludes`` prints the ``--exclude`` arguments the core's ``auditwheel repair`` needs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tools.procgen_libs.closure import exclude_sonames
from tools.procgen_libs.sbom import cyclonedx
from tools.procgen_libs.wheel import DIST, IMPORT, PACKAGE_DIR, auditwheel_tag, manifest_json, stage, write_wheel

#: compressed size budget (the release set's, tools/release_set.py)
BUDGET = 25 * 1000 * 1000


def _log(msg: str) -> None:
    print(msg, flush=True)


def build(out: Path) -> Path:
    """Build the wheel into ``out`` and return its path."""
    t0 = time.monotonic()
    version = (PACKAGE_DIR / "VERSION").read_text().strip()
    _log(f"{DIST} {version}: grafting the Qt5Core + Qt5Gui closure")
    with tempfile.TemporaryDirectory(prefix="procgen-libs-") as tmp:
        staging = Path(tmp) / "root"
        manifest = stage(staging, _log)
        (staging / IMPORT / "_manifest.json").write_text(manifest_json(manifest, version))
        sbom = cyclonedx(DIST, version, manifest["_origins"])  # type: ignore[arg-type]
        _log(f"Qt {manifest['qt_version']}, ICU {manifest['icu_version']}; checking with auditwheel show")
        probe = write_wheel(staging, Path(tmp) / "probe", version, "linux_x86_64", sbom)
        tag = auditwheel_tag(probe)
        wheel = write_wheel(staging, out, version, tag, sbom)
    confirmed = auditwheel_tag(wheel)
    if confirmed != tag:
        raise RuntimeError(f"auditwheel show gives {confirmed} for the final wheel, expected {tag}")
    size = wheel.stat().st_size
    _log(f"wrote {wheel} ({size / 1e6:.1f} MB, tag {tag}) in {time.monotonic() - t0:.0f} s")
    if size > BUDGET:
        raise RuntimeError(f"{wheel.name} is {size / 1e6:.1f} MB, over the {BUDGET / 1e6:.0f} MB budget")
    return wheel


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m tools.build_procgen_libs", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("wheelhouse"), help="output directory")
    parser.add_argument(
        "--print-excludes",
        action="store_true",
        help="print the core's auditwheel --exclude arguments (from the library wheel in --out if built) and exit",
    )
    args = parser.parse_args(argv)
    if args.print_excludes:
        print(" ".join(f"--exclude {s}" for s in exclude_sonames(args.out if args.out.is_dir() else None)))
        return 0
    build(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
