"""``envpool doctor --all``: every visible distribution, every mapped library and who owns it, conflicts.

Run after the families were loaded (:mod:`envpool.doctor` does that). Each mapped shared library
gets its soname and GNU build id (read by :mod:`envpool.elfinfo`; "unreadable" for a malformed
file), its version where the library can tell (``qVersion``, ``u_getVersion_<major>``,
``mj_versionString``) or else the version in its file name, and its owner: the distribution whose
installed file list (RECORD) names it, else the system package ``dpkg -S`` / ``rpm -qf`` names,
else ``python`` for the interpreter's own files, else ``unknown``. Conflicts are described in
docs/runtime.md; each carries the fix.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from envpool import elfinfo

_SO = re.compile(r"\.so(\.\d+)*$")
_VERSIONED = re.compile(r"\.so\.(\d+(?:\.\d+)*)$")
ENV_VARS = ("LD_PRELOAD", "LD_LIBRARY_PATH", "PYTHONPATH")
ENV_PREFIX = "ENVPOOL_"
_TIMEOUT = 10.0


@dataclass
class MappedLibrary:
    """One shared library mapped into the process."""

    path: str
    soname: str  # DT_SONAME, else the file name
    version: str | None
    version_source: str | None  # qVersion | u_getVersion | mj_versionString | file name
    build_id: str | None  # hex; "unreadable" when the ELF file is malformed
    owner: str  # distribution name, system package, "python" or "unknown"
    owner_kind: str  # wheel | system | python | unknown
    loaded_by: list[str] = field(default_factory=list)  # the families whose loading mapped it


def mapped_paths() -> list[str]:
    """The shared-library files mapped into this process, from /proc/self/maps (empty elsewhere)."""
    try:
        text = Path("/proc/self/maps").read_text()
    except OSError:
        return []
    paths: dict[str, None] = {}
    for line in text.splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith("/"):
            path = parts[5].removesuffix(" (deleted)")
            if _SO.search(path) or ".so." in path:
                paths[path] = None
    return list(paths)


def _key(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


class WheelFiles:
    """Shared-library paths of every visible distribution (from their RECORD file lists), built once."""

    def __init__(self) -> None:
        self._by_path: dict[str, str] | None = None

    def _build(self) -> dict[str, str]:
        table: dict[str, str] = {}
        for dist in metadata.distributions():
            name = dist.metadata["Name"] or "?"
            for f in dist.files or ():
                s = str(f)
                if _SO.search(s) or ".so." in s:
                    try:
                        table.setdefault(os.path.realpath(str(dist.locate_file(f))), name)
                    except (OSError, ValueError):
                        continue
        return table

    def owner(self, path: str) -> str | None:
        """The distribution listing ``path`` (its name as its metadata spells it), or None."""
        if self._by_path is None:
            self._by_path = self._build()
        return self._by_path.get(os.path.realpath(path)) or self._by_path.get(path)

    def files_of(self, distribution: str) -> list[str]:
        """The shared-library paths ``distribution`` lists."""
        if self._by_path is None:
            self._by_path = self._build()
        return [p for p, d in self._by_path.items() if _key(d) == _key(distribution)]


def _usr_merged(path: str) -> list[str]:
    """``path`` and its twin across the /usr merge (/lib/x <-> /usr/lib/x), as a package database may list either."""
    for short in ("/lib", "/lib64", "/bin", "/sbin"):
        if path.startswith("/usr" + short + "/"):
            return [path, path[4:]]
        if path.startswith(short + "/"):
            return [path, "/usr" + path]
    return [path]


def command_output(cmd: list[str]) -> str:
    """stdout of ``cmd`` (a short query such as ``dpkg -S``), "" when it cannot run or times out.

    The runtime's one way to run a command (the release tools have tools/common/process.py).
    """
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return res.stdout


def system_packages(paths: list[str]) -> dict[str, str]:
    """path -> the system package owning it, from ``dpkg -S`` or ``rpm -qf`` (whichever exists)."""
    if not paths:
        return {}
    queries = {alt: p for p in paths for alt in _usr_merged(p)}
    found: dict[str, str] = {}
    if shutil.which("dpkg"):
        for line in command_output(["dpkg", "-S", *queries]).splitlines():
            pkg, sep, rest = line.partition(": /")
            if sep and not line.startswith("diversion ") and "/" + rest in queries:
                found.setdefault(queries["/" + rest], pkg.strip())
    elif shutil.which("rpm"):
        listed = list(queries)
        lines = command_output(["rpm", "-qf", "--queryformat", "%{NAME}\\n", *listed]).splitlines()
        if len(lines) == len(listed):  # one line per path, in order
            for query, line in zip(listed, lines, strict=True):
                if line and " " not in line.strip():
                    found.setdefault(queries[query], line.strip())
    return found


def _interpreter_file(path: str) -> bool:
    real = os.path.realpath(path)
    return any(real.startswith(os.path.realpath(b) + os.sep) for b in {sys.base_prefix, sys.base_exec_prefix})


def _call_version(path: str, soname: str) -> tuple[str | None, str | None]:
    """The version a loaded Qt, ICU or MuJoCo reports about itself (never loads anything new)."""
    if not soname.startswith(("libQt5Core.so", "libicuuc.so.", "libmujoco.so")):
        return None, None
    try:
        handle = ctypes.CDLL(path, mode=os.RTLD_NOLOAD | os.RTLD_NOW)
        if soname.startswith("libQt5Core.so"):
            fn = handle.qVersion
            fn.restype, fn.argtypes = ctypes.c_char_p, []
            raw = fn()
            return (raw.decode() if raw else None), "qVersion"
        if soname.startswith("libicuuc.so."):
            major = soname.rsplit(".", 1)[-1]
            fn = getattr(handle, f"u_getVersion_{major}")
            buf = (ctypes.c_uint8 * 4)()
            fn.restype, fn.argtypes = None, [ctypes.c_void_p]
            fn(buf)
            parts = list(buf)
            while len(parts) > 2 and parts[-1] == 0:
                parts.pop()
            return ".".join(map(str, parts)), "u_getVersion"
        if soname.startswith("libmujoco.so"):
            fn = handle.mj_versionString
            fn.restype, fn.argtypes = ctypes.c_char_p, []
            raw = fn()
            return (raw.decode() if raw else None), "mj_versionString"
    except (OSError, AttributeError, ValueError, UnicodeDecodeError):
        pass
    return None, None


def _version(path: str, soname: str) -> tuple[str | None, str | None]:
    version, source = _call_version(path, soname)
    if version:
        return version, source
    match = _VERSIONED.search(Path(os.path.realpath(path)).name) or _VERSIONED.search(soname)
    return (match[1], "file name") if match else (None, None)


def libraries(wheels: WheelFiles, loaded_by: dict[str, list[str]]) -> list[MappedLibrary]:
    """Every mapped shared library with its soname, version, build id and owner."""
    rows: list[MappedLibrary] = []
    for path in mapped_paths():
        try:
            facts = elfinfo.read(path)
            soname, build_id = facts.soname or Path(path).name, facts.build_id
        except (OSError, elfinfo.ElfError):
            soname, build_id = Path(path).name, "unreadable"
        version, source = _version(path, soname)
        owner = wheels.owner(path)
        owner = _key(owner) if owner else None
        rows.append(
            MappedLibrary(
                path, soname, version, source, build_id, owner or "", "wheel" if owner else "", loaded_by.get(path, [])
            )
        )
    system = system_packages([r.path for r in rows if not r.owner])
    for r in rows:
        if r.owner:
            continue
        if r.path in system:
            r.owner, r.owner_kind = system[r.path], "system"
        elif _interpreter_file(r.path):
            r.owner, r.owner_kind = "python", "python"
        else:
            r.owner, r.owner_kind = "unknown", "unknown"
    kinds = ("wheel", "system", "python", "unknown")
    return sorted(rows, key=lambda r: (kinds.index(r.owner_kind), r.owner, r.soname, r.path))


def all_distributions() -> list[dict[str, Any]]:
    """Every distribution visible to this interpreter, by name; ``shadowed`` when an earlier ``sys.path`` entry wins."""
    rows, seen = [], set()
    for dist in metadata.distributions():
        name = _key(dist.metadata["Name"] or "?")
        rows.append(
            {"name": name, "version": dist.version, "location": str(dist.locate_file("")), "shadowed": name in seen}
        )
        seen.add(name)
    return sorted(rows, key=lambda r: r["name"])  # stable: copies of one name stay in sys.path order


def environment() -> dict[str, str | None]:
    """The variables that change how libraries and modules resolve (None when unset), and every ENVPOOL_*."""
    env: dict[str, str | None] = {k: os.environ.get(k) for k in ENV_VARS}
    env.update(sorted((k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIX)))
    return env


def _library_wheel_manifest(distribution: str) -> dict[str, Any] | None:
    """The installed library wheel's ``_manifest.json`` (None when absent or unreadable)."""
    try:
        dist = metadata.distribution(distribution)
    except metadata.PackageNotFoundError:
        return None
    for f in dist.files or ():
        if f.name == "_manifest.json":
            try:
                data = json.loads(Path(str(dist.locate_file(f))).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return None
            return data if isinstance(data, dict) else None
    return None


def icu_data(libs: list[MappedLibrary], library_wheel: str | None) -> dict[str, Any]:
    """The ICU data libraries mapped (path, owner) and the library wheel's recorded ICU facts, if any."""
    loaded = [
        {"path": lib.path, "soname": lib.soname, "owner": lib.owner, "owner_kind": lib.owner_kind}
        for lib in libs
        if lib.soname.startswith("libicudata.so")
    ]
    manifest = _library_wheel_manifest(library_wheel) if library_wheel else None
    facts = None
    if manifest is not None:
        facts = {"distribution": library_wheel, "icu_version": manifest.get("icu_version")}
        facts["icu_data"] = manifest.get("icu_data")  # the trimmed data's facts, when the wheel records them
    return {"loaded": loaded, "manifest": facts}
