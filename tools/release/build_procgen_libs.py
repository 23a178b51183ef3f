"""Build the envpool-procgen-libs wheel: ``python -m tools.release.build_procgen_libs --out wheelhouse [--machine M]``.

One ``py3-none-manylinux_*`` wheel per architecture (``--machine``, an ``Arch.machine`` of the release
set; default this machine's) carrying Qt5Core + Qt5Gui and their run-time closure, taken from the
hash-locked upstream binaries of ``packages/procgen-libs/upstream.<machine>.lock.json`` (see
tools/procgen_libs/upstream.py and closure.py), with ICU's data cut down to the items of
``packages/procgen-libs/icu-data.txt`` (tools/procgen_libs/icu_data.py). Every ELF file of the wheel
is for that architecture. The wheel is checked with ``auditwheel show`` and must be at the
architecture's library floor (``Arch.floor("library")``) or older. The project's PEP 517 backend
(packages/procgen-libs/backend, config setting ``machine``) calls ``build``; ``nox -s build`` runs that backend.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tools.common.distfile import artifact
from tools.common.elf import elf_machine, is_elf
from tools.procgen_libs.closure import closure
from tools.procgen_libs.icu_data import trim_library
from tools.procgen_libs.sbom import cyclonedx
from tools.procgen_libs.upstream import DEFAULT_ARCH, ArchitectureError, lock_path, unpack
from tools.procgen_libs.wheel import DIST, IMPORT, manifest_json, stage, write_wheel
from tools.release.manylinux import auditwheel_tag, parse, require_floor
from tools.release.release_set import ARCHES, Arch, arch_of, package_of_artifact, version


def _log(msg: str) -> None:
    print(msg, flush=True)


def target(machine: str | None) -> Arch:
    """The architecture named ``machine`` (None: this machine's), or an error listing the release set's."""
    if machine is None:
        return DEFAULT_ARCH
    try:
        return arch_of(machine)
    except KeyError:
        known = ", ".join(a.machine for a in ARCHES)
        raise ValueError(
            f"{DIST}: machine={machine!r} is not an architecture of the release set "
            f"(tools/release/release_set.py ARCHES: {known}); build with --config-setting=machine=<one of them>"
        ) from None


def require_arch(wheel: Path, arch: Arch) -> None:
    """Every ELF file of ``wheel`` is for ``arch`` (read from its header)."""
    found = artifact(wheel)
    wrong = []
    for member in found.members():
        data = found.read(member)
        if is_elf(data) and (machine := elf_machine(data, member)) != arch.elf_machine:
            wrong.append(f"{member} ({machine})")
    if wrong:
        raise ArchitectureError(f"{wheel.name}: ELF files that are not {arch.elf_machine}: {', '.join(wrong)}")


def build(out: Path, machine: str | None = None) -> Path:
    """Build the wheel for ``machine`` (default this machine's architecture) into ``out``; return its path."""
    t0 = time.monotonic()
    arch = target(machine)
    release = version()
    _log(f"{DIST} {release} for {arch.machine}: grafting the Qt5Core + Qt5Gui closure from {lock_path(arch)}")
    with tempfile.TemporaryDirectory(prefix="procgen-libs-") as tmp:
        libs = closure(unpack(Path(tmp) / "upstream", arch=arch))
        libs, icu_data = trim_library(libs, Path(tmp) / "icu-data", _log, arch)
        staging = Path(tmp) / "root"
        manifest = stage(staging, libs, _log, arch)
        manifest["icu_data"] = icu_data
        (staging / IMPORT / "_manifest.json").write_text(manifest_json(manifest, release))
        sbom = cyclonedx(DIST, release, manifest["_origins"])  # type: ignore[arg-type]
        _log(f"Qt {manifest['qt_version']}, ICU {manifest['icu_version']}; checking with auditwheel show")
        probe = write_wheel(staging, Path(tmp) / "probe", release, f"linux_{arch.machine}", sbom)
        require_arch(probe, arch)
        tag = require_floor(probe, auditwheel_tag(probe), arch.floor("library"))
        parsed = parse(tag)
        if parsed is None or parsed[2] != arch.machine:
            raise ArchitectureError(f"auditwheel show gives {tag} for {probe.name}, not a tag of {arch.machine}")
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
    machines = [a.machine for a in ARCHES]
    parser.add_argument("--machine", choices=machines, help="target architecture (default: this machine's)")
    args = parser.parse_args(argv)
    build(args.out, args.machine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
