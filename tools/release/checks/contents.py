"""Content checks: no path shipped twice, nothing of a sibling in the core, SBOMs for grafted libraries."""

from __future__ import annotations

import json
import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from tools.release.checks.base import Context, Status, fail, is_core, ok, skip

if TYPE_CHECKING:
    from tools.common.distfile import Artifact

_LIB_RE = re.compile(r"^lib(qt\d|icu|mujoco)", re.IGNORECASE)
_MODEL_SUFFIXES = {".stl", ".obj", ".msh", ".mjb", ".png", ".skn"}


def _install_path(member: str) -> str | None:
    """Where a wheel member lands (None for .dist-info files, which are per distribution)."""
    first, _, rest = member.partition("/")
    if first.endswith(".dist-info"):
        return None
    if first.endswith(".data"):
        scheme, _, path = rest.partition("/")
        return path if scheme in ("purelib", "platlib") else f"<{scheme}>/{path}"
    return member


def check_file_overlap(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """No installed path is shipped by this wheel and a wheel of another distribution."""
    if a.kind != "wheel":
        return skip("not a wheel")
    mine = {p for m in ctx.members(a) if (p := _install_path(m)) is not None}
    clashes: dict[str, set[str]] = {}
    for other in ctx.artifacts:
        if other.kind != "wheel" or canonicalize_name(other.name) == canonicalize_name(a.name):
            continue
        for m in ctx.members(other):
            p = _install_path(m)
            if p is not None and p in mine:
                clashes.setdefault(p, set()).add(other.filename)
    if clashes:
        shown = [f"{p} (also in {', '.join(sorted(w))})" for p, w in sorted(clashes.items())[:10]]
        more = f" and {len(clashes) - 10} more" if len(clashes) > 10 else ""
        return fail("paths shipped by two distributions: " + "; ".join(shown) + more)
    return ok()


def forbidden_in_core(member: str) -> str | None:
    """Why ``member`` must not be in the core wheel, or None."""
    path = PurePosixPath(member)
    name = path.name.lower()
    suffix = path.suffix.lower()
    parts = [p.lower() for p in path.parts[:-1]]
    if suffix == ".wad":
        return "a WAD (belongs in envpool-assets-vizdoom)"
    if _LIB_RE.match(name) and (".so" in name or suffix in (".dylib", ".dll")):
        if name.startswith("libmujoco"):
            return "libmujoco (comes from mujoco-core)"
        return "a Qt/ICU library (belongs in envpool-procgen-libs)"
    if suffix in _MODEL_SUFFIXES:
        return "a model file (belongs in an asset wheel)"
    if suffix == ".xml" and "assets" in parts:
        return "a model file under assets/ (belongs in envpool-assets-robotics)"
    return None


def check_core_contents(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """The core wheel carries no data or third-party library of a sibling."""
    if a.kind != "wheel" or not is_core(ctx, a):
        return skip("not a core wheel")
    bad = [f"{m} ({why})" for m in ctx.members(a) if (why := forbidden_in_core(m)) is not None]
    if bad:
        return fail("; ".join(bad[:10]) + (f" and {len(bad) - 10} more" if len(bad) > 10 else ""))
    return ok()


def _grafted_libs(ctx: Context, a: Artifact) -> list[str]:
    return [m for m in ctx.members(a) if re.match(r"[^/]+\.libs/", m)]


def check_sbom(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """A wheel that grafts libraries carries a PEP 770 SBOM."""
    if a.kind != "wheel":
        return skip("not a wheel")
    grafted = _grafted_libs(ctx, a)
    pkg = ctx.package(a)
    is_library = pkg is not None and pkg.kind == "library"
    if not grafted and not is_library:
        return skip("grafts no library")
    sboms = [m for m in ctx.members(a) if re.fullmatch(r"[^/]+\.dist-info/sboms/[^/]+", m)]
    why = f"{len(grafted)} grafted file(s) in {grafted[0].split('/')[0]}/" if grafted else "a library wheel"
    if not sboms:
        return fail(f"{why} but no SBOM in {a.dist_info()}/sboms/ (PEP 770); repair with auditwheel >= 6.5")
    for s in sboms:
        if s.endswith(".json"):
            try:
                json.loads(a.read(s))
            except ValueError as exc:
                return fail(f"{s} is not valid JSON: {exc}")
    return ok(", ".join(PurePosixPath(s).name for s in sboms))
