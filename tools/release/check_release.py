"""The release-set checker: fail loudly on anything that must not reach the index.

    python -m tools.release.check_release [WHEELHOUSE] [--require-sdist] [--only CHECK ...]

Prints one line per check per artifact (``PASS``/``FAIL``, or ``SKIP`` with the reason when a
check does not apply, e.g. auditwheel on a pure wheel) and exits 1 when any check failed.
Checks (the names printed):

- ``release-set``: every artifact is a distribution of tools.release.release_set.PACKAGES, and every
  present package has a wheel (with ``--require-sdist``, a release: an sdist, and for every architecture of
  ``release_set.ARCHES`` the core wheels of ``arch.matrix`` and the library wheel);
- ``version``: file name and metadata versions equal VERSION;
- ``sibling-pins``: the core's extras pin each sibling of the release set to ``==VERSION``
  (third-party pins such as mujoco-core are not ours and are left alone);
- ``sdist-metadata``: a wheel's Requires-Dist / Provides-Extra equal its sdist's PKG-INFO
  (a Dynamic Requires-Dist or Provides-Extra in the sdist is a failure: our pins must be static);
- ``sdist-links``: an sdist holds no symbolic or hard links (installers refuse links, and one
  pointing outside the tree, like ``VERSION -> ../../VERSION``, breaks every build from it);
- ``file-overlap``: no installed file path is shipped by two distributions;
- ``core-contents``: the core wheel holds no WAD, Qt/ICU library, libmujoco or model file;
- ``twine``, ``check-wheel-contents``, ``pydistcheck``: those tools' findings
  (pydistcheck's compressed-size cap is the package's release_set budget);
- ``auditwheel``: a platform wheel's file name claims manylinux tags that ``auditwheel show``
  confirms, none newer than its architecture's floor for its kind (``Arch.floor``: a library wheel's
  is ``Arch.library_glibc``, every other wheel's ``GLIBC_FLOOR``);
- ``elf-arch``: every ELF file in a platform wheel has the e_machine of the wheel's architecture (read
  from its ELF header; tools/release/checks/arch.py), and a pure wheel holds no ELF file;
- ``sbom``: a wheel that grafts libraries (an auditwheel ``*.libs/`` dir, or a library wheel)
  carries an SBOM in ``.dist-info/sboms/`` (PEP 770);
- ``linkage``: every ELF file's DT_NEEDED resolves to exactly one provider (its own wheel, a sibling
  or ==-pinned third-party wheel through the extra that loads it, or the manylinux policy), and a
  family module's symbols from a sibling library are exported by it (tools/release/checks/linkage.py);
- ``abi-fingerprint``: the library wheel's ABI fingerprint matches its files, and the core recorded
  that same fingerprint at build time (tools/release/checks/abi.py).
"""

from __future__ import annotations

import argparse
import sys
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from tools.common.distfile import artifacts
from tools.release import release_set
from tools.release.checks import abi, contents, external, linkage, metadata
from tools.release.checks import arch as arch_check
from tools.release.checks.base import NO_SDIST_KINDS, Check, Context, Result

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

CHECKS: dict[str, Check] = {
    "release-set": metadata.check_release_set,
    "version": metadata.check_version,
    "sibling-pins": metadata.check_sibling_pins,
    "sdist-metadata": metadata.check_sdist_metadata,
    "sdist-links": metadata.check_sdist_links,
    "file-overlap": contents.check_file_overlap,
    "core-contents": contents.check_core_contents,
    "twine": external.check_twine,
    "check-wheel-contents": external.check_wheel_contents,
    "pydistcheck": external.check_pydistcheck,
    "auditwheel": external.check_auditwheel,
    "abi3audit": external.check_abi3audit,
    "elf-arch": arch_check.check_elf_arch,
    "sbom": contents.check_sbom,
    "linkage": linkage.check_linkage,
    "abi-fingerprint": abi.check_abi_fingerprint,
}


def _matrix_tag(wheel_name: str) -> str:
    """The core-matrix name of a wheel: "cp311" for cp311-cp311, "cp312-abi3" for cp312-abi3."""
    python, abi = wheel_name.removesuffix(".whl").split("-")[-3:-1]
    return f"{python}-{abi}" if abi == "abi3" else python


def _per_arch(ctx: Context, p: release_set.Package, wheels: Sequence[Path]) -> list[str]:
    """What a release lacks of ``p`` on each architecture: the core's ``arch.matrix`` wheels, a platform
    sibling's wheel for that architecture (``p.platforms``)."""
    missing: list[str] = []
    for arch in ctx.arches:
        mine = [w for w in wheels if release_set.arch_of_wheel(w.name) == arch]
        if p.kind == "extension":
            have = {_matrix_tag(w.name) for w in mine}
            missing += [f"{e.tag} {arch.machine} wheel" for e in arch.matrix if e.tag not in have]
        elif any(plat.machine == arch.machine for plat in p.platforms) and not mine:
            missing.append(f"{arch.machine} wheel")
    return missing


def completeness(ctx: Context, present: Sequence[release_set.Package]) -> list[Result]:
    """One line per present package: it has a wheel (and an sdist when required); a release (``require_sdist``)
    has the core's matrix and each platform sibling's wheel for every architecture of ``ctx.arches``."""
    results = []
    for p in present:
        mine = [a for a in ctx.artifacts if canonicalize_name(a.name) == canonicalize_name(p.distribution)]
        kinds = {a.kind for a in mine}
        need_sdist = ctx.require_sdist and p.kind not in NO_SDIST_KINDS
        missing = [k for k in ("wheel", "sdist") if k not in kinds and (k == "wheel" or need_sdist)]
        if ctx.require_sdist:
            missing += _per_arch(ctx, p, [a.path for a in mine if a.kind == "wheel"])
        if missing:
            results.append(
                Result("release-set", p.distribution, "FAIL", f"no {' and no '.join(missing)} in {ctx.wheelhouse}")
            )
        else:
            results.append(Result("release-set", p.distribution, "PASS", f"{len(mine)} artifact(s)"))
    return results


def run_checks(
    wheelhouse: Path,
    *,
    version: str | None = None,
    require_sdist: bool = False,
    only: Iterable[str] | None = None,
    present: Sequence[release_set.Package] | None = None,
    arches: Sequence[release_set.Arch] = release_set.ARCHES,
    thirdparty: Path | None = None,
) -> list[Result]:
    """Run every check (or the ``only`` ones) over the wheelhouse and return the results.

    With ``require_sdist`` (a release), every architecture of ``arches`` must also have its core wheels
    (``arch.matrix``) and its library wheel.
    """
    ctx = Context(
        wheelhouse=wheelhouse,
        version=version if version is not None else release_set.version(),
        artifacts=artifacts(wheelhouse) if wheelhouse.is_dir() else [],
        require_sdist=require_sdist,
        arches=arches,
    )
    if thirdparty is not None:
        ctx.thirdparty = thirdparty
    selected = list(only) if only else list(CHECKS)
    unknown = [c for c in selected if c not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {unknown}; known: {', '.join(CHECKS)}")
    results: list[Result] = []
    if not ctx.artifacts:
        return [Result("release-set", str(wheelhouse), "FAIL", "no wheel or sdist found: run nox -s build")]
    if "release-set" in selected:
        results += completeness(ctx, present if present is not None else release_set.present())
    for a in ctx.artifacts:
        for name in selected:
            try:
                status, msg = CHECKS[name](ctx, a)
            except (ValueError, KeyError, OSError, tarfile.TarError) as exc:
                status, msg = "FAIL", f"cannot read: {exc}"
            results.append(Result(name, a.filename, status, msg))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m tools.release.check_release", description=__doc__.splitlines()[0])
    parser.add_argument("wheelhouse", nargs="?", type=Path, default=release_set.WHEELHOUSE)
    parser.add_argument("--require-sdist", action="store_true", help="every package must have an sdist (release)")
    parser.add_argument("--only", action="append", choices=list(CHECKS), help="run only this check (repeatable)")
    parser.add_argument(
        "--thirdparty", type=Path, default=None, help="third-party wheels the core pins (default: .cache/thirdparty)"
    )
    parser.add_argument("--quiet", action="store_true", help="print FAIL lines only")
    parser.add_argument("--version-file", type=Path, default=release_set.VERSION_FILE, help="default: ./VERSION")
    args = parser.parse_args(argv)
    version = args.version_file.read_text(encoding="utf-8").strip()
    results = run_checks(
        args.wheelhouse,
        version=version,
        require_sdist=args.require_sdist,
        only=args.only,
        thirdparty=args.thirdparty,
    )
    for r in results:
        if not args.quiet or r.status == "FAIL":
            print(r.line())
    failed = [r for r in results if r.status == "FAIL"]
    counts = {s: sum(r.status == s for r in results) for s in ("PASS", "FAIL", "SKIP")}
    print(f"check_release: PASS={counts['PASS']} FAIL={counts['FAIL']} SKIP={counts['SKIP']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
