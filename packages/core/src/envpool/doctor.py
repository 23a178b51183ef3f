"""``envpool doctor``: what is installed, whether each family works, and where its files come from.

Each family is loaded in this process, so the shared libraries it maps are read from
``/proc/self/maps`` and traced back to the distribution (or the system) that owns each file.
"""

from __future__ import annotations

import os
import platform
import re
import sys
import sysconfig
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any

from envpool import conflicts, inventory
from envpool._version import __version__
from envpool.errors import BrokenInstallError, MissingExtraError, VersionSkewError
from envpool.families import FAMILIES, all_pins, installed_version
from envpool.resolution import load, resolve

if TYPE_CHECKING:
    from collections.abc import Iterable

    from envpool.resolution import AssetSource


@dataclass
class Library:
    """One mapped shared library and who installed it."""

    path: str
    owner: str  # a distribution name, "python" (the interpreter's own) or "system"


@dataclass
class FamilyReport:
    """The state of one family."""

    name: str
    status: str  # ready | missing | skewed | broken
    reason: str = ""
    fix: str = ""
    assets: dict[str, str] | None = None  # origin, version, root, distribution
    libraries: list[Library] = field(default_factory=list)  # mapped when the family was loaded
    needs_assets: bool = False


def python_info() -> dict[str, str]:
    """The interpreter, its tags and the platform (no packaging.tags needed)."""
    impl = sys.implementation.name
    short = {"cpython": "cp", "pypy": "pp"}.get(impl, impl)
    nodot = f"{sys.version_info.major}{sys.version_info.minor}"
    soabi = sysconfig.get_config_var("SOABI") or ""
    libc, libc_version = platform.libc_ver()
    return {
        "implementation": impl,
        "version": platform.python_version(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "interpreter_tag": f"{short}{nodot}",
        "abi_tag": f"{short}{nodot}{'t' if 't' in sys.abiflags else ''}",
        "soabi": soabi,
        "platform_tag": sysconfig.get_platform().replace("-", "_").replace(".", "_"),
        "libc": f"{libc} {libc_version}".strip(),
        "machine": platform.machine(),
    }


def distributions() -> list[dict[str, Any]]:
    """Every installed envpool distribution and pinned sibling: version, pin, whether it holds."""
    try:
        pins = all_pins()
    except BrokenInstallError:  # no metadata of this envpool: its extras' pins are unknown
        pins = {"envpool": __version__}
    rows = []
    seen = set()
    for dist in metadata.distributions():
        name = dist.metadata["Name"] or ""
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen or not (key.startswith("envpool") or key in pins):
            continue
        seen.add(key)
        pin = pins.get(key)
        rows.append(
            {
                "name": key,
                "version": dist.version,
                "pin": pin,
                "ok": pin is None or dist.version == pin,
                "location": str(dist.locate_file("")),
            }
        )
    return sorted(rows, key=lambda r: (r["name"] != "envpool", r["name"]))


def mapped_libraries() -> list[str]:
    """The shared-library files mapped into this process, from /proc/self/maps (empty elsewhere)."""
    return inventory.mapped_paths()


class Owners:
    """Maps file paths to the installed distribution listing them (built on first use)."""

    def __init__(self) -> None:
        self.wheels = inventory.WheelFiles()

    def owner(self, path: str) -> str:
        """The distribution owning ``path``, "python" for the interpreter's own files, else "system"."""
        real = os.path.realpath(path)
        found = self.wheels.owner(path)
        if found:
            return found
        for base in {sys.base_prefix, sys.base_exec_prefix}:
            if real.startswith(os.path.realpath(base) + os.sep):
                return "python"
        return "system"


def _assets(source: AssetSource | None) -> tuple[dict[str, str] | None, str | None, str]:
    """(asset source, problem, fix) of a resolved family's assets, every sha256 checked."""
    if source is None:
        return None, None, ""
    info = {
        "origin": source.origin,
        "version": source.version,
        "root": str(source.root),
        "distribution": source.distribution,
    }
    problems = source.problems(full=True)
    if problems:
        listed = "; ".join(str(p) for p in problems[:10])
        more = f"; ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        return info, f"corrupted assets ({source.describe()}): {listed}{more}", source.fix()
    return info, None, ""


def check_family(name: str, owners: Owners) -> FamilyReport:
    """Resolve ``name`` (versions, where its assets are), check every asset file, load it and record its libraries."""
    report = _check_family(name, owners)
    try:
        report.needs_assets = FAMILIES[name].asset_sibling is not None
    except BrokenInstallError:
        report.needs_assets = False
    return report


def _check_family(name: str, owners: Owners) -> FamilyReport:  # noqa: PLR0911 - one return per outcome
    family = FAMILIES[name]
    try:
        resolved = resolve(name, check_files=False)
        assets, problem, fix = _assets(resolved.assets)
    except MissingExtraError as exc:
        return FamilyReport(name, "missing", str(exc), family.pip_line())
    except VersionSkewError as exc:
        return FamilyReport(name, "skewed", str(exc), family.pip_line())
    except BrokenInstallError as exc:
        return FamilyReport(name, "broken", str(exc), family.pip_line())
    if problem:
        return FamilyReport(name, "broken", problem, fix, assets)
    reinstall = family.pip_line().replace("pip install ", "pip install --force-reinstall ", 1)
    before = set(mapped_libraries())
    try:
        load(resolved)
    except MissingExtraError as exc:
        return FamilyReport(name, "missing", str(exc), family.pip_line(), assets)
    except Exception as exc:
        return FamilyReport(
            name,
            "broken",
            f"importing {family.module} failed: {type(exc).__name__}: {exc}",
            reinstall,
            assets,
        )
    libs = [Library(p, owners.owner(p)) for p in mapped_libraries() if p not in before]
    return FamilyReport(name, "ready", "", "", assets, libs)


def procgen_qt() -> dict[str, str]:
    """Where this build's procgen family takes its Qt from: the library wheel, or the system (source builds)."""
    from envpool.procgen_loader import qt_record

    try:
        record = qt_record()
    except BrokenInstallError as exc:
        return {"source": "unknown", "problem": str(exc)}
    if record["source"] == "system":
        version, library = str(record.get("qt_version", "")), str(record.get("library", ""))
        return {"source": "system", "qt_version": version, "library": library}
    return {"source": "wheel", "fingerprint": str(record.get("fingerprint", ""))}


def run(names: Iterable[str] = (), full: bool = False) -> dict[str, Any]:
    """The whole report as a JSON-ready dict (families: the named ones, else all; ``full``: with the inventory)."""
    names = list(names) or list(FAMILIES)
    owners = Owners()
    families = [check_family(n, owners) for n in names]
    extra = {"inventory": collect(families, owners.wheels)} if full else {}
    env = {k: os.environ[k] for k in ("LD_PRELOAD", "LD_LIBRARY_PATH", "ENVPOOL_ASSETS_PATH") if os.environ.get(k)}
    mapped = [asdict(Library(p, owners.owner(p))) for p in mapped_libraries()]
    return {
        "envpool": __version__,
        "envpool_metadata_version": installed_version("envpool"),
        "python": python_info(),
        "distributions": distributions(),
        "families": [asdict(f) for f in families],
        "mapped_libraries": mapped,  # everything mapped at the end, the interpreter's own modules included
        "environment": env,
        "procgen_qt": procgen_qt(),  # issue 13 item 6: the Qt source of this build
        **extra,
    }


def _library_wheel() -> str | None:
    """The distribution the procgen family takes Qt/ICU from (None when envpool's metadata is missing)."""
    try:
        return next((s.distribution for s in FAMILIES["procgen"].siblings if not s.is_assets), None)
    except BrokenInstallError:
        return None


def collect(families: list[FamilyReport], wheels: inventory.WheelFiles) -> dict[str, Any]:
    """The ``--all`` inventory after the families loaded, as a JSON-ready dict (keys in docs/runtime.md)."""
    loaded_by: dict[str, list[str]] = {}
    for f in families:
        for lib in f.libraries:
            loaded_by.setdefault(lib.path, []).append(f.name)
    libs = inventory.libraries(wheels, loaded_by)
    env = inventory.environment()
    return {
        "distributions": inventory.all_distributions(),
        "libraries": [asdict(lib) for lib in libs],
        "environment": env,
        "icu_data": inventory.icu_data(libs, _library_wheel()),
        "conflicts": [asdict(c) for c in conflicts.find(libs, wheels, env)],
    }


def render(report: dict[str, Any]) -> str:
    """The report as text for people."""
    py = report["python"]
    out = [
        f"envpool {report['envpool']} (installed metadata: {report['envpool_metadata_version'] or 'none'})",
        f"python {py['version']} ({py['implementation']}) at {py['executable']}",
        (
            f"  tags: {py['interpreter_tag']}-{py['abi_tag']}-{py['platform_tag']}  soabi={py['soabi']}  "
            f"libc={py['libc'] or 'unknown'}"
        ),
        "distributions:",
    ]
    for d in report["distributions"]:
        pin = "" if d["pin"] is None else (f"  pin =={d['pin']} ok" if d["ok"] else f"  PIN =={d['pin']} BROKEN")
        out.append(f"  {d['name']} {d['version']}{pin}  ({d['location']})")
    out.append("families:")
    for f in report["families"]:
        out.append(f"  {f['name']}: {f['status'].upper()}")
        if f["assets"]:
            a = f["assets"]
            out.append(f"    assets: {a['origin']} {a['version']} at {a['root']}")
        elif f["needs_assets"]:
            out.append("    assets: none")
        if f["reason"]:
            out += ["    " + line for line in f["reason"].splitlines()]
        if f["fix"]:
            out.append(f"    fix: {f['fix']}")
        for lib in f["libraries"]:
            out.append(f"    mapped {lib['path']}  [{lib['owner']}]")
    if "inventory" in report:
        return "\n".join(out + render_inventory(report["inventory"]))
    foreign = [lib for lib in report["mapped_libraries"] if lib["owner"] != "python"]
    out.append(f"process: {len(report['mapped_libraries'])} shared libraries mapped; not the interpreter's own:")
    out += [f"  {lib['path']}  [{lib['owner']}]" for lib in foreign]
    qt = report["procgen_qt"]
    if qt["source"] == "system":
        out.append(f"procgen Qt: system Qt {qt['qt_version']} ({qt['library']}); source build, no library wheel used")
    elif qt["source"] == "wheel":
        out.append(f"procgen Qt: the library wheel's (ABI {qt['fingerprint'] or 'unrecorded'})")
    else:
        out.append(f"procgen Qt: unknown ({qt['problem']})")
    for key, value in report["environment"].items():
        out.append(f"{key}={value}")
    return "\n".join(out)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Left-aligned columns, two spaces apart, the last column unpadded."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header) - 1)]
    return ["  " + "  ".join([*(c.ljust(w) for c, w in zip(r, widths, strict=False)), r[-1]]) for r in [header, *rows]]


def render_inventory(inv: dict[str, Any]) -> list[str]:
    """The ``--all`` inventory as tables for people."""
    dists = inv["distributions"]
    out = [f"all distributions ({len(dists)}):"]
    out += _table(
        ["NAME", "VERSION", "LOCATION"],
        [[d["name"], d["version"], d["location"] + ("  (shadowed)" if d["shadowed"] else "")] for d in dists],
    )
    libs = inv["libraries"]
    out.append(f"mapped libraries ({len(libs)}):")
    out += _table(
        ["SONAME", "VERSION", "BUILD-ID", "OWNER", "FAMILY", "PATH"],
        [
            [
                lib["soname"],
                lib["version"] or "-",
                (lib["build_id"] or "-")[:16],
                f"{lib['owner_kind']}:{lib['owner']}" if lib["owner_kind"] in ("wheel", "system") else lib["owner"],
                ",".join(lib["loaded_by"]) or "-",
                lib["path"],
            ]
            for lib in libs
        ],
    )
    out.append("environment:")
    out += [f"  {k}={'(unset)' if v is None else v}" for k, v in inv["environment"].items()]
    icu = inv["icu_data"]
    out.append("ICU data:")
    out += [f"  loaded {i['path']}  [{i['owner_kind']}:{i['owner']}]" for i in icu["loaded"]] or ["  none loaded"]
    if icu["manifest"]:
        facts = icu["manifest"]["icu_data"]
        shown = {k: (f"{len(v)} items" if isinstance(v, list) else v) for k, v in facts.items()} if facts else {}
        out.append(
            f"  {icu['manifest']['distribution']} manifest: ICU {icu['manifest']['icu_version']}"
            + "".join(f", {k}={v}" for k, v in shown.items())
        )
    found = inv["conflicts"]
    out.append(f"conflicts: {len(found) or 'none'}")
    for c in found:
        out += [f"  CONFLICT {c['kind']} ({c['source']}): {c['message']}", f"    fix: {c['fix']}"]
    return out
