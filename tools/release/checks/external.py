"""Checks by external tools: twine, check-wheel-contents, pydistcheck, auditwheel, abi3audit."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tools.common import process
from tools.release import manylinux
from tools.release.checks.base import Context, Status, arch_of, fail, ok, skip
from tools.release.release_set import ARCHES

if TYPE_CHECKING:
    from tools.common.distfile import Artifact

#: check-wheel-contents codes we ignore, each with the reason. None so far: every code is enforced.
CHECK_WHEEL_CONTENTS_IGNORE: dict[str, str] = {}

#: pydistcheck checks we ignore, each with the reason. None so far: the defaults hold for every
#: package (the uncompressed cap stays at pydistcheck's 75M default; the compressed cap is the budget).
PYDISTCHECK_IGNORE: dict[str, str] = {}


def _external(name: str, args: list[str]) -> tuple[int, str] | None:
    """Run the console tool ``name`` with ``args``: (exit status, output), or None when it is not installed."""
    exe = process.tool(name)
    if exe is None:
        return None
    proc = process.run([exe, *args])
    return proc.returncode, process.output(proc)


def _missing(tool: str, dist: str) -> tuple[Status, str]:
    return fail(f"{tool} is not installed: pip install {dist} (tests/requirements.txt)")


def _tail(output: str, n: int = 6) -> str:
    lines = [ln.strip() for ln in re.sub(r"\x1b\[[0-9;]*m", "", output).splitlines() if ln.strip()]
    return " | ".join(lines[-n:])


def check_twine(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """``twine check --strict``."""
    done = _external("twine", ["check", "--strict", str(a.path)])
    if done is None:
        return _missing("twine", "twine")
    rc, out = done
    return ok() if rc == 0 else fail(_tail(out))


def check_wheel_contents(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """``check-wheel-contents`` with the documented ignores."""
    if a.kind != "wheel":
        return skip("not a wheel")
    ignore = ["--ignore", ",".join(CHECK_WHEEL_CONTENTS_IGNORE)] if CHECK_WHEEL_CONTENTS_IGNORE else []
    done = _external("check-wheel-contents", [*ignore, str(a.path)])
    if done is None:
        return _missing("check-wheel-contents", "check-wheel-contents")
    rc, out = done
    return ok() if rc == 0 else fail(_tail(out))


def check_pydistcheck(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """``pydistcheck`` with the package's compressed-size budget."""
    pkg = ctx.package(a)
    if pkg is None:
        return skip("not in the release set")
    args = ["--max-allowed-size-compressed", f"{pkg.budget}B"]
    for code in PYDISTCHECK_IGNORE:
        args += ["--ignore", code]
    done = _external("pydistcheck", [*args, str(a.path)])
    if done is None:
        return _missing("pydistcheck", "pydistcheck")
    rc, out = done
    if rc == 0:
        return ok(f"budget {pkg.budget} B")
    findings = [ln.strip() for ln in out.splitlines() if ln.strip().startswith("1.") or "[" in ln]
    found = " | ".join(findings[:6]) or _tail(out)
    return fail(f"{found} (budget {pkg.budget} B from tools/release/release_set.py)")


def check_auditwheel(ctx: Context, a: Artifact) -> tuple[Status, str]:  # noqa: PLR0911
    """``auditwheel show`` confirms the manylinux tags in the file name, all at the floor of the wheel's
    architecture and kind (``Arch.floor``) or older."""
    if not a.is_platform_wheel:
        return skip("not a platform wheel")
    claimed = [(t, manylinux.parse(t)) for t in a.platforms]
    not_ml = [t for t, parsed in claimed if parsed is None]
    if not_ml:
        return fail(f"platform tag {'.'.join(not_ml)} is not a manylinux tag: build it with nox -s build")
    arch, pkg = arch_of(a), ctx.package(a)
    if arch is None:
        known = ", ".join(x.machine for x in ARCHES)
        return fail(f"platform tag {'.'.join(a.platforms)} names no architecture of the release set ({known})")
    floor = arch.floor(pkg.kind if pkg is not None else "extension")
    over = [t for t, _ in claimed if not manylinux.within_floor(t, floor)]
    if over:
        return fail(
            f"file name claims {'.'.join(over)}, newer than {arch.machine}'s manylinux_{floor[0]}_{floor[1]} "
            "(tools/release/release_set.py Arch.floor)"
        )
    if process.tool("auditwheel") is None:
        return _missing("auditwheel", "auditwheel")
    rc, reported, out = manylinux.auditwheel_show(a.path)
    if rc != 0 or not reported:
        return fail(f"auditwheel show reports no manylinux tag: {_tail(out, 3)}")
    allowed = manylinux.parse(reported)
    if allowed is None:
        return fail(f"auditwheel show: {reported}, expected {'.'.join(a.platforms)}")
    bad = [t for t, p in claimed if p is not None and (p[2] != allowed[2] or p[:2] < allowed[:2])]
    if bad:
        return fail(f"file name claims {'.'.join(bad)} but auditwheel show allows only {reported} or newer")
    return ok(f"{'.'.join(a.platforms)} (auditwheel: {reported})")


def check_abi3audit(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """``abi3audit --strict``: a stable-ABI wheel uses no symbol outside the limited API it claims."""
    if a.kind != "wheel" or "abi3" not in a.path.name.split("-")[-2]:
        return skip("not an abi3 wheel")
    done = _external("abi3audit", ["--strict", "--report", str(a.path)])
    if done is None:
        return _missing("abi3audit", "abi3audit")
    rc, out = done
    return ok("no ABI violations") if rc == 0 else fail(_tail(out))
