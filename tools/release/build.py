"""Build the release set into wheelhouse/: every wheel and sdist a release uploads, and nothing else does.

Usage: ``python -m tools.release.build [--reuse] [--arch MACHINE] [--only TAG] [--out DIR] [PACKAGE_DIR...]``.

Before building, each package directory gets its generated inputs as plain files (``VERSION`` from
the repository's one VERSION; for the core ``pins.json``, its build pins and extras from the release
set's table; for data packages ``staged/``, the hash-checked members, and the hatchling hook from
tools/assets/hatch_build.py): the sdists carry them, so every sdist builds its wheel alone, and no
package directory holds a link.

Every architecture of the set (:data:`tools.release.release_set.ARCHES`: x86_64 natively, aarch64 as a
cross build, see tools/release/cross.py) is built by this one path; ``--arch`` limits it to some.

- library (envpool-procgen-libs): assembled from the hash-locked upstream binaries, one wheel per
  architecture;
- data: ``uv build`` (the sdist first, then the wheel from the sdist); pure, shared by every architecture;
- extension (the core): the sdist, then per architecture one wheel per entry of its core matrix
  (``Arch.matrix``: cp311 and cp312-abi3), compiled by zig for glibc 2.28 in a persistent
  per-interpreter build environment (warm rebuilds), repaired by auditwheel with the sibling
  libraries excluded (:func:`sibling_libraries`).

Every platform wheel must be at the release set's manylinux floor or older, as ``auditwheel show``
reads it from the symbol versions. A package is built in a temporary directory inside the
wheelhouse and its artifacts are moved in only when all of them are good, so a failed or
interrupted build leaves the previous artifacts as they were.

With ``--reuse`` a package whose inputs are unchanged since its last build is not rebuilt: a stamp
in ``wheelhouse/.stamps/`` records the digest of its files and the artifacts it produced.
"""

from __future__ import annotations

import argparse
import functools
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools import REPO
from tools.assets.paths import cache_dir
from tools.assets.tasks import TASKS_FILE
from tools.assets.tree import AssetError
from tools.common import process
from tools.common.hashing import sha256_stream
from tools.procgen_libs.closure import ClosureError, exclude_sonames
from tools.release import abi_record, cross, manylinux
from tools.release.release_set import (
    ARCHES,
    PINS_FILE,
    WHEELHOUSE,
    X86_64,
    Arch,
    CoreBuild,
    Package,
    arch_of_wheel,
    core_pins,
    excluded_libraries,
    present,
    version,
)
from tools.release.toolchain import ZIGLANG, ToolchainError, find_python, qt5_dir, zig_wrappers

#: A build's architectures, each with the core matrix entries to build for it.
Targets = tuple[tuple[Arch, tuple[CoreBuild, ...]], ...]
#: Every architecture of the set with its whole core matrix.
ALL_TARGETS: Targets = tuple((a, a.matrix) for a in ARCHES)

#: The asset packages' hatchling hook, written into each of them as a plain file before a build.
ASSET_HOOK = REPO / "tools" / "assets" / "hatch_build.py"

#: Build order: the library wheel first, since the core's repair excludes what it provides.
KIND_ORDER = {"library": 0, "data": 1, "extension": 2}


class BuildError(RuntimeError):
    """A build step failed; the message names the package and the fix."""


def sibling_libraries(package: Package, out: Path, arch: Arch = X86_64) -> list[str]:
    """Sonames auditwheel must not graft into the core for ``arch``: sibling wheels provide them at run time.

    The third-party libraries of its build pins (libmujoco, from mujoco-core) and every library of
    the envpool-procgen-libs wheel in ``out``.
    """
    return [*excluded_libraries(package), *exclude_sonames(out, arch)]


#: a build step: echoed, its output shown as it runs, a failure stops the build (ProcessError)
_run = functools.partial(process.run, echo=True, capture=False, check=True)


def input_files(package: Package) -> list[Path]:
    """The files a package's build reads: its tracked and untracked-but-not-ignored files, VERSION, tools/."""
    extra = [str(TASKS_FILE)] if package.kind == "data" else []  # the task table decides the data wheels' files
    out = process.run(
        ["git", "ls-files", "-co", "--exclude-standard", "--", package.directory, "tools", "VERSION", *extra],
        cwd=REPO,
        check=True,
    ).stdout.split()
    return sorted(REPO / p for p in out if (REPO / p).is_file())


def input_digest(package: Package) -> str:
    """A digest of every input file's path and contents."""
    return sha256_stream(
        part
        for path in input_files(package)
        for part in (str(path.relative_to(REPO)).encode(), b"\0", path.read_bytes())
    )


def _stamp_path(out: Path, package: Package, targets: Targets) -> Path:
    machines = "" if package.kind == "data" else "-" + "-".join(a.machine for a, _ in targets)
    return out / ".stamps" / f"{package.normalized}{machines}.json"


def is_fresh(out: Path, package: Package, digest: str, targets: Targets = ALL_TARGETS) -> bool:
    """True when the last build of ``package`` used the same inputs and its artifacts are all there."""
    stamp = _stamp_path(out, package, targets)
    if not stamp.is_file():
        return False
    data = json.loads(stamp.read_text())
    return bool(
        data.get("digest") == digest and data["artifacts"] and all((out / a).is_file() for a in data["artifacts"])
    )


def _own_artifacts(out: Path, package: Package, targets: Targets = ALL_TARGETS) -> set[Path]:
    """The package's artifacts in ``out`` that a build for ``targets`` replaces: its wheels of those
    architectures, its pure wheels and its sdist."""
    prefix = package.normalized.lower() + "-"
    machines = {a.machine for a, _ in targets}
    return {
        p
        for p in out.iterdir()
        if p.is_file()
        and p.name.lower().startswith(prefix)
        and ((a := arch_of_wheel(p.name)) is None or a.machine in machines)
    }


def _write_generated(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` as a plain file, leaving it untouched when it already holds it."""
    if target.is_symlink() or not target.is_file() or target.read_text() != text:
        target.unlink(missing_ok=True)
        target.write_text(text)


def prepare(package: Package) -> None:
    """Write a package's generated inputs as plain files: VERSION; the core's pins.json; a data package's
    staged members and hatchling hook."""
    _write_generated(package.path / "VERSION", version() + "\n")
    if package.kind == "extension":
        _write_generated(package.path / PINS_FILE, json.dumps(core_pins(version()), indent=1) + "\n")
    if package.kind == "data" and package.extra:
        from tools.assets.stage import stage_package

        stage_package(package.extra, version())
        hook = package.path / "hatch_build.py"
        hook.unlink(missing_ok=True)
        shutil.copyfile(ASSET_HOOK, hook)


def _build_sdist(package: Package, out: Path) -> Path:
    before = set(out.glob("*.tar.gz"))
    _run(["uv", "build", "--sdist", "--out-dir", str(out), str(package.path)])
    (sdist,) = set(out.glob("*.tar.gz")) - before
    return sdist


def _build_requirements(package: Package) -> list[str]:
    import tomllib

    with (package.path / "pyproject.toml").open("rb") as f:
        return list(tomllib.load(f)["build-system"]["requires"])


def build_env(package: Package, entry: CoreBuild, arch: Arch = X86_64) -> Path:
    """The python of the shared build environment of ``entry``'s interpreter for ``arch``: build
    requirements and zig installed, and the build pins (mujoco-core) for ``arch``.

    Building without isolation from one environment per interpreter and architecture keeps every
    path the CMake cache records stable, so a warm rebuild compiles only what changed.
    """
    python = find_python(entry.python)
    tag = "".join(python.name.removeprefix("python").split(".")) or "3"
    env_dir = REPO / ".cache" / (f"build-env-py{tag}" + ("" if arch == X86_64 else f"-{arch.machine}"))
    env_python = env_dir / "bin" / "python"
    if not env_python.exists():
        _run(["uv", "venv", "--quiet", "--python", str(python), str(env_dir)])
    # cmake and ninja are what scikit-build-core would add to an isolated build environment, the
    # build pins what the core's backend adds (packages/core/backend/envpool_backend.py).
    pins = [pin.requirement for pin in package.build_pins]
    tools = [*_build_requirements(package), "cmake>=3.26", "ninja", ZIGLANG]
    if arch == X86_64:
        _run(["uv", "pip", "install", "--quiet", "--python", str(env_python), *tools, *pins])
        return env_python
    # A cross build's pins are the target's wheels, unpacked where CMake's find_mujoco.py reads them.
    _run(["uv", "pip", "install", "--quiet", "--python", str(env_python), *tools])
    site = process.run([env_python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], check=True)
    for pin in package.build_pins:
        _run(
            ["uv", "pip", "install", "--quiet", "--target", site.stdout.strip(), *cross.pin_arguments(arch, entry, pin)]
        )
    return env_python


def build_core_wheel(package: Package, entry: CoreBuild, out: Path, tmp: Path, arch: Arch = X86_64) -> Path:
    """Compile one core wheel of ``arch``'s matrix with zig, repair it, and prove its tag; return its path."""
    env_python = build_env(package, entry, arch)
    raw = tmp / f"raw-{arch.machine}-{entry.tag}"
    env = zig_wrappers(env_python, arch)
    if arch == X86_64:
        qt = [f"--config-setting=cmake.define.Qt5_DIR={qt5_dir()}"]
    else:
        cross_env, qt = cross.settings(arch, entry, env_python, out, tmp / f"cross-{arch.machine}-{entry.tag}")
        env.update(cross_env)
    _run(
        [
            "uv",
            "build",
            "--wheel",
            "--no-build-isolation",
            "--python",
            str(env_python),
            "--out-dir",
            str(raw),
            f"--config-setting=build-dir={REPO / 'build' / package.path.name / 'zig-{wheel_tag}'}",
            # Release builds carry every family: a missing Qt fails the build instead of
            # silently leaving procgen out.
            "--config-setting=cmake.define.ENVPOOL_PROCGEN=ON",
            # ... and take their Qt from the library wheel at run time, never from the system.
            *abi_record.release_qt_setting(),
            *qt,
            str(package.path),
        ],
        extra_env=env,
    )
    (wheel,) = raw.glob("*.whl")
    abi_record.require_wheel_qt(wheel)
    excludes = [arg for lib in sibling_libraries(package, out, arch) for arg in ("--exclude", lib)]
    repaired = tmp / f"repaired-{arch.machine}-{entry.tag}"
    _run([sys.executable, "-m", "auditwheel", "repair", *excludes, "--wheel-dir", str(repaired), str(wheel)])
    (fixed,) = repaired.glob("*.whl")
    return manylinux.check_wheel(fixed, arch.floor(package.kind))


def _build_extension(package: Package, tmp: Path, out: Path, targets: Targets) -> None:
    _build_sdist(package, tmp)
    for arch, matrix in targets:
        for entry in matrix:
            wheel = build_core_wheel(package, entry, out, tmp, arch)
            wheel.replace(tmp / wheel.name)


def _build_data(package: Package, tmp: Path, out: Path, targets: Targets) -> None:
    # The wheel is built from the sdist, which proves the sdist builds on its own.
    sdist = _build_sdist(package, tmp)
    _run(["uv", "build", "--wheel", "--out-dir", str(tmp), str(sdist)])


def _build_library(package: Package, tmp: Path, out: Path, targets: Targets) -> None:
    # The project's own PEP 517 backend assembles the wheel, straight from the tree: its sdist is not
    # released (tests/tools/test_sdist_alone.py builds the wheel from it and compares the bytes).
    for arch, _ in targets:
        _run(
            [
                "uv",
                "build",
                "--wheel",
                f"--config-setting=machine={arch.machine}",
                "--out-dir",
                str(tmp),
                str(package.path),
            ],
            extra_env={"ENVPOOL_ARTIFACT_CACHE": str(cache_dir())},
        )


BUILDERS = {"extension": _build_extension, "data": _build_data, "library": _build_library}


def build(package: Package, out: Path, *, reuse: bool, targets: Targets = ALL_TARGETS) -> list[str]:
    """Build one package for ``targets`` into ``out``; return the names of its artifacts.

    The artifacts are made in a temporary directory inside ``out`` and replace the package's old
    ones of those architectures only when every one of them was built and checked.
    """
    digest = input_digest(package)
    if package.kind == "extension":
        # The core records the library wheels' ABI fingerprints: a new library build rebuilds the core.
        record = abi_record.record(package.path, out, [a.machine for a, _ in targets])
        digest += ":" + ",".join(f"{a.machine}/{e.tag}" for a, m in targets for e in m) + ":" + record
    if reuse and is_fresh(out, package, digest, targets):
        artifacts: list[str] = json.loads(_stamp_path(out, package, targets).read_text())["artifacts"]
        print(f"== {package.distribution}: up to date ({', '.join(artifacts)})", flush=True)
        return artifacts
    print(f"== {package.distribution}: building ({package.kind})", flush=True)
    start = time.monotonic()
    prepare(package)
    tmp = Path(tempfile.mkdtemp(prefix=f".partial-{package.normalized}-", dir=out))
    try:
        BUILDERS[package.kind](package, tmp, out, targets)
        made = sorted(p for p in tmp.iterdir() if p.is_file() and p.name.endswith((".whl", ".tar.gz")))
        if not made:
            raise BuildError(f"build of {package.distribution} produced no artifact")
        _stamp_path(out, package, targets).unlink(missing_ok=True)
        for old in _own_artifacts(out, package, targets):
            old.unlink()
        for path in made:
            path.replace(out / path.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    artifacts = [p.name for p in made]
    stamp = _stamp_path(out, package, targets)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps({"digest": digest, "artifacts": artifacts}, indent=1))
    print(f"== {package.distribution}: built {', '.join(artifacts)} in {time.monotonic() - start:.0f} s", flush=True)
    return artifacts


def select_targets(machines: list[str], only: list[str]) -> Targets:
    """The architectures named by ``--arch`` (all when none is named), each with the core matrix entries
    named by ``--only`` (all of them when none is named)."""
    unknown_arches = sorted(set(machines) - {a.machine for a in ARCHES})
    if unknown_arches:
        raise BuildError(
            f"--arch {' '.join(unknown_arches)}: not an architecture of the release set; "
            f"choose from {', '.join(a.machine for a in ARCHES)}"
        )
    arches = [a for a in ARCHES if not machines or a.machine in machines]
    known = {e.tag for a in arches for e in a.matrix}
    unknown = sorted(set(only) - known)
    if unknown:
        raise BuildError(f"--only {' '.join(unknown)}: not in the core matrix; choose from {', '.join(sorted(known))}")
    return tuple((a, tuple(e for e in a.matrix if not only or e.tag in only)) for a in arches)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="skip packages whose inputs did not change")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TAG",
        help=f"build only these core wheels ({', '.join(e.tag for e in X86_64.matrix)}); siblings are always built",
    )
    parser.add_argument(
        "--arch",
        action="append",
        default=[],
        metavar="MACHINE",
        help=f"build only for these architectures ({', '.join(a.machine for a in ARCHES)}; default: all)",
    )
    parser.add_argument("--out", type=Path, default=WHEELHOUSE)
    parser.add_argument("packages", nargs="*", help="package directories (default: all present)")
    args = parser.parse_args(argv)
    if shutil.which("uv") is None:
        print("error: tools.release.build needs uv on PATH: pip install uv", file=sys.stderr)
        return 2
    chosen = present()
    if args.packages:
        wanted = {str(Path(p)).rstrip("/") for p in args.packages}
        chosen = [p for p in chosen if p.directory in wanted]
        if not chosen:
            print(f"error: no package matches {sorted(wanted)}; known: {[p.directory for p in present()]}")
            return 2
    args.out.mkdir(parents=True, exist_ok=True)
    package = None
    try:
        targets = select_targets(args.arch, args.only)
        for package in sorted(chosen, key=lambda p: KIND_ORDER[p.kind]):
            build(package, args.out, reuse=args.reuse, targets=targets)
    except KeyboardInterrupt:
        name = package.distribution if package else "the build"
        print(f"\ninterrupted while building {name}: {args.out} keeps the artifacts it had", file=sys.stderr)
        return 130
    except subprocess.CalledProcessError as exc:
        name = package.distribution if package else "the build"
        print(f"error: building {name}: {' '.join(map(str, exc.cmd))} exited {exc.returncode}", file=sys.stderr)
        return 1
    except (
        BuildError,
        ToolchainError,
        manylinux.TagError,
        AssetError,
        ClosureError,
        abi_record.AbiRecordError,
        cross.CrossError,
    ) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
