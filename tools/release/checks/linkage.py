"""The linkage check: every ELF file's needed libraries and sibling symbols resolve to exactly one provider.

Each ``DT_NEEDED`` soname of every ELF file in a wheel must resolve to exactly one of:

1. a file in the same wheel;
2. a file in a sibling wheel of the set, or in a third-party wheel that the core pins with ``==``,
   required by the extra whose family module needs it (``envpool/_<extra>...so``);
3. a library of the wheel's manylinux policy (auditwheel's whitelist, and the dynamic loader).

A soname that two wheels provide fails (two copies would be loaded). For a family module, every
undefined symbol bound to a library that a sibling provides (by its symbol version's file, or any
unversioned one that is not Python's C API) must be exported by that library with that version.

The set holds wheels of every architecture of tools/release/release_set.py ``ARCHES``: a wheel is judged
among the wheels of its own architecture (and the pure ones), and the core's markers are evaluated for
Linux on that architecture (``platform_machine`` of the wheel, not of this host), so an aarch64 core's
procgen extra requires the aarch64 library wheel and its robotics extra mujoco-core's aarch64 wheel.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tools.common.distfile import Artifact, parse_artifact
from tools.common.elf import DynamicSymbols, dynamic_info, dynamic_symbols, is_elf
from tools.release.checks.base import Context, Status, arch_of, fail, is_core, ok, skip
from tools.release.release_set import ARCHES, Arch, arch_of_wheel

if TYPE_CHECKING:
    from collections.abc import Iterable

_LOADER = re.compile(r"^ld-linux[-\w.]*\.so\.\d+$")
_PYTHON_API = re.compile(r"^_?Py")
_MODULE = re.compile(r"^envpool/_(?P<family>[a-z_]+)\.(?:cpython-\d+-[^/]+|abi3)\.so$")


@dataclass(frozen=True)
class Provided:
    """A shared library as shipped in a wheel."""

    wheel: str  # the wheel's file name
    member: str  # the archive member
    symbols: DynamicSymbols


@dataclass
class Inventory:
    """Sonames provided by the wheels of the set and the third-party wheels the core pins with ==."""

    by_soname: dict[str, list[Provided]]
    pinned: dict[str, Artifact]  # canonical name of a pinned third-party distribution -> its wheel


def _elf_members(wheel: Artifact) -> list[str]:
    return [m for m in wheel.members() if ".so" in PurePosixPath(m).name and is_elf(wheel.read(m)[:4])]


def _read_elf(wheel: Artifact, member: str, scratch: Path) -> Path:
    path = scratch / wheel.path.name / member
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(wheel.read(member))
    return path


def _python_tag(wheel: Artifact) -> str:
    return wheel.path.name.removesuffix(".whl").split("-")[-3]


def _applies(req: Requirement, core: Artifact, arch: Arch) -> bool:
    """``req`` of the core applies on Linux ``arch`` unconditionally or under one of the core's extras."""
    if req.marker is None:
        return True
    extras = ["", *(core.metadata().get_all("Provides-Extra") or [])]
    return any(req.marker.evaluate(arch.platform.environment(e)) for e in extras)


def _pinned_names(ctx: Context, core: Artifact, arch: Arch) -> set[str]:
    """Canonical names of the third-party distributions the core pins with ``==`` (any extra) on ``arch``."""
    ours = {canonicalize_name(p.distribution) for p in ctx.packages}
    reqs = [Requirement(line) for line in core.metadata().get_all("Requires-Dist") or []]
    return {
        canonicalize_name(r.name)
        for r in reqs
        if canonicalize_name(r.name) not in ours
        and any(s.operator == "==" for s in r.specifier)
        and _applies(r, core, arch)
    }


def _pinned_third_party(ctx: Context, core: Artifact, arch: Arch) -> dict[str, Artifact]:
    """The third-party wheels (from ctx.thirdparty) the core pins with ``==``, for its Python tag and ``arch``."""
    ours = {canonicalize_name(p.distribution) for p in ctx.packages}
    found: dict[str, Artifact] = {}
    candidates = [a for p in sorted(ctx.thirdparty.glob("*.whl")) if (a := parse_artifact(p)) is not None]
    for line in core.metadata().get_all("Requires-Dist") or []:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        pins = [s.version for s in req.specifier if s.operator == "=="]
        if name in ours or not pins or not _applies(req, core, arch):
            continue
        for cand in candidates:
            if canonicalize_name(cand.name) == name and cand.version == pins[0] and _serves(cand, core):
                found.setdefault(name, cand)
    return found


def _same_arch(wheel: Artifact, arch: Arch) -> bool:
    """A wheel installs on ``arch``: a pure wheel, or a platform wheel of that architecture."""
    return not wheel.is_platform_wheel or arch_of_wheel(wheel.filename) == arch


def _serves(third_party: Artifact, core: Artifact) -> bool:
    """A third-party wheel installs beside this core: the core's architecture, and the same CPython tag or
    any later one for an abi3 core."""
    arch = arch_of(core)
    if arch is None or not _same_arch(third_party, arch):
        return False
    theirs, mine = _python_tag(third_party), _python_tag(core)
    if theirs in {mine, "py3"}:
        return True
    abi3 = core.path.name.removesuffix(".whl").split("-")[-2] == "abi3"
    return abi3 and theirs.startswith("cp3") and mine.startswith("cp3") and int(theirs[3:]) >= int(mine[3:])


def inventory(ctx: Context, core: Artifact | None, scratch: Path, arch: Arch) -> Inventory:
    """Index every soname shipped by the set's wheels of ``arch`` (and pure ones) and the core's pinned
    third-party wheels."""
    pinned = _pinned_third_party(ctx, core, arch) if core is not None else {}
    siblings = [a for a in ctx.artifacts if a.kind == "wheel" and not is_core(ctx, a) and _same_arch(a, arch)]
    wheels = siblings + list(pinned.values())
    if core is not None:
        wheels.append(core)
    by_soname: dict[str, list[Provided]] = {}
    for wheel in wheels:
        for member in _elf_members(wheel):
            path = _read_elf(wheel, member, scratch)
            soname = dynamic_info(path).soname
            if soname is not None and not _MODULE.match(member):
                by_soname.setdefault(soname, []).append(Provided(wheel.path.name, member, dynamic_symbols(path)))
    return Inventory(by_soname, pinned)


def policy_libraries(platforms: Iterable[str]) -> set[str]:
    """The sonames a wheel with these platform tags may take from the system (auditwheel's policy)."""
    policies = json.loads((resources.files("auditwheel.policy") / "manylinux-policy.json").read_text())
    libs: set[str] | None = None
    for tag in platforms:
        for policy in policies:
            names = {policy["name"], *policy["aliases"]}
            if any(tag.startswith(f"{n}_") for n in names):
                allowed = set(policy["lib_whitelist"])
                libs = allowed if libs is None else libs & allowed
    return libs or set()


def _extra_requires(core: Artifact, extra: str, arch: Arch) -> set[str]:
    """Canonical names the core requires with ``==`` under ``extra`` on Linux ``arch``."""
    out: set[str] = set()
    for line in core.metadata().get_all("Requires-Dist") or []:
        req = Requirement(line)
        if (
            req.marker is not None
            and req.marker.evaluate(arch.platform.environment(extra))
            and any(s.operator == "==" for s in req.specifier)
        ):
            out.add(canonicalize_name(req.name))
    return out


def _owner(wheel_name: str) -> str:
    parsed = parse_artifact(Path(wheel_name))
    return canonicalize_name(parsed.name) if parsed is not None else wheel_name


def _missing_symbols(module: DynamicSymbols, needed: dict[str, Provided]) -> list[str]:
    """Undefined symbols of ``module`` that the sibling-provided libraries in ``needed`` do not export."""
    missing = []
    for imp in module.imports:
        if imp.weak:
            continue
        if imp.library is not None:
            lib = needed.get(imp.library)
            if lib is not None and imp.version not in lib.symbols.exports.get(imp.name, frozenset()):
                missing.append(f"{imp.name}@{imp.version} (from {imp.library} in {lib.wheel})")
        elif (
            needed
            and not _PYTHON_API.match(imp.name)
            and not any(imp.name in lib.symbols.exports for lib in needed.values())
        ):
            missing.append(f"{imp.name} (unversioned; none of {', '.join(sorted(needed))} exports it)")
    return missing


def check_linkage(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """Every needed soname resolves to one provider; sibling symbols are exported with their versions."""
    if a.kind != "wheel" or not a.is_platform_wheel:
        return skip("not a platform wheel")
    arch = arch_of(a)
    if arch is None:
        known = ", ".join(x.machine for x in ARCHES)
        return fail(f"platform tag {'.'.join(a.platforms)} names no architecture of the release set ({known})")
    with tempfile.TemporaryDirectory(prefix="linkage-") as tmp:
        core = a if is_core(ctx, a) else None
        if core is not None and not ctx.thirdparty.is_dir():
            return fail(f"no third-party wheels in {ctx.thirdparty}: run python -m tools.release.thirdparty")
        inv = inventory(ctx, core, Path(tmp), arch)
        if core is not None:
            wanted = _pinned_names(ctx, core, arch) - set(inv.pinned)
            if wanted:
                return fail(
                    f"no {arch.machine} wheel of {', '.join(sorted(wanted))} for {_python_tag(core)} in "
                    f"{ctx.thirdparty}: run python -m tools.release.thirdparty --pinned"
                )
        policy = policy_libraries(a.platforms)
        me = a.path.name
        problems: list[str] = []
        for soname, providers in sorted(inv.by_soname.items()):
            wheels = sorted({p.wheel for p in providers})
            if me in wheels and len(wheels) > 1:
                problems.append(f"{soname} is provided by {' and '.join(wheels)}: one copy must go")
        for member in _elf_members(a):
            path = _read_elf(a, member, Path(tmp))
            info = dynamic_info(path)
            match = _MODULE.match(member) if core is not None else None
            extra = match["family"] if match else None
            allowed = _extra_requires(a, extra, arch) if extra else set()
            sibling_libs: dict[str, Provided] = {}
            for soname in info.needed:
                own = [p for p in inv.by_soname.get(soname, []) if p.wheel == me]
                others = [p for p in inv.by_soname.get(soname, []) if p.wheel != me]
                if own or soname in policy or _LOADER.match(soname):
                    continue
                if not others:
                    expected = f" (expected from the wheels extra {extra!r} pins: {sorted(allowed)})" if extra else ""
                    problems.append(f"{member} needs {soname}: no wheel of the set provides it{expected}")
                    continue
                owners = {_owner(p.wheel) for p in others}
                if not extra or not owners & allowed:
                    via = f"extra {extra!r}" if extra else "this wheel"
                    problems.append(
                        f"{member} needs {soname} from {', '.join(sorted(owners))}, which {via} does not pin with =="
                    )
                    continue
                sibling_libs[soname] = others[0]
            if sibling_libs:
                missing = _missing_symbols(dynamic_symbols(path), sibling_libs)
                shown = "; ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
                if missing:
                    problems.append(f"{member}: missing symbol(s) {shown}")
    if problems:
        return fail("; ".join(problems))
    return ok("every needed library and sibling symbol resolves")
