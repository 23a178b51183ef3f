"""The release-set checker: fail loudly on anything that must not reach the index.

    python -m tools.release.check_release [WHEELHOUSE] [--require-sdist] [--only CHECK ...]

Prints one line per check per artifact (``PASS``/``FAIL``, or ``SKIP`` with the reason when a
check does not apply, e.g. auditwheel on a pure wheel) and exits 1 when any check failed.
Checks (the names printed):

- ``release-set``: every artifact is a distribution of tools.release.release_set.PACKAGES, and every
  present package has a wheel (and an sdist with ``--require-sdist``);
- ``version``: file name and metadata versions equal VERSION;
- ``sibling-pins``: the core's extras pin each sibling of the release set to ``==VERSION``
  (third-party pins such as mujoco-core are not ours and are left alone);
- ``sdist-metadata``: a wheel's Requires-Dist / Provides-Extra equal its sdist's PKG-INFO
  (a Dynamic Requires-Dist or Provides-Extra in the sdist is a failure: our pins must be static);
- ``sdist-links``: an sdist holds no symbolic or hard links (installers refuse links, and one
  pointing outside the tree, like ``VERSION -> ../../VERSION``, breaks every build from it);
- ``file-overlap``: no installed file path is shipped by two distributions;
- ``core-contents``: the core wheel holds no WAD, Qt/ICU library, libmujoco or model file;
- ``twine``, ``check-wheel-contents``, ``pydistcheck``: those tools' findings
  (pydistcheck's compressed-size cap is the package's release_set budget);
- ``auditwheel``: a platform wheel's file name claims manylinux tags that ``auditwheel show``
  confirms;
- ``sbom``: a wheel that grafts libraries (an auditwheel ``*.libs/`` dir, or a library wheel)
  carries an SBOM in ``.dist-info/sboms/`` (PEP 770).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tarfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from tools.common import process
from tools.common.distfile import Artifact, artifacts
from tools.release import manylinux, release_set
from tools.release.release_set import MANYLINUX_FLOOR

Status = Literal["PASS", "FAIL", "SKIP"]

#: package kinds that publish no sdist: a library wheel repackages binary distribution packages and
#: its source is its directory in this repository (packages/procgen-libs/pyproject.toml).
NO_SDIST_KINDS = {"library"}

#: check-wheel-contents codes we ignore, each with the reason. None so far: every code is enforced.
CHECK_WHEEL_CONTENTS_IGNORE: dict[str, str] = {}

#: pydistcheck checks we ignore, each with the reason. None so far: the defaults hold for every
#: package (the uncompressed cap stays at pydistcheck's 75M default; the compressed cap is the budget).
PYDISTCHECK_IGNORE: dict[str, str] = {}

_LIB_RE = re.compile(r"^lib(qt\d|icu|mujoco)", re.IGNORECASE)
_MODEL_SUFFIXES = {".stl", ".obj", ".msh", ".mjb", ".png", ".skn"}


@dataclass(frozen=True)
class Result:
    """The outcome of one check on one artifact."""

    check: str
    artifact: str
    status: Status
    message: str = ""

    def line(self) -> str:
        """The printed line: status, check name, file, then why."""
        tail = f": {self.message}" if self.message else ""
        return f"{self.status} {self.check} {self.artifact}{tail}"


@dataclass
class Context:
    """Everything a check may need about the set under test."""

    wheelhouse: Path
    version: str
    artifacts: list[Artifact]
    require_sdist: bool = False
    packages: Sequence[release_set.Package] = release_set.PACKAGES
    matrix: Sequence[release_set.CoreBuild] = release_set.CORE_MATRIX  # core wheels a release must have
    _members: dict[Path, list[str]] = field(default_factory=dict)

    def members(self, a: Artifact) -> list[str]:
        """Cached archive member list."""
        if a.path not in self._members:
            self._members[a.path] = a.members()
        return self._members[a.path]

    def package(self, a: Artifact) -> release_set.Package | None:
        """The release-set package of an artifact."""
        name = canonicalize_name(a.name)
        for p in self.packages:
            if canonicalize_name(p.distribution) == name:
                return p
        return None

    def sdist_of(self, wheel: Artifact) -> Artifact | None:
        """The sdist of the same distribution and version as ``wheel``."""
        for a in self.artifacts:
            if (
                a.kind == "sdist"
                and canonicalize_name(a.name) == canonicalize_name(wheel.name)
                and a.version == wheel.version
            ):
                return a
        return None


Check = Callable[[Context, Artifact], tuple[Status, str]]


def _ok(msg: str = "") -> tuple[Status, str]:
    return "PASS", msg


def _fail(msg: str) -> tuple[Status, str]:
    return "FAIL", msg


def _skip(msg: str) -> tuple[Status, str]:
    return "SKIP", msg


def _is_core(ctx: Context, a: Artifact) -> bool:
    p = ctx.package(a)
    return p is not None and p.extra is None


# ---------------------------------------------------------------- metadata checks


def check_release_set(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """The artifact belongs to a distribution of the release set."""
    if ctx.package(a) is None:
        known = ", ".join(p.distribution for p in ctx.packages)
        return _fail(
            f"{a.name} is not a distribution of tools/release/release_set.py ({known}); remove it from the wheelhouse"
        )
    return _ok()


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
        return _fail(f"{'; '.join(problems)}, but VERSION is {ctx.version} (rebuild after tools/release/bump.py)")
    return _ok(ctx.version)


def _requirements(a: Artifact) -> list[Requirement]:
    reqs = []
    for line in a.metadata().get_all("Requires-Dist") or []:
        try:
            reqs.append(Requirement(line))
        except InvalidRequirement as exc:
            raise ValueError(f"{a.metadata_member()}: bad Requires-Dist {line!r}: {exc}") from exc
    return reqs


def _extras_of(req: Requirement, extras: Iterable[str]) -> set[str]:
    """The extras under which ``req`` applies (empty when it is unconditional)."""
    if req.marker is None:
        return set()
    return {e for e in extras if req.marker.evaluate({"extra": e})}


def check_sibling_pins(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """Each core extra pins its release-set siblings to ==VERSION."""
    if not _is_core(ctx, a):
        return _skip("not the core distribution")
    meta = a.metadata()
    extras = {canonicalize_name(e) for e in meta.get_all("Provides-Extra") or []}
    reqs = _requirements(a)
    siblings = {canonicalize_name(p.distribution): p for p in ctx.packages if p.extra is not None}
    problems = []
    for req in reqs:
        sib = siblings.get(canonicalize_name(req.name))
        if sib is None:
            continue  # a third-party requirement (numpy, mujoco-core==4.0.0): not ours to pin
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
    if problems:
        return _fail(f"{a.metadata_member()}: " + "; ".join(problems))
    return _ok(f"{len(siblings)} sibling pin(s) =={ctx.version}")


def _dynamic(a: Artifact) -> set[str]:
    return {d.strip().lower() for d in a.metadata().get_all("Dynamic") or []}


def check_sdist_metadata(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """The wheel's Requires-Dist and Provides-Extra equal its sdist's."""
    if a.kind != "wheel":
        return _skip("sdist (compared from its wheels)")
    sdist = ctx.sdist_of(a)
    pkg = ctx.package(a)
    if sdist is None and pkg is not None and pkg.kind in NO_SDIST_KINDS:
        return _skip(f"a {pkg.kind} package publishes no sdist")
    if sdist is None:
        msg = f"no sdist {a.name}-{a.version}.tar.gz in {ctx.wheelhouse}"
        return _fail(msg) if ctx.require_sdist else _skip(msg)
    dynamic = _dynamic(sdist) & {"requires-dist", "provides-extra"}
    if dynamic:
        return _fail(
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
        return _fail("; ".join(problems))
    return _ok(f"{len(wheel_reqs)} requirement(s) match {sdist.filename}")


def check_sdist_links(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """An sdist holds regular files only."""
    if a.kind != "sdist":
        return _skip("not an sdist")
    with tarfile.open(a.path, "r:gz") as tf:
        links = [f"{m.name} -> {m.linkname}" for m in tf.getmembers() if m.issym() or m.islnk()]
    if links:
        return _fail(
            f"links in the sdist: {', '.join(links)}; ship the file itself "
            "(e.g. sdist.include / force-include the real VERSION)"
        )
    return _ok()


# ---------------------------------------------------------------- content checks


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
        return _skip("not a wheel")
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
        return _fail("paths shipped by two distributions: " + "; ".join(shown) + more)
    return _ok()


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
    if a.kind != "wheel" or not _is_core(ctx, a):
        return _skip("not a core wheel")
    bad = [f"{m} ({why})" for m in ctx.members(a) if (why := forbidden_in_core(m)) is not None]
    if bad:
        return _fail("; ".join(bad[:10]) + (f" and {len(bad) - 10} more" if len(bad) > 10 else ""))
    return _ok()


def _grafted_libs(ctx: Context, a: Artifact) -> list[str]:
    return [m for m in ctx.members(a) if re.match(r"[^/]+\.libs/", m)]


def check_sbom(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """A wheel that grafts libraries carries a PEP 770 SBOM."""
    if a.kind != "wheel":
        return _skip("not a wheel")
    grafted = _grafted_libs(ctx, a)
    pkg = ctx.package(a)
    is_library = pkg is not None and pkg.kind == "library"
    if not grafted and not is_library:
        return _skip("grafts no library")
    sboms = [m for m in ctx.members(a) if re.fullmatch(r"[^/]+\.dist-info/sboms/[^/]+", m)]
    why = f"{len(grafted)} grafted file(s) in {grafted[0].split('/')[0]}/" if grafted else "a library wheel"
    if not sboms:
        return _fail(f"{why} but no SBOM in {a.dist_info()}/sboms/ (PEP 770); repair with auditwheel >= 6.5")
    for s in sboms:
        if s.endswith(".json"):
            try:
                json.loads(a.read(s))
            except ValueError as exc:
                return _fail(f"{s} is not valid JSON: {exc}")
    return _ok(", ".join(PurePosixPath(s).name for s in sboms))


# ---------------------------------------------------------------- external tools


def _external(name: str, args: list[str]) -> tuple[int, str] | None:
    """Run the console tool ``name`` with ``args``: (exit status, output), or None when it is not installed."""
    exe = process.tool(name)
    if exe is None:
        return None
    proc = process.run([exe, *args])
    return proc.returncode, process.output(proc)


def _missing(tool: str, dist: str) -> tuple[Status, str]:
    return _fail(f"{tool} is not installed: pip install {dist} (tests/requirements.txt)")


def _tail(output: str, n: int = 6) -> str:
    lines = [ln.strip() for ln in re.sub(r"\x1b\[[0-9;]*m", "", output).splitlines() if ln.strip()]
    return " | ".join(lines[-n:])


def check_twine(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """``twine check --strict``."""
    done = _external("twine", ["check", "--strict", str(a.path)])
    if done is None:
        return _missing("twine", "twine")
    rc, out = done
    return _ok() if rc == 0 else _fail(_tail(out))


def check_wheel_contents(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """``check-wheel-contents`` with the documented ignores."""
    if a.kind != "wheel":
        return _skip("not a wheel")
    ignore = ["--ignore", ",".join(CHECK_WHEEL_CONTENTS_IGNORE)] if CHECK_WHEEL_CONTENTS_IGNORE else []
    done = _external("check-wheel-contents", [*ignore, str(a.path)])
    if done is None:
        return _missing("check-wheel-contents", "check-wheel-contents")
    rc, out = done
    return _ok() if rc == 0 else _fail(_tail(out))


def check_pydistcheck(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """``pydistcheck`` with the package's compressed-size budget."""
    pkg = ctx.package(a)
    if pkg is None:
        return _skip("not in the release set")
    args = ["--max-allowed-size-compressed", f"{pkg.budget}B"]
    for code in PYDISTCHECK_IGNORE:
        args += ["--ignore", code]
    done = _external("pydistcheck", [*args, str(a.path)])
    if done is None:
        return _missing("pydistcheck", "pydistcheck")
    rc, out = done
    if rc == 0:
        return _ok(f"budget {pkg.budget} B")
    findings = [ln.strip() for ln in out.splitlines() if ln.strip().startswith("1.") or "[" in ln]
    found = " | ".join(findings[:6]) or _tail(out)
    return _fail(f"{found} (budget {pkg.budget} B from tools/release/release_set.py)")


def check_auditwheel(ctx: Context, a: Artifact) -> tuple[Status, str]:  # noqa: PLR0911
    """``auditwheel show`` confirms the manylinux tags in the file name, all at the set's floor or older."""
    if not a.is_platform_wheel:
        return _skip("not a platform wheel")
    claimed = [(t, manylinux.parse(t)) for t in a.platforms]
    not_ml = [t for t, parsed in claimed if parsed is None]
    if not_ml:
        return _fail(f"platform tag {'.'.join(not_ml)} is not a manylinux tag: build it with nox -s build")
    over = [t for t, _ in claimed if not manylinux.within_floor(t)]
    if over:
        return _fail(f"file name claims {'.'.join(over)}, newer than the release set's {MANYLINUX_FLOOR}")
    if process.tool("auditwheel") is None:
        return _missing("auditwheel", "auditwheel")
    rc, reported, out = manylinux.auditwheel_show(a.path)
    if rc != 0 or not reported:
        return _fail(f"auditwheel show reports no manylinux tag: {_tail(out, 3)}")
    allowed = manylinux.parse(reported)
    if allowed is None:
        return _fail(f"auditwheel show: {reported}, expected {'.'.join(a.platforms)}")
    bad = [t for t, p in claimed if p is not None and (p[2] != allowed[2] or p[:2] < allowed[:2])]
    if bad:
        return _fail(f"file name claims {'.'.join(bad)} but auditwheel show allows only {reported} or newer")
    return _ok(f"{'.'.join(a.platforms)} (auditwheel: {reported})")


def check_abi3audit(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """``abi3audit --strict``: a stable-ABI wheel uses no symbol outside the limited API it claims."""
    if a.kind != "wheel" or "abi3" not in a.path.name.split("-")[-2]:
        return _skip("not an abi3 wheel")
    done = _external("abi3audit", ["--strict", "--report", str(a.path)])
    if done is None:
        return _missing("abi3audit", "abi3audit")
    rc, out = done
    return _ok("no ABI violations") if rc == 0 else _fail(_tail(out))


CHECKS: dict[str, Check] = {
    "release-set": check_release_set,
    "version": check_version,
    "sibling-pins": check_sibling_pins,
    "sdist-metadata": check_sdist_metadata,
    "sdist-links": check_sdist_links,
    "file-overlap": check_file_overlap,
    "core-contents": check_core_contents,
    "twine": check_twine,
    "check-wheel-contents": check_wheel_contents,
    "pydistcheck": check_pydistcheck,
    "auditwheel": check_auditwheel,
    "abi3audit": check_abi3audit,
    "sbom": check_sbom,
}


def _matrix_tag(wheel_name: str) -> str:
    """The core-matrix name of a wheel: "cp311" for cp311-cp311, "cp312-abi3" for cp312-abi3."""
    python, abi = wheel_name.removesuffix(".whl").split("-")[-3:-1]
    return f"{python}-{abi}" if abi == "abi3" else python


def completeness(ctx: Context, present: Sequence[release_set.Package]) -> list[Result]:
    """One line per present package: it has a wheel (and an sdist when required)."""
    results = []
    for p in present:
        mine = [a for a in ctx.artifacts if canonicalize_name(a.name) == canonicalize_name(p.distribution)]
        kinds = {a.kind for a in mine}
        need_sdist = ctx.require_sdist and p.kind not in NO_SDIST_KINDS
        missing = [k for k in ("wheel", "sdist") if k not in kinds and (k == "wheel" or need_sdist)]
        if p.kind == "extension" and ctx.require_sdist:
            have = {_matrix_tag(a.path.name) for a in mine if a.kind == "wheel"}
            missing += [f"{e.tag} wheel" for e in ctx.matrix if e.tag not in have]
        if missing:
            results.append(
                Result("release-set", p.distribution, "FAIL", f"no {' and no '.join(missing)} in {ctx.wheelhouse}")
            )
        else:
            results.append(Result("release-set", p.distribution, "PASS", f"{len(mine)} artifact(s)"))
    return results


def run_checks(
    wheelhouse: Path,
    *,
    version: str | None = None,
    require_sdist: bool = False,
    only: Iterable[str] | None = None,
    present: Sequence[release_set.Package] | None = None,
    matrix: Sequence[release_set.CoreBuild] = release_set.CORE_MATRIX,
) -> list[Result]:
    """Run every check (or the ``only`` ones) over the wheelhouse and return the results.

    With ``require_sdist`` (a release), the core must also have one wheel per ``matrix`` entry.
    """
    ctx = Context(
        wheelhouse=wheelhouse,
        version=version if version is not None else release_set.version(),
        artifacts=artifacts(wheelhouse) if wheelhouse.is_dir() else [],
        require_sdist=require_sdist,
        matrix=matrix,
    )
    selected = list(only) if only else list(CHECKS)
    unknown = [c for c in selected if c not in CHECKS]
    if unknown:
        raise ValueError(f"unknown check(s) {unknown}; known: {', '.join(CHECKS)}")
    results: list[Result] = []
    if not ctx.artifacts:
        return [Result("release-set", str(wheelhouse), "FAIL", "no wheel or sdist found: run nox -s build")]
    if "release-set" in selected:
        results += completeness(ctx, present if present is not None else release_set.present())
    for a in ctx.artifacts:
        for name in selected:
            try:
                status, msg = CHECKS[name](ctx, a)
            except (ValueError, KeyError, OSError, tarfile.TarError) as exc:
                status, msg = "FAIL", f"cannot read: {exc}"
            results.append(Result(name, a.filename, status, msg))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m tools.release.check_release", description=__doc__.splitlines()[0])
    parser.add_argument("wheelhouse", nargs="?", type=Path, default=release_set.WHEELHOUSE)
    parser.add_argument("--require-sdist", action="store_true", help="every package must have an sdist (release)")
    parser.add_argument("--only", action="append", choices=list(CHECKS), help="run only this check (repeatable)")
    parser.add_argument("--quiet", action="store_true", help="print FAIL lines only")
    parser.add_argument("--version-file", type=Path, default=release_set.VERSION_FILE, help="default: ./VERSION")
    args = parser.parse_args(argv)
    version = args.version_file.read_text(encoding="utf-8").strip()
    results = run_checks(args.wheelhouse, version=version, require_sdist=args.require_sdist, only=args.only)
    for r in results:
        if not args.quiet or r.status == "FAIL":
            print(r.line())
    failed = [r for r in results if r.status == "FAIL"]
    counts = {s: sum(r.status == s for r in results) for s in ("PASS", "FAIL", "SKIP")}
    print(f"check_release: PASS={counts['PASS']} FAIL={counts['FAIL']} SKIP={counts['SKIP']}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
