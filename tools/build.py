"""Build the release set into wheelhouse/: a wheel and an sdist of every package present.

Usage: ``python -m tools.build [--reuse] [--out DIR] [PACKAGE_DIR...]``.

- extension (the core): sdist, then the wheel from the source tree with a persistent CMake build
  directory (warm rebuilds), repaired by auditwheel with the sibling libraries excluded;
- data: ``uv build`` (the sdist first, then the wheel from the sdist, proving it builds alone);
- library: ``python -m tools.build_<name> --out DIR``.

With ``--reuse`` a package whose inputs are unchanged since its last build is not rebuilt: a stamp
in ``wheelhouse/.stamps/`` records the digest of its files and the artifacts it produced.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from pathlib import Path

from tools.release_set import PACKAGES, REPO, WHEELHOUSE, Package, present

#: Libraries the core's extension modules link against but mujoco-core provides at run time.
MUJOCO_LIBRARIES: tuple[str, ...] = ("libmujoco.so.*",)

#: Build order: the library wheel first, since the core's repair excludes what it provides.
KIND_ORDER = {"library": 0, "data": 1, "extension": 2}


def sibling_libraries(out: Path) -> list[str]:
    """Sonames auditwheel must not graft into the core: sibling wheels provide them at run time."""
    from tools.procgen_libs.closure import exclude_sonames

    return [*MUJOCO_LIBRARIES, *exclude_sonames(out)]


def _run(cmd: list[str], **kwargs: object) -> None:
    print("+ " + " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kwargs)  # type: ignore[call-overload]


#: The task registry decides which files the data wheels carry.
TASKS_FILE = "packages/core/src/envpool/tasks.py"


def input_files(package: Package) -> list[Path]:
    """The files a package's build reads: its tracked and untracked-but-not-ignored files, VERSION, tools/."""
    extra = [TASKS_FILE] if package.kind == "data" else []
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "--", package.directory, "tools", "VERSION", *extra],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return sorted(REPO / p for p in out if (REPO / p).is_file())


def input_digest(package: Package) -> str:
    """A digest of every input file's path and contents."""
    h = hashlib.sha256()
    for path in input_files(package):
        h.update(str(path.relative_to(REPO)).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
    return h.hexdigest()


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


def dereference_sdist(sdist: Path) -> None:
    """Replace symbolic links in an sdist (such as VERSION -> ../../VERSION) by the files they name.

    Build backends store a symlink as a link; an sdist must carry the file itself to build alone.
    Member order, metadata and the gzip header's mtime are kept, so reproducible sdists stay so.
    """
    with tarfile.open(sdist, "r:gz") as tf:
        members = tf.getmembers()
        if not any(m.issym() for m in members):
            return
        root = sdist.name.removesuffix(".tar.gz")
        package_dir = next(p.path for p in PACKAGES if p.normalized.lower() == root.rsplit("-", 1)[0].lower())
        contents: list[tuple[tarfile.TarInfo, bytes | None]] = []
        for m in members:
            if m.issym():
                target = (package_dir / m.name.split("/", 1)[1]).resolve()
                data: bytes = target.read_bytes()
                info = tarfile.TarInfo(m.name)
                info.size, info.mtime, info.mode = len(data), m.mtime, 0o644
                info.uid, info.gid, info.uname, info.gname = m.uid, m.gid, m.uname, m.gname
                contents.append((info, data))
            else:
                f = tf.extractfile(m) if m.isfile() else None
                contents.append((m, f.read() if f else None))
    with sdist.open("rb") as raw:
        header_mtime = int.from_bytes(raw.read(8)[4:8], "little")
    tmp = sdist.with_suffix(".tmp")
    with (
        tmp.open("wb") as out,
        gzip.GzipFile(filename="", fileobj=out, mode="wb", mtime=header_mtime) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tf,
    ):
        for info, payload in contents:
            tf.addfile(info, io.BytesIO(payload) if payload is not None else None)
    tmp.replace(sdist)
    print(f"   {sdist.name}: symbolic links replaced by the files they name", flush=True)


def _build_requirements(package: Package) -> list[str]:
    with (package.path / "pyproject.toml").open("rb") as f:
        return list(tomllib.load(f)["build-system"]["requires"])


def _build_sdist(package: Package, out: Path) -> Path:
    before = set(out.glob("*.tar.gz"))
    _run(["uv", "build", "--sdist", "--out-dir", str(out), str(package.path)])
    (sdist,) = set(out.glob("*.tar.gz")) - before
    dereference_sdist(sdist)
    return sdist


#: One build environment for every build of the extension, whichever nox session runs it.
BUILD_ENV = REPO / ".cache" / "build-env"


def _build_env(package: Package) -> Path:
    """The python of the shared build environment, with ``package``'s build requirements installed.

    Building without isolation from this one environment keeps every path the CMake cache records
    stable, so a warm rebuild compiles only what changed.
    """
    python = BUILD_ENV / "bin" / "python"
    if not python.exists():
        _run(["uv", "venv", "--quiet", "--python", sys.executable, str(BUILD_ENV)])
    # cmake and ninja are what scikit-build-core would add to an isolated build environment.
    requirements = [*_build_requirements(package), "cmake>=3.26", "ninja"]
    _run(["uv", "pip", "install", "--quiet", "--python", str(python), *requirements])
    return python


def _build_extension(package: Package, out: Path) -> None:
    _build_sdist(package, out)
    python = _build_env(package)
    build_dir = REPO / "build" / package.path.name / "{wheel_tag}"
    with tempfile.TemporaryDirectory() as tmp:
        _run(
            [
                "uv",
                "build",
                "--wheel",
                "--no-build-isolation",
                "--python",
                str(python),
                "--out-dir",
                tmp,
                f"--config-setting=build-dir={build_dir}",
                # Release builds carry every family: a missing Qt fails the build instead of
                # silently leaving procgen out.
                "--config-setting=cmake.define.ENVPOOL_PROCGEN=ON",
                str(package.path),
            ]
        )
        excludes = [arg for lib in sibling_libraries(out) for arg in ("--exclude", lib)]
        for wheel in Path(tmp).glob("*.whl"):
            _run([sys.executable, "-m", "auditwheel", "repair", *excludes, "--wheel-dir", str(out), str(wheel)])


def _build_data(package: Package, out: Path) -> None:
    # The wheel is built from the sdist, which proves the sdist builds on its own.
    sdist = _build_sdist(package, out)
    _run(["uv", "build", "--wheel", "--out-dir", str(out), str(sdist)])


def _build_library(package: Package, out: Path) -> None:
    module = "tools.build_" + package.path.name.replace("-", "_")
    _run([sys.executable, "-m", module, "--out", str(out)], cwd=REPO)


BUILDERS = {"extension": _build_extension, "data": _build_data, "library": _build_library}


def build(package: Package, out: Path, *, reuse: bool) -> list[str]:
    """Build one package into ``out``; return the names of its artifacts."""
    digest = input_digest(package)
    if reuse and is_fresh(out, package, digest):
        artifacts: list[str] = json.loads(_stamp_path(out, package).read_text())["artifacts"]
        print(f"== {package.distribution}: up to date ({', '.join(artifacts)})", flush=True)
        return artifacts
    print(f"== {package.distribution}: building ({package.kind})", flush=True)
    start = time.monotonic()
    for old in _own_artifacts(out, package):
        old.unlink()
    BUILDERS[package.kind](package, out)
    artifacts = sorted(p.name for p in _own_artifacts(out, package))
    if not artifacts:
        raise SystemExit(f"build of {package.distribution} produced no artifact in {out}")
    stamp = _stamp_path(out, package)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps({"digest": digest, "artifacts": artifacts}, indent=1))
    print(f"== {package.distribution}: built {', '.join(artifacts)} in {time.monotonic() - start:.0f} s", flush=True)
    return artifacts


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="skip packages whose inputs did not change")
    parser.add_argument("--out", type=Path, default=WHEELHOUSE)
    parser.add_argument("packages", nargs="*", help="package directories (default: all present)")
    args = parser.parse_args(argv)
    if shutil.which("uv") is None:
        raise SystemExit("tools.build needs uv on PATH: pip install uv")
    chosen = present()
    if args.packages:
        wanted = {str(Path(p)).rstrip("/") for p in args.packages}
        chosen = [p for p in chosen if p.directory in wanted]
        if not chosen:
            raise SystemExit(f"no package matches {sorted(wanted)}; known: {[p.directory for p in present()]}")
    args.out.mkdir(parents=True, exist_ok=True)
    for package in sorted(chosen, key=lambda p: KIND_ORDER[p.kind]):
        build(package, args.out, reuse=args.reuse)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
