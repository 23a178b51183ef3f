"""The aarch64 release set under emulation, checked against the x86_64 set: ``nox -s tests_aarch64``.

    python -m tools.release.emulated [--wheelhouse DIR] [--steps N] [--skip-file FILE]

1. Emulation (tools/release/emulation.py): qemu-aarch64-static through binfmt_misc. Where binfmt_misc
   cannot be used (no kernel support, not root), the run is SKIPPED with the reason (written to
   ``--skip-file`` for nox) and exits 0; a fixable problem (no emulator, a disabled handler) fails.
2. The wheelhouse ``nox -s build`` made must hold the aarch64 set (``nox -s build -- --arch aarch64``)
   and the x86_64 one: nothing is built here.
3. Third-party wheels: aarch64 ones for the root's CPython (tools.release.thirdparty.fill_for), the
   host's in .cache/thirdparty (tools.release.thirdparty.fill).
4. The arm64 Debian minbase root (tools/release/minimal_root.py, cached): a venv with ``envpool[all]``
   installed offline (``--no-index --find-links``); ``pip install --dry-run --ignore-installed`` of
   ``envpool`` and each extra resolves to exactly our expected distributions for aarch64.
5. tools/release/step_every_task.py steps every task there and, with the x86_64 wheels, in a venv on
   the host; tools.release.arch_parity compares the two (classic control exactly).
6. ``envpool doctor --all --json`` in the root venv: every family ready, no library conflict.

Prints a table of the results and the seconds of each part; exits 1 when any part failed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name, parse_wheel_filename

from tools.common import process
from tools.release import arch_parity, emulation, install_matrix, minimal_root, release_set, thirdparty
from tools.release.release_set import AARCH64, X86_64, Arch

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

SUITE = "bookworm"
SCRIPT = Path(__file__).with_name("step_every_task.py")
BUILD_FIX = "nox -s build -- --arch {machine}"


class Failed(RuntimeError):
    """A part of the run failed; the message says what and how to fix it."""


@dataclass
class Part:
    """One line of the result table."""

    name: str
    ok: bool
    seconds: float
    detail: str


def missing_wheels(wheelhouse: Path, arch: Arch, python: tuple[int, int]) -> list[str]:
    """What the wheelhouse lacks to install ``envpool[all]`` on CPython ``python`` on ``arch``."""
    version = release_set.version()
    tag = minimal_root.core_build_for(python).tag
    interpreter, _, abi = tag.partition("-")
    have: dict[str, list[str]] = {}
    for path in wheelhouse.glob("*.whl"):
        name, wversion, _, tags = parse_wheel_filename(path.name)
        wheel_arch = release_set.arch_of_wheel(path.name)
        if str(wversion) == version and wheel_arch in (None, arch):
            have.setdefault(canonicalize_name(name), []).extend(f"{t.interpreter}-{t.abi}" for t in tags)
    missing = []
    for package in release_set.present():
        found = have.get(canonicalize_name(package.distribution), [])
        if package.kind == "extension":
            if f"{interpreter}-{abi or interpreter}" not in found:
                missing.append(f"{package.distribution} {version} {tag} {arch.machine}")
        elif not found:
            missing.append(f"{package.distribution} {version} ({arch.machine} or pure)")
    return missing


def check_wheelhouse(wheelhouse: Path, python: tuple[int, int]) -> None:
    """Both architectures' sets are in ``wheelhouse``; Failed naming the build command otherwise."""
    for arch in (AARCH64, X86_64):
        missing = missing_wheels(wheelhouse, arch, python)
        if missing:
            fix = BUILD_FIX.format(machine=arch.machine) if arch != X86_64 else "nox -s build"
            raise Failed(f"the wheelhouse {wheelhouse} has no {', '.join(missing)}: run {fix} first")


#: A venv kept in the cached root, made once by ``python3 -m venv``: its pip (Debian's wheel, which
#: ensurepip installs) is byte-compiled, which takes about 2 minutes under emulation.
PIP_SEED = "/opt/pip-seed"


class RootVenv:
    """A venv inside the mounted arm64 root (paths as seen from inside)."""

    def __init__(self, root: Path, python: tuple[int, int]) -> None:
        self.root = root
        self.inside = f"/opt/emulated-{uuid.uuid4().hex[:8]}"
        self.python = f"{self.inside}/bin/python"
        self.site = f"lib/python{python[0]}.{python[1]}/site-packages"

    def create(self) -> None:
        """``python3 -m venv --without-pip``, then the compiled pip of PIP_SEED copied in: what ensurepip installs."""
        seed = self.host_path(PIP_SEED)
        if not (seed / ".complete").is_file():
            shutil.rmtree(seed, ignore_errors=True)
            self.run("/usr/bin/python3", "-m", "venv", PIP_SEED)
            (seed / ".complete").write_text("made by tools/release/emulated.py\n", encoding="utf-8")
        self.run("/usr/bin/python3", "-m", "venv", "--without-pip", self.inside)
        pips = sorted((seed / self.site).glob("pip*"))
        if not pips:
            raise Failed(f"{seed / self.site} holds no pip: remove {seed} and run again")
        for entry in pips:
            shutil.copytree(entry, self.host_path(self.inside) / self.site / entry.name, symlinks=True)

    def host_path(self, inside: str) -> Path:
        """The host's path of a path inside the root."""
        return self.root / inside.lstrip("/")

    def run(self, *cmd: str, timeout: float = 1800) -> str:
        """stdout of ``cmd`` in the root; Failed with its output when it fails."""
        try:
            return minimal_root.run(self.root, *cmd, timeout=timeout).stdout
        except minimal_root.ChrootError as exc:
            raise Failed(str(exc)[-3000:]) from None


OFFLINE = ("--no-index", "--find-links", "/mnt/wheelhouse", "--find-links", "/mnt/thirdparty")


def install_all(venv: RootVenv) -> str:
    """``envpool[all]`` into the root venv; checks our distributions and the core wheel's aarch64 tag."""
    venv.create()
    pip = [venv.python, "-m", "pip", "install", "--quiet", "--no-compile"]  # compiling is slow under emulation
    venv.run(*pip, *OFFLINE, f"envpool[{release_set.ALL_EXTRA}]")
    found = json.loads(venv.run(venv.python, "-m", "pip", "list", "--format", "json"))
    ours = {
        canonicalize_name(d["name"]): d["version"] for d in found if canonicalize_name(d["name"]) in install_matrix.OURS
    }
    want = install_matrix.expected_ours(release_set.ALL_EXTRA, release_set.version())
    if ours != want:
        raise Failed(f"pip list in the root holds {ours} of our distributions, expected {want}")
    code = "import importlib.metadata as m; print(m.distribution('envpool').read_text('WHEEL'))"
    tags = [
        line.split(": ", 1)[1] for line in venv.run(venv.python, "-c", code).splitlines() if line.startswith("Tag:")
    ]
    if not tags or not all(t.endswith(f"_{AARCH64.machine}") for t in tags):
        raise Failed(f"the envpool wheel installed in the root is tagged {tags}, not {AARCH64.machine}")
    return f"{len(found)} distributions, envpool {' '.join(tags)}"


def resolve(venv: RootVenv, extra: str | None) -> str:
    """``pip install --dry-run --ignore-installed envpool[extra]`` in the root: exactly our expected distributions."""
    req = "envpool" if extra is None else f"envpool[{extra}]"
    cmd = [venv.python, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet", "--report", "-"]
    report = json.loads(venv.run(*cmd, *OFFLINE, req))
    names = {canonicalize_name(i["metadata"]["name"]): i["metadata"]["version"] for i in report["install"]}
    ours = {n: v for n, v in names.items() if n in install_matrix.OURS}
    want = install_matrix.expected_ours(extra, release_set.version())
    if ours != want:
        raise Failed(f"{req} resolves to {ours} of our distributions in the root, expected {want}")
    return f"{req}: {len(names)} distributions"


def resolve_all(venv: RootVenv) -> str:
    """:func:`resolve` for the core alone and each extra, two at a time (``all`` is the venv's own install)."""
    extras = [e for e in release_set.combinations(release_set.present()) if e != release_set.ALL_EXTRA]
    with ThreadPoolExecutor(2) as pool:
        return "; ".join(pool.map(lambda e: resolve(venv, e), extras))


def doctor(venv: RootVenv) -> str:
    """``envpool doctor --all --json`` in the root venv: parses, every family ready, no conflict, aarch64."""
    res = minimal_root.run(venv.root, venv.python, "-m", "envpool", "doctor", "--all", "--json", check=False)
    try:
        report = json.loads(res.stdout)
    except json.JSONDecodeError:
        raise Failed(f"envpool doctor --all --json printed no JSON ({res.returncode}): {res.stderr[-2000:]}") from None
    families = {f["name"]: f["status"] for f in report["families"]}
    problems = []
    if res.returncode != 0:
        problems.append(f"exit status {res.returncode}")
    if not families or set(families.values()) != {"ready"}:
        problems.append(f"families {families}")
    if report["inventory"]["conflicts"]:
        problems.append(f"conflicts {report['inventory']['conflicts']}")
    platform_tag = report["python"]["platform_tag"]
    if not platform_tag.endswith(AARCH64.machine):
        problems.append(f"platform tag {platform_tag}")
    if problems:
        raise Failed("envpool doctor in the root: " + "; ".join(problems))
    return f"{len(families)} families ready ({', '.join(families)}), no conflicts, {platform_tag}"


def host_venv(work: Path, wheelhouse: Path) -> Path:
    """A venv of this interpreter with the x86_64 ``envpool[all]`` (wheelhouse and .cache/thirdparty, offline)."""
    python = install_matrix.make_venv(work / "host-venv", "pip")
    links = [wheelhouse, thirdparty.CACHE]
    proc = install_matrix.install(python, "pip", f"envpool[{release_set.ALL_EXTRA}]", links)
    if proc.returncode != 0:
        raise Failed(f"installing the x86_64 envpool[all] on the host failed: {process.output(proc)[-2000:]}")
    return python


def step_args(out: str, steps: int) -> list[str]:
    """The arguments of step_every_task.py."""
    return ["--out", out, "--steps", str(steps)]


def run_parts(args: argparse.Namespace, root: Path, work: Path, report: list[Part]) -> None:
    """Install, resolve, step on both sides, compare, doctor: each part reported as it ends."""

    def part(name: str, fn: Callable[[], str]) -> bool:
        start = time.monotonic()
        try:
            detail = fn()
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:  # Failed, ProcessError, a timeout
            report.append(Part(name, False, time.monotonic() - start, str(exc)))
            print(f"FAIL {name} ({report[-1].seconds:.0f} s)", flush=True)
            return False
        report.append(Part(name, True, time.monotonic() - start, detail))
        print(f"PASS {name} ({report[-1].seconds:.0f} s): {detail}", flush=True)
        return True

    venv = RootVenv(root, minimal_root.SUITES[SUITE].python)
    try:
        if not part("root: pip install envpool[all] (offline)", lambda: install_all(venv)):
            return  # the other parts need the installed venv; each of them runs whatever the others gave
        part("root: pip install --dry-run of envpool and each extra", lambda: resolve_all(venv))
        shutil.copy2(SCRIPT, venv.host_path(f"{venv.inside}/{SCRIPT.name}"))
        root_out, host_out = f"{venv.inside}/aarch64.npz", work / "x86_64.npz"

        def step_root() -> str:
            return venv.run(venv.python, f"{venv.inside}/{SCRIPT.name}", *step_args(root_out, args.steps), timeout=3600)

        def step_host() -> str:
            host_python = host_venv(work, args.wheelhouse)  # while the root steps
            cmd = [str(host_python), str(SCRIPT), *step_args(str(host_out), args.steps)]
            return process.run(cmd, cwd=work, check=True, timeout=3600).stdout

        def step_both() -> str:
            with ThreadPoolExecutor(2) as pool:
                emulated, host = pool.submit(step_root), pool.submit(step_host)
                host.result()
                emulated.result()
            if args.save:
                args.save.mkdir(parents=True, exist_ok=True)
                shutil.copy2(host_out, args.save / host_out.name)
                shutil.copy2(venv.host_path(root_out), args.save / "aarch64.npz")
            return compare(host_out, venv.host_path(root_out))

        part(f"step every task {args.steps} steps, aarch64 (emulated) vs x86_64", step_both)
        part("root: envpool doctor --all --json", lambda: doctor(venv))
    finally:
        shutil.rmtree(venv.host_path(venv.inside), ignore_errors=True)


def compare(reference: Path, candidate: Path) -> str:
    """Compare the two step files; print the table; Failed when a task is outside its tolerance."""
    results = arch_parity.compare(reference, candidate)
    ref_meta, _ = arch_parity.load(reference)
    cand_meta, _ = arch_parity.load(candidate)
    print(arch_parity.table(results, ref_meta, cand_meta), flush=True)
    bad = [r for r in results if not r.ok]
    if bad:
        raise Failed("; ".join(f"{r.task}: {', '.join(r.problems)}" for r in bad))
    exact = sum(r.exact for r in results)
    families = sorted({r.family for r in results})
    counts = f"{len(results)} tasks of {len(families)} families ({', '.join(families)})"
    return f"{counts}: {exact} exact, the rest within tolerance"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m tools.release.emulated", description=__doc__.splitlines()[0])
    parser.add_argument("--wheelhouse", type=Path, default=release_set.WHEELHOUSE)
    parser.add_argument("--steps", type=int, default=200, help="steps per task (each side)")
    parser.add_argument("--save", type=Path, help="keep both step files (x86_64.npz, aarch64.npz) in this directory")
    parser.add_argument("--skip-file", type=Path, help="where to write the reason when emulation is unavailable")
    args = parser.parse_args(argv)
    args.wheelhouse = args.wheelhouse.resolve()
    began = time.monotonic()
    suite = minimal_root.SUITES[SUITE]
    try:
        print(emulation.ensure(AARCH64).describe(), flush=True)
    except emulation.EmulationUnavailable as exc:
        reason = f"aarch64 emulation is unavailable on this machine: {exc}"
        print(f"SKIPPED: {reason}", flush=True)
        if args.skip_file:
            args.skip_file.write_text(reason, encoding="utf-8")
        return 0
    except emulation.EmulationError as exc:
        print(f"tests_aarch64: {exc}", file=sys.stderr)
        return 1
    report: list[Part] = []
    try:
        if sys.version_info[:2] != suite.python:  # the host side steps the same core build as the root
            raise Failed(f"run with CPython {suite.python_version}, the root's (nox -s tests_aarch64 does)")
        check_wheelhouse(args.wheelhouse, suite.python)
        missing = minimal_root.missing_requirements()
        if missing:
            raise Failed(missing)
        start = time.monotonic()
        cache = thirdparty.cache_for(suite.python_version, AARCH64)
        thirdparty.fill_for(args.wheelhouse, cache, suite.python_version, AARCH64)
        thirdparty.fill(args.wheelhouse, thirdparty.CACHE, [])
        root = minimal_root.ensure_root(SUITE, arch=AARCH64)
        report.append(Part("third-party wheels and the arm64 root (cached)", True, time.monotonic() - start, str(root)))
        with (
            minimal_root.mounted(root, {"wheelhouse": args.wheelhouse, "thirdparty": cache}),
            tempfile.TemporaryDirectory(prefix="tests-aarch64-") as tmp,
        ):
            run_parts(args, root, Path(tmp), report)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:  # reported by part() when it failed there
        if not report or report[-1].ok:
            report.append(Part("setup", False, 0.0, str(exc)))
    print("\n| part | result | seconds | detail |\n| --- | --- | ---: | --- |")
    for p in report:
        print(f"| {p.name} | {'PASS' if p.ok else 'FAIL'} | {p.seconds:.1f} | {p.detail.replace(chr(10), ' ')[:600]} |")
    failed = [p for p in report if not p.ok]
    print(f"\ntests_aarch64: {len(report) - len(failed)}/{len(report)} passed in {time.monotonic() - began:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
