"""Checks by external tools: twine, check-wheel-contents, pydistcheck, auditwheel, abi3audit."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tools.release import manylinux
from tools.release.checks.base import Context, Status, fail, ok, skip
from tools.release.release_set import MANYLINUX_FLOOR

if TYPE_CHECKING:
    from tools.common.distfile import Artifact

#: check-wheel-contents codes we ignore, each with the reason. None so far: every code is enforced.
CHECK_WHEEL_CONTENTS_IGNORE: dict[str, str] = {}

#: pydistcheck checks we ignore, each with the reason. None so far: the defaults hold for every
#: package (the uncompressed cap stays at pydistcheck's 75M default; the compressed cap is the budget).
PYDISTCHECK_IGNORE: dict[str, str] = {}


def _tool(name: str) -> list[str] | None:
    """How to run a console tool installed next to this Python, or on PATH."""
    local = Path(sys.executable).parent / name
    if local.is_file():
        return [str(local)]
    found = shutil.which(name)
    return [found] if found else None


def _run(cmd: list[str]) -> tuple[int, str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def _missing(tool: str, dist: str) -> tuple[Status, str]:
    return fail(f"{tool} is not installed: pip install {dist} (tests/requirements.txt)")


def _tail(output: str, n: int = 6) -> str:
    lines = [ln.strip() for ln in re.sub(r"\x1b\[[0-9;]*m", "", output).splitlines() if ln.strip()]
    return " | ".join(lines[-n:])


def check_twine(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """``twine check --strict``."""
    cmd = _tool("twine")
    if cmd is None:
        return _missing("twine", "twine")
    rc, out = _run([*cmd, "check", "--strict", str(a.path)])
    return ok() if rc == 0 else fail(_tail(out))


def check_wheel_contents(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """``check-wheel-contents`` with the documented ignores."""
    if a.kind != "wheel":
        return skip("not a wheel")
    cmd = _tool("check-wheel-contents")
    if cmd is None:
        return _missing("check-wheel-contents", "check-wheel-contents")
    ignore = ["--ignore", ",".join(CHECK_WHEEL_CONTENTS_IGNORE)] if CHECK_WHEEL_CONTENTS_IGNORE else []
    rc, out = _run([*cmd, *ignore, str(a.path)])
    return ok() if rc == 0 else fail(_tail(out))


def check_pydistcheck(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """``pydistcheck`` with the package's compressed-size budget."""
    pkg = ctx.package(a)
    if pkg is None:
        return skip("not in the release set")
    cmd = _tool("pydistcheck")
    if cmd is None:
        return _missing("pydistcheck", "pydistcheck")
    args = [*cmd, "--max-allowed-size-compressed", f"{pkg.budget}B"]
    for code in PYDISTCHECK_IGNORE:
        args += ["--ignore", code]
    rc, out = _run([*args, str(a.path)])
    if rc == 0:
        return ok(f"budget {pkg.budget} B")
    findings = [ln.strip() for ln in out.splitlines() if ln.strip().startswith("1.") or "[" in ln]
    found = " | ".join(findings[:6]) or _tail(out)
    return fail(f"{found} (budget {pkg.budget} B from tools/release/release_set.py)")


def check_auditwheel(ctx: Context, a: Artifact) -> tuple[Status, str]:  # noqa: PLR0911
    """``auditwheel show`` confirms the manylinux tags in the file name, all at the set's floor or older."""
    if not a.is_platform_wheel:
        return skip("not a platform wheel")
    claimed = [(t, manylinux.parse(t)) for t in a.platforms]
    not_ml = [t for t, parsed in claimed if parsed is None]
    if not_ml:
        return fail(f"platform tag {'.'.join(not_ml)} is not a manylinux tag: build it with nox -s build")
    over = [t for t, _ in claimed if not manylinux.within_floor(t)]
    if over:
        return fail(f"file name claims {'.'.join(over)}, newer than the release set's {MANYLINUX_FLOOR}")
    if _tool("auditwheel") is None:
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
    cmd = _tool("abi3audit")
    if cmd is None:
        return _missing("abi3audit", "abi3audit")
    rc, out = _run([*cmd, "--strict", "--report", str(a.path)])
    return ok("no ABI violations") if rc == 0 else fail(_tail(out))
