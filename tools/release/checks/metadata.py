"""Metadata checks: set membership, version, sibling pins, sdist/wheel agreement, links in sdists.

A sibling published as platform wheels (the library wheel) is required behind an environment marker
naming exactly the platforms of its wheels in the set: the same requirement then holds in the sdist's
metadata and in every wheel's, and a source build elsewhere uses the system's library instead.
"""

from __future__ import annotations

import itertools
import re
import tarfile
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from tools.release.checks.base import NO_SDIST_KINDS, Context, Status, fail, is_core, ok, skip
from tools.release.release_set import Platform

if TYPE_CHECKING:
    from collections.abc import Iterable

    from tools.common.distfile import Artifact


def check_release_set(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """The artifact belongs to a distribution of the release set."""
    if ctx.package(a) is None:
        known = ", ".join(p.distribution for p in ctx.packages)
        return fail(
            f"{a.name} is not a distribution of tools/release/release_set.py ({known}); remove it from the wheelhouse"
        )
    return ok()


def check_version(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """File-name and metadata versions equal VERSION."""
    want = Version(ctx.version)
    problems = []
    try:
        if Version(a.version) != want:
            problems.append(f"file name says {a.version}")
    except InvalidVersion:
        problems.append(f"file name version {a.version!r} is not PEP 440")
    meta_version = a.metadata().get("Version", "")
    try:
        if Version(meta_version) != want:
            problems.append(f"{a.metadata_member()} says Version: {meta_version}")
    except InvalidVersion:
        problems.append(f"{a.metadata_member()} Version {meta_version!r} is not PEP 440")
    if problems:
        return fail(f"{'; '.join(problems)}, but VERSION is {ctx.version} (rebuild after tools/release/bump.py)")
    return ok(ctx.version)


def _requirements(a: Artifact) -> list[Requirement]:
    reqs = []
    for line in a.metadata().get_all("Requires-Dist") or []:
        try:
            reqs.append(Requirement(line))
        except InvalidRequirement as exc:
            raise ValueError(f"{a.metadata_member()}: bad Requires-Dist {line!r}: {exc}") from exc
    return reqs


_EXTRA = re.compile(r"""\bextra\s*==\s*["']([^"']+)["']""")
_TAG_LINUX = re.compile(r"^(?:many|musl)?linux(?:\d+)?(?:_\d+_\d+)?_(?P<machine>.+)$")
_TAG_MACOS = re.compile(r"^macosx_\d+_\d+_(?P<machine>.+)$")
_TAG_WINDOWS = {"win_amd64": "AMD64", "win_arm64": "ARM64", "win32": "x86"}
#: A platform no wheel tag names: a marker true there applies to every platform.
_ELSEWHERE = Platform("Other", "other")


def tag_platform(tag: str) -> Platform | None:
    """The platform (as markers name it) of a wheel platform tag; None for ``any`` or an unknown tag."""
    if m := _TAG_LINUX.match(tag):
        return Platform("Linux", m["machine"])
    if m := _TAG_MACOS.match(tag):
        return Platform("Darwin", m["machine"])
    if tag in _TAG_WINDOWS:
        return Platform("Windows", _TAG_WINDOWS[tag])
    return None


def _extras_of(req: Requirement, extras: Iterable[str]) -> set[str]:
    """The extras under which ``req`` applies on some platform (empty when it is unconditional)."""
    if req.marker is None:
        return set()
    return {e for e in extras if e in {canonicalize_name(x) for x in _EXTRA.findall(str(req.marker))}}


def _named(marker: str, variable: str) -> set[str]:
    return set(re.findall(rf"""\b{variable}\s*==\s*["']([^"']+)["']""", marker))


def _marker_platforms(req: Requirement, extra: str, wheels: set[Platform]) -> set[Platform]:
    """The platforms among the marker's own, the wheels' and one elsewhere on which ``req`` applies under ``extra``."""
    text = str(req.marker)
    systems = _named(text, "platform_system") | {p.system for p in wheels} | {_ELSEWHERE.system}
    machines = _named(text, "platform_machine") | {p.machine for p in wheels} | {_ELSEWHERE.machine}
    assert req.marker is not None
    return {
        Platform(s, m)
        for s, m in itertools.product(sorted(systems), sorted(machines))
        if req.marker.evaluate({"extra": extra, "platform_system": s, "platform_machine": m})
    }


def _marker_problems(ctx: Context, reqs: list[Requirement], extras: Iterable[str], seen: list[str]) -> list[str]:
    """Each sibling published as platform wheels is required on exactly those wheels' platforms (its
    name and platforms are appended to ``seen``)."""
    problems = []
    for sib in ctx.packages:
        wheels = {
            plat
            for a in ctx.artifacts
            if a.kind == "wheel" and ctx.package(a) == sib
            for plat in map(tag_platform, a.platforms)
            if plat is not None
        }
        if not wheels or sib.extra is None:
            continue
        fix = "fix the platforms of its row in tools/release/release_set.py, or build its wheels for them"
        seen.append(f"{sib.distribution} on {', '.join(sorted(f'{p.system} {p.machine}' for p in wheels))}")
        for req in reqs:
            if canonicalize_name(req.name) != canonicalize_name(sib.distribution):
                continue
            for extra in sorted(_extras_of(req, extras)):
                names = _marker_platforms(req, extra, wheels)
                unnamed = sorted(f"{p.system} {p.machine}" for p in wheels - names)
                extra_names = sorted(f"{p.system} {p.machine}" for p in names - wheels if p != _ELSEWHERE)
                if unnamed:
                    problems.append(
                        f"[{extra}] {req}: a {sib.distribution} wheel exists for {unnamed}, which the marker does "
                        f"not name; {fix}"
                    )
                if _ELSEWHERE in names:
                    problems.append(
                        f"[{extra}] {req}: applies on every platform, but {sib.distribution} wheels "
                        f"exist only for {sorted(f'{p.system} {p.machine}' for p in wheels)}; {fix}"
                    )
                elif extra_names:
                    problems.append(
                        f"[{extra}] {req}: names {extra_names}, where no {sib.distribution} wheel exists; {fix}"
                    )
    return problems


def check_sibling_pins(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """Each core extra pins its release-set siblings to ==VERSION; a sibling published as platform wheels
    behind a marker naming exactly their platforms."""
    if not is_core(ctx, a):
        return skip("not the core distribution")
    meta = a.metadata()
    extras = {canonicalize_name(e) for e in meta.get_all("Provides-Extra") or []}
    reqs = _requirements(a)
    siblings = {canonicalize_name(p.distribution): p for p in ctx.packages if p.extra is not None}
    problems = []
    for req in reqs:
        sib = siblings.get(canonicalize_name(req.name))
        if sib is None:
            continue  # a third-party requirement (numpy, mujoco-core): not ours to pin
        if req.marker is None or not _extras_of(req, extras):
            problems.append(f"{req} is not behind an extra")
        if str(req.specifier) != f"=={ctx.version}":
            problems.append(f"{req.name} is pinned {str(req.specifier) or '(no pin)'!r}, expected '=={ctx.version}'")
    for name, sib in siblings.items():
        assert sib.extra is not None
        extra = canonicalize_name(sib.extra)
        if extra not in extras:
            problems.append(f"no extra {extra!r} (Provides-Extra) for {sib.distribution}")
            continue
        for wanted in (extra, "all"):
            if wanted == "all" and "all" not in extras:
                continue
            if not any(canonicalize_name(r.name) == name and wanted in _extras_of(r, extras) for r in reqs):
                problems.append(f"extra {wanted!r} does not require {sib.distribution}=={ctx.version}")
    marked: list[str] = []
    problems += _marker_problems(ctx, reqs, extras, marked)
    if problems:
        return fail(f"{a.metadata_member()}: " + "; ".join(problems))
    markers = f"; platform markers match the wheels of {', '.join(marked)}" if marked else ""
    return ok(f"{len(siblings)} sibling pin(s) =={ctx.version}{markers}")


def _dynamic(a: Artifact) -> set[str]:
    return {d.strip().lower() for d in a.metadata().get_all("Dynamic") or []}


def check_sdist_metadata(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """The wheel's Requires-Dist and Provides-Extra equal its sdist's."""
    if a.kind != "wheel":
        return skip("sdist (compared from its wheels)")
    sdist = ctx.sdist_of(a)
    pkg = ctx.package(a)
    if sdist is None and pkg is not None and pkg.kind in NO_SDIST_KINDS:
        return skip(f"a {pkg.kind} package publishes no sdist")
    if sdist is None:
        msg = f"no sdist {a.name}-{a.version}.tar.gz in {ctx.wheelhouse}"
        return fail(msg) if ctx.require_sdist else skip(msg)
    dynamic = _dynamic(sdist) & {"requires-dist", "provides-extra"}
    if dynamic:
        return fail(
            f"{sdist.filename} PKG-INFO marks {', '.join(sorted(dynamic))} as Dynamic: the sdist does not fix the "
            "pins the wheel has; resolve them at sdist time (static pins or a provider that writes them)"
        )
    wheel_reqs = {str(r) for r in _requirements(a)}
    sdist_reqs = {str(r) for r in _requirements(sdist)}
    wheel_extras = {canonicalize_name(e) for e in a.metadata().get_all("Provides-Extra") or []}
    sdist_extras = {canonicalize_name(e) for e in sdist.metadata().get_all("Provides-Extra") or []}
    problems = []
    if wheel_reqs != sdist_reqs:
        only_w = sorted(wheel_reqs - sdist_reqs)
        only_s = sorted(sdist_reqs - wheel_reqs)
        problems.append(f"Requires-Dist only in the wheel: {only_w}; only in {sdist.filename}: {only_s}")
    if wheel_extras != sdist_extras:
        problems.append(f"Provides-Extra wheel {sorted(wheel_extras)} != sdist {sorted(sdist_extras)}")
    if problems:
        return fail("; ".join(problems))
    return ok(f"{len(wheel_reqs)} requirement(s) match {sdist.filename}")


def check_sdist_links(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """An sdist holds regular files only."""
    if a.kind != "sdist":
        return skip("not an sdist")
    with tarfile.open(a.path, "r:gz") as tf:
        links = [f"{m.name} -> {m.linkname}" for m in tf.getmembers() if m.issym() or m.islnk()]
    if links:
        return fail(
            f"links in the sdist: {', '.join(links)}; ship the file itself "
            "(e.g. sdist.include / force-include the real VERSION)"
        )
    return ok()
