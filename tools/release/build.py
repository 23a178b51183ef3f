"""Build the release set into wheelhouse/: every wheel and sdist a release uploads, and nothing else does.

Usage: ``python -m tools.release.build [--reuse] [--only TAG] [--out DIR] [PACKAGE_DIR...]``.

Before building, each package directory gets its generated inputs as plain files (``VERSION`` from
the repository's one VERSION; for the core ``pins.json``, its build pins and extras from the release
set's table; for data packages ``staged/``, the hash-checked members, and the hatchling hook from
tools/assets/hatch_build.py): the sdists carry them, so every sdist builds its wheel alone, and no
package directory holds a link.

- library (envpool-procgen-libs): assembled from the hash-locked upstream binaries;
- data: ``uv build`` (the sdist first, then the wheel from the sdist);
- extension (the core): the sdist, then one wheel per entry of the core matrix
  (:data:`tools.release.release_set.CORE_MATRIX`: cp311 and cp312-abi3), compiled by zig for glibc 2.28
  in a persistent per-interpreter build environment (warm rebuilds), repaired by auditwheel with
  the sibling libraries excluded (:func:`sibling_libraries`).

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
from tools.assets.tree import AssetError
from tools.common import process
from tools.common.hashing import sha256_stream
from tools.procgen_libs.closure import ClosureError, exclude_sonames
from tools.release import abi_record, manylinux
from tools.release.release_set import (
    CORE_MATRIX,
    PINS_FILE,
    WHEELHOUSE,
    CoreBuild,
    Package,
    core_pins,
    excluded_libraries,
    present,
    version,
)
from tools.release.toolchain import ZIGLANG, ToolchainError, find_python, qt5_dir, zig_wrappers

#: The asset packages' hatchling hook, written into each of them as a plain file before a build.
ASSET_HOOK = REPO / "tools" / "assets" / "hatch_build.py"

#: Build order: the library wheel first, since the core's repair excludes what it provides.
KIND_ORDER = {"library": 0, "data": 1, "extension": 2}


class BuildError(RuntimeError):
    """A build step failed; the message names the package and the fix."""


def sibling_libraries(package: Package, out: Path) -> list[str]:
    """Sonames auditwheel must not graft into the core: sibling wheels provide them at run time.

    The third-party libraries of its build pins (libmujoco, from mujoco-core) and every library of
    the envpool-procgen-libs wheel in ``out``.
    """
    return [*excluded_libraries(package), *exclude_sonames(out)]


#: a build step: echoed, its output shown as it runs, a failure stops the build (ProcessError)
_run = functools.partial(process.run, echo=True, capture=False, check=True)


#: The task registry decides which files the data wheels carry.
TASKS_FILE = "packages/core/src/envpool/tasks.py"


def input_files(package: Package) -> list[Path]:
    """The files a package's build reads: its tracked and untracked-but-not-ignored files, VERSION, tools/."""
    extra = [TASKS_FILE] if package.kind == "data" else []
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


def _stamp_path(out: Path, package: Package) -> Path:
    return out / ".stamps" / f"{package.normalized}.json"


def is_fresh(out: Path, package: Package, digest: str) -> bool:
    """True when the last build of ``package`` used the same inputs and its artifacts are all there."""
    stamp = _stamp_path(out, package)
    if not stamp.is_file():
        return False
    data = json.loads(stamp.read_text())
    return bool(
        data.get("digest") == digest and data["artifacts"] and all((out / a).is_file() for a in data["artifacts"])
    )


def _own_artifacts(out: Path, package: Package) -> set[Path]:
    prefix = package.normalized.lower() + "-"
    return {p for p in out.iterdir() if p.is_file() and p.name.lower().startswith(prefix)}


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


def build_env(package: Package, python: Path) -> Path:
    """The python of the shared build environment for ``python``'s version, requirements and zig installed.

    Building without isolation from one environment per interpreter keeps every path the CMake
    cache records stable, so a warm rebuild compiles only what changed.
    """
    tag = "".join(python.name.removeprefix("python").split(".")) or "3"
    env_dir = REPO / ".cache" / f"build-env-py{tag}"
    env_python = env_dir / "bin" / "python"
    if not env_python.exists():
        _run(["uv", "venv", "--quiet", "--python", str(python), str(env_dir)])
    # cmake and ninja are what scikit-build-core would add to an isolated build environment, the
    # build pins what the core's backend adds (packages/core/backend/envpool_backend.py).
    pins = [pin.requirement for pin in package.build_pins]
    requirements = [*_build_requirements(package), *pins, "cmake>=3.26", "ninja", ZIGLANG]
    _run(["uv", "pip", "install", "--quiet", "--python", str(env_python), *requirements])
    return env_python


def build_core_wheel(package: Package, entry: CoreBuild, out: Path, tmp: Path) -> Path:
    """Compile one core wheel of the matrix with zig, repair it, and prove its tag; return its path."""
    env_python = build_env(package, find_python(entry.python))
    raw = tmp / f"raw-{entry.tag}"
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
            f"--config-setting=cmake.define.Qt5_DIR={qt5_dir()}",
            str(package.path),
        ],
        extra_env=zig_wrappers(env_python),
    )
    (wheel,) = raw.glob("*.whl")
    excludes = [arg for lib in sibling_libraries(package, out) for arg in ("--exclude", lib)]
    repaired = tmp / f"repaired-{entry.tag}"
    _run([sys.executable, "-m", "auditwheel", "repair", *excludes, "--wheel-dir", str(repaired), str(wheel)])
    (fixed,) = repaired.glob("*.whl")
    return check_platform_wheel(fixed)


def check_platform_wheel(wheel: Path) -> Path:
    """Refuse a wheel whose file-name tags or real symbol versions are newer than the set's floor."""
    platforms = wheel.name.removesuffix(".whl").split("-")[-1].split(".")
    reported = manylinux.auditwheel_tag(wheel)
    for tag in [*platforms, reported]:
        manylinux.require_floor(wheel, tag)
    print(f"   {wheel.name}: auditwheel show confirms {reported}", flush=True)
    return wheel


def _build_extension(package: Package, tmp: Path, out: Path, matrix: tuple[CoreBuild, ...]) -> None:
    _build_sdist(package, tmp)
    for entry in matrix:
        wheel = build_core_wheel(package, entry, out, tmp)
        wheel.replace(tmp / wheel.name)


def _build_data(package: Package, tmp: Path, out: Path, matrix: tuple[CoreBuild, ...]) -> None:
    # The wheel is built from the sdist, which proves the sdist builds on its own.
    sdist = _build_sdist(package, tmp)
    _run(["uv", "build", "--wheel", "--out-dir", str(tmp), str(sdist)])


def _build_library(package: Package, tmp: Path, out: Path, matrix: tuple[CoreBuild, ...]) -> None:
    # The project's own PEP 517 backend assembles the wheel, straight from the tree: its sdist is not
    # released (tests/tools/test_sdist_alone.py builds the wheel from it and compares the bytes).
    _run(
        ["uv", "build", "--wheel", "--out-dir", str(tmp), str(package.path)],
        extra_env={"ENVPOOL_ARTIFACT_CACHE": str(cache_dir())},
    )


BUILDERS = {"extension": _build_extension, "data": _build_data, "library": _build_library}


def build(package: Package, out: Path, *, reuse: bool, matrix: tuple[CoreBuild, ...] = CORE_MATRIX) -> list[str]:
    """Build one package into ``out``; return the names of its artifacts.

    The artifacts are made in a temporary directory inside ``out`` and replace the package's old
    ones only when every one of them was built and checked.
    """
    digest = input_digest(package)
    if package.kind == "extension":
        # The core records the library wheel's ABI fingerprint: a new library build rebuilds the core.
        digest += ":" + ",".join(e.tag for e in matrix) + ":" + abi_record.record(package.path, out)
    if reuse and is_fresh(out, package, digest):
        artifacts: list[str] = json.loads(_stamp_path(out, package).read_text())["artifacts"]
        print(f"== {package.distribution}: up to date ({', '.join(artifacts)})", flush=True)
        return artifacts
    print(f"== {package.distribution}: building ({package.kind})", flush=True)
    start = time.monotonic()
    prepare(package)
    tmp = Path(tempfile.mkdtemp(prefix=f".partial-{package.normalized}-", dir=out))
    try:
        BUILDERS[package.kind](package, tmp, out, matrix)
        made = sorted(p for p in tmp.iterdir() if p.is_file() and p.name.endswith((".whl", ".tar.gz")))
        if not made:
            raise BuildError(f"build of {package.distribution} produced no artifact")
        _stamp_path(out, package).unlink(missing_ok=True)
        for old in _own_artifacts(out, package):
            old.unlink()
        for path in made:
            path.replace(out / path.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    artifacts = [p.name for p in made]
    stamp = _stamp_path(out, package)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps({"digest": digest, "artifacts": artifacts}, indent=1))
    print(f"== {package.distribution}: built {', '.join(artifacts)} in {time.monotonic() - start:.0f} s", flush=True)
    return artifacts


def select_matrix(only: list[str]) -> tuple[CoreBuild, ...]:
    """The core matrix entries named by ``--only`` (all of them when none is named)."""
    if not only:
        return CORE_MATRIX
    known = {e.tag: e for e in CORE_MATRIX}
    unknown = sorted(set(only) - set(known))
    if unknown:
        raise BuildError(f"--only {' '.join(unknown)}: not in the core matrix; choose from {', '.join(known)}")
    return tuple(known[t] for t in only)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="skip packages whose inputs did not change")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="TAG",
        help=f"build only these core wheels ({', '.join(e.tag for e in CORE_MATRIX)}); siblings are always built",
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
        matrix = select_matrix(args.only)
        for package in sorted(chosen, key=lambda p: KIND_ORDER[p.kind]):
            build(package, args.out, reuse=args.reuse, matrix=matrix)
    except KeyboardInterrupt:
        name = package.distribution if package else "the build"
        print(f"\ninterrupted while building {name}: {args.out} keeps the artifacts it had", file=sys.stderr)
        return 130
    except subprocess.CalledProcessError as exc:
        name = package.distribution if package else "the build"
        print(f"error: building {name}: {' '.join(map(str, exc.cmd))} exited {exc.returncode}", file=sys.stderr)
        return 1
    except (BuildError, ToolchainError, manylinux.TagError, AssetError, ClosureError, abi_record.AbiRecordError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
