"""Release rehearsal: publish the wheelhouse to a local index as release.yml publishes to PyPI, then install from it.

    python -m tools.release.rehearsal [--wheelhouse DIR] [--cache DIR] [--no-minimal-root] [--no-fill]
                                      [--arch MACHINE ...]

Every index is a pypiserver on 127.0.0.1 (tools/release/local_index.py) serving an empty upload directory
and a read-only copy of the third-party wheels of .cache/thirdparty (tools.release.thirdparty fills it),
with PyPI fallback disabled: every install below uses that index URL and nothing else. The wheelhouse holds
the set of every architecture (tools/release/release_set.py ``ARCHES``); the cache is also filled with the
third-party wheels each other architecture installs (tools.release.thirdparty.fill_for).

1. ``publish``: ``python -m tools.release.publish WHEELHOUSE`` (siblings, wait until listed, core): the
   command release.yml runs against PyPI, uploading both architectures' sets.
2. ``pip``/``uv`` rows: in a fresh venv each, ``envpool``, each extra, two extras together and
   ``[all]`` (from tools.release.release_set), pinned ``==VERSION``: the installer's ``list`` holds exactly
   our expected distributions at VERSION, one task of each installed family steps and the other
   families refuse with their pip line (tools.release.install_matrix.PROBE finds the task ids).
3. ``minimal-root``: ``pip install "envpool[all]==VERSION"`` from the same index in a venv inside
   the minimal Debian bookworm root (tools/release/minimal_root.py), one task per family stepped there.
4. ``window: siblings first``: a second index and ``tools.release.publish --stop-after-stage 1``, the window
   tools.release.publish opens: the siblings are listed, no core is, and ``envpool[x]==VERSION`` fails to
   resolve ``envpool`` itself, installing nothing. Then the recovery: the same publish command
   again skips the listed siblings, uploads the core, and the install works.
5. ``window: core first``: a third index holding the core alone, the window tools.release.publish never
   opens: pip and uv fail with a resolver error naming the missing sibling and install nothing.
6. ``resolve <arch>``: for every architecture (``--arch``, default all), ``pip download --only-binary=:all:
   --platform ... --python-version <arch.matrix[0]>`` of ``envpool[all]==VERSION`` from the release index
   fetches exactly that architecture's files of the set and only wheels that install there
   (tools/release/resolution.py). Installs run natively on this machine only; this row proves what
   an aarch64 machine would get from the same index.

Prints a table of the results and exits 1 when any row failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from tools.common import process
from tools.release import install_matrix, minimal_root, publish, release_set, resolution, thirdparty
from tools.release.install_matrix import OURS, PROBE, Outcome
from tools.release.local_index import Index, index_server, seed_thirdparty

if TYPE_CHECKING:
    from collections.abc import Sequence

Installer = install_matrix.Installer
SUITE = "bookworm"  # the minimal root; its CPython must be this interpreter's (one third-party cache)


@dataclass
class Row:
    """One line of the result table."""

    step: str
    ok: bool
    seconds: float
    detail: str


def _uv() -> str:
    return process.tool("uv") or "uv"


def installer_env(work: Path) -> dict[str, str]:
    """The environment of every install: no PIP_*/UV_* settings or config files of the host, caches under ``work``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_CACHE_DIR=str(work / "pip-cache"),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        UV_NO_CONFIG="1",
        UV_CACHE_DIR=str(work / "uv-cache"),
        UV_LINK_MODE="copy",
    )
    return env


def install_cmd(python: Path, installer: Installer, index: str, req: str) -> list[str]:
    """Install ``req`` by name from ``index`` and nowhere else."""
    if installer == "uv":
        return [_uv(), "pip", "install", "--quiet", "--python", str(python), "--index-url", index, req]
    return [str(python), "-m", "pip", "install", "--quiet", "--no-compile", "--index-url", index, req]


def listed(python: Path, installer: Installer, env: dict[str, str]) -> dict[str, str]:
    """``pip list`` / ``uv pip list`` of the venv as canonical name -> version."""
    if installer == "uv":
        cmd = [_uv(), "pip", "list", "--python", str(python), "--format", "json"]
    else:
        cmd = [str(python), "-m", "pip", "list", "--format", "json"]
    proc = process.run(cmd, env=env, cwd="/", timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-500:]}")
    return {canonicalize_name(d["name"]): d["version"] for d in json.loads(proc.stdout)}


def combinations() -> list[tuple[str, ...]]:
    """The extras installed: none, each present extra, the first two together, and all (release-set order)."""
    extras = [p.extra for p in release_set.present() if p.extra]
    combos: list[tuple[str, ...]] = [(), *((e,) for e in extras)]
    if len(extras) > 2:
        combos.append(tuple(extras[:2]))
    if release_set.ALL_EXTRA in release_set.combinations(release_set.present()):  # every sibling is present
        combos.append((release_set.ALL_EXTRA,))
    return combos


def requirement(extras: Sequence[str], version: str) -> str:
    """``envpool==V`` or ``envpool[a,b]==V``."""
    return f"envpool[{','.join(extras)}]=={version}" if extras else f"envpool=={version}"


def _or_core(extras: Sequence[str]) -> list[str | None]:
    """The extras, or ``[None]`` (the core alone) when there are none: the argument of install_matrix helpers."""
    return [*extras] if extras else [None]


def expected(extras: Sequence[str], version: str) -> dict[str, str]:
    """Our distributions (canonical name -> version) that installing ``extras`` must give, and no others."""
    want: dict[str, str] = {}
    for extra in _or_core(extras):
        want.update(install_matrix.expected_ours(extra, version))
    return want


def check_exact(found: dict[str, str], want: dict[str, str], outcome: Outcome) -> None:
    """Exactly ``want`` of our distributions are installed, at their versions."""
    ours = {n: v for n, v in found.items() if n in OURS}
    if ours != want:
        outcome.problems.append(f"the installer lists {ours} of our distributions, expected exactly {want}")


def install_row(installer: Installer, extras: tuple[str, ...], index: Index, version: str, work: Path) -> Row:
    """A fresh venv, one install from the index, the list check and the family probe."""
    req = requirement(extras, version)
    outcome = Outcome(installer, req)
    venv = work / "venvs" / f"{installer}-{'-'.join(extras) or 'core'}"
    env = installer_env(work)
    start = time.monotonic()
    try:
        python = install_matrix.make_venv(venv, installer)
        proc = process.run(install_cmd(python, installer, index.simple, req), env=env, cwd="/", timeout=1800)
        if proc.returncode != 0:
            outcome.problems.append(f"install failed: {proc.stderr.strip()[-800:]}")
        else:
            check_exact(listed(python, installer, env), expected(extras, version), outcome)
            family_extras = install_matrix.family_extras_of(python)
            families = set().union(*(install_matrix.families_for(e, family_extras) for e in _or_core(extras)))
            install_matrix.probe(python, families, version, outcome)
    except (RuntimeError, OSError, ValueError) as exc:
        outcome.problems.append(str(exc))
    finally:
        shutil.rmtree(venv, ignore_errors=True)
    detail = (
        "; ".join(outcome.problems)
        or f"stepped {', '.join(outcome.stepped)}; refused {', '.join(outcome.refused) or '-'}"
    )
    return Row(f"{installer} {req}", not outcome.problems, time.monotonic() - start, detail)


def minimal_root_row(index: Index, version: str) -> Row:
    """``envpool[all]`` from the index into a venv inside the minimal Debian root; step every family there."""
    start = time.monotonic()
    step = f"minimal-root {SUITE}: pip envpool[all]=={version}"
    reason = minimal_root.missing_requirements()
    if reason:
        return Row(step, False, 0.0, f"{reason} (or pass --no-minimal-root)")
    try:
        root = minimal_root.ensure_root(SUITE)
        with minimal_root.mounted(root, {}):
            venv = f"/opt/rehearsal-{uuid.uuid4().hex[:8]}"
            try:
                minimal_root.run(root, "/usr/bin/python3", "-m", "venv", venv)
                py = f"{venv}/bin/python"
                minimal_root.run(
                    root, py, "-m", "pip", "install", "--quiet", "--index-url", index.simple, f"envpool[all]=={version}"
                )
                found = json.loads(minimal_root.run(root, py, "-m", "pip", "list", "--format", "json").stdout)
                ours = {
                    canonicalize_name(d["name"]): d["version"] for d in found if canonicalize_name(d["name"]) in OURS
                }
                if ours != expected((release_set.ALL_EXTRA,), version):
                    return Row(step, False, time.monotonic() - start, f"pip list holds {ours}")
                report = json.loads(minimal_root.run(root, py, "-c", PROBE, "[]").stdout.strip().splitlines()[-1])
            finally:
                shutil.rmtree(root / venv.lstrip("/"), ignore_errors=True)
    except (minimal_root.ChrootError, process.ProcessError, ValueError) as exc:
        return Row(step, False, time.monotonic() - start, str(exc)[-800:])
    bad = {f: r for f, r in report["families"].items() if r["status"] != "stepped"}
    detail = f"not stepped: {bad}" if bad else f"stepped {', '.join(report['families'])}"
    return Row(step, not bad, time.monotonic() - start, detail)


def _failed_cleanly(installer: Installer, index: Index, req: str, work: Path, pattern: str) -> tuple[bool, str]:
    """Install ``req`` in a fresh venv: True when it fails, says ``pattern`` and leaves nothing of ours installed."""
    venv = work / "venvs" / f"window-{installer}-{uuid.uuid4().hex[:6]}"
    env = installer_env(work)
    try:
        python = install_matrix.make_venv(venv, installer)
        proc = process.run(install_cmd(python, installer, index.simple, req), env=env, cwd="/", timeout=1800)
        output = " ".join((proc.stdout + proc.stderr).split())
        ours = {n: v for n, v in listed(python, installer, env).items() if n in OURS}
    finally:
        shutil.rmtree(venv, ignore_errors=True)
    if proc.returncode == 0:
        return False, f"{installer} installed {req}: the window is not visible"
    if ours:
        return False, f"{installer} failed but left {ours} installed (a broken install)"
    m = re.search(pattern, output, re.IGNORECASE)
    if m is None:
        return False, f"{installer} failed without naming the missing distribution: {output[-600:]}"
    return True, f'{installer}: "{output[max(0, m.start() - 40) : m.end() + 40].strip()}"'


def _name_re(distribution: str) -> str:
    return "[-_.]".join(map(re.escape, re.split(r"[-_.]+", canonicalize_name(distribution))))


def _publish_cmd(wheelhouse: Path, index: Index, *more: str) -> list[str]:
    """The command release.yml runs (``nox -s publish``), aimed at ``index``."""
    cmd = [sys.executable, "-m", "tools.release.publish", str(wheelhouse), "--repository-url", index.upload]
    return [*cmd, "--index-url", index.simple, "--wait-seconds", "60", *more]


def siblings_first_row(wheelhouse: Path, third: Path, sibling: release_set.Package, version: str, work: Path) -> Row:
    """``--stop-after-stage 1``: pinned installs fail on envpool itself; a re-run adds only the core and they work."""
    req = f"envpool[{sibling.extra}]=={version}"
    step = f"window: siblings first, pip {req}; re-run publish"
    start = time.monotonic()
    with index_server(work, "window-siblings-first", third) as index:
        proc = process.run(_publish_cmd(wheelhouse, index, "--stop-after-stage", "1"), capture=False)
        core = [f for f in publish.listed_files(index.simple, "envpool") if f.startswith("envpool-")]
        if proc.returncode != 0 or core:
            return Row(step, False, time.monotonic() - start, f"publish exited {proc.returncode}; core files {core}")
        ok, detail = _failed_cleanly("pip", index, req, work, r"no matching distribution found for envpool\[")
        if not ok:
            return Row(step, False, time.monotonic() - start, detail)
        # recovery: the same command again skips the listed siblings and uploads the core
        proc = process.run(_publish_cmd(wheelhouse, index), capture=False)
        after = install_row("pip", (str(sibling.extra),), index, version, work)
    ok = proc.returncode == 0 and after.ok
    return Row(step, ok, time.monotonic() - start, f"{detail}; after the re-run: {after.detail}")


def core_first_row(wheelhouse: Path, third: Path, sibling: release_set.Package, version: str, work: Path) -> Row:
    """The core alone on an index (the order tools.release.publish never uses): pip and uv fail naming the sibling."""
    req = f"envpool[{sibling.extra}]=={version}"
    start = time.monotonic()
    with index_server(work, "window-core-first", third) as index:
        publish.twine_upload(publish.upload_stages(wheelhouse)[1], index.upload)
        name = _name_re(sibling.distribution)
        patterns: dict[Installer, str] = {
            "pip": rf"no matching distribution found for {name}==",
            "uv": rf"(no version of|because) {name}",
        }
        results = [_failed_cleanly(installer, index, req, work, pattern) for installer, pattern in patterns.items()]
    detail = "; ".join(r[1] for r in results)
    return Row(f"window: core alone, pip+uv {req}", all(r[0] for r in results), time.monotonic() - start, detail)


def resolve_row(arch: release_set.Arch, wheelhouse: Path, index: Index, version: str, work: Path) -> Row:
    """``pip download "envpool[all]==VERSION"`` for ``arch`` from ``index``: exactly ``arch``'s files of the set."""
    python = arch.matrix[0].python
    req = f"envpool[{release_set.ALL_EXTRA}]=={version}"
    newest = thirdparty.install_platforms(arch)[0]
    step = f"resolve {arch.machine}: pip download {req} --platform {newest} and older (CPython {python})"
    start = time.monotonic()
    want = resolution.expected_wheels(wheelhouse, arch, python)
    core = release_set.package_of_kind("extension").normalized
    if not any(name.startswith(f"{core}-") for name in want):
        detail = (
            f"no {arch.machine} core wheel for CPython {python} in {wheelhouse}: build it (nox -s build) or pass --arch"
        )
        return Row(step, False, 0.0, detail)
    dest = work / f"resolve-{arch.machine}"
    dest.mkdir()
    try:
        files = resolution.download(index.simple, arch, python, req, dest, env=installer_env(work))
    except RuntimeError as exc:
        return Row(step, False, time.monotonic() - start, str(exc))
    finally:
        shutil.rmtree(dest, ignore_errors=True)
    bad = resolution.problems(files, want, arch)
    detail = "; ".join(bad) or f"{len(files)} wheels, ours: {', '.join(sorted(want))}"
    return Row(step, not bad, time.monotonic() - start, detail)


def table(rows: Sequence[Row]) -> str:
    """The Markdown table of the results."""
    lines = ["| step | result | seconds | detail |", "| --- | --- | ---: | --- |"]
    for r in rows:
        detail = r.detail.replace("|", "/").replace("\n", " ")[:300]
        lines.append(f"| {r.step} | {'PASS' if r.ok else 'FAIL'} | {r.seconds:.1f} | {detail} |")
    return "\n".join(lines)


def publish_row(wheelhouse: Path, index: Index) -> Row:
    """``python -m tools.release.publish`` of the whole wheelhouse to ``index``, as release.yml runs it against PyPI."""
    start = time.monotonic()
    proc = process.run(_publish_cmd(wheelhouse, index), capture=False)
    detail = f"python -m tools.release.publish exited {proc.returncode}"
    return Row(
        "publish: tools.release.publish siblings -> wait -> core",
        proc.returncode == 0,
        time.monotonic() - start,
        detail,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m tools.release.rehearsal", description=__doc__.splitlines()[0])
    parser.add_argument("--wheelhouse", type=Path, default=release_set.WHEELHOUSE)
    parser.add_argument("--cache", type=Path, default=thirdparty.CACHE, help="third-party wheels (.cache/thirdparty)")
    parser.add_argument("--no-minimal-root", action="store_true", help="skip the minimal Debian root")
    parser.add_argument("--no-fill", action="store_true", help="do not fill the third-party cache first")
    machines = [a.machine for a in release_set.ARCHES]
    parser.add_argument("--arch", action="append", choices=machines, help="resolve for these only (default: all)")
    args = parser.parse_args(argv)
    arches = [release_set.arch_of(m) for m in args.arch or machines]
    version = release_set.version()
    wanted = minimal_root.SUITES[SUITE].python
    if sys.version_info[:2] != wanted:
        print(f"rehearsal: run with CPython {wanted[0]}.{wanted[1]} (nox -s release_rehearsal does)", file=sys.stderr)
        return 1
    try:
        publish.check_tag()
        stages = publish.upload_stages(args.wheelhouse)
    except publish.PublishError as exc:
        print(f"rehearsal: {exc}", file=sys.stderr)
        return 1
    if not args.no_fill:
        thirdparty.fill(args.wheelhouse, args.cache, [])
        for arch in arches:
            if arch != thirdparty.host_arch():
                thirdparty.fill_for(args.wheelhouse, args.cache, arch.matrix[0].python, arch)
    # Dummy credentials: the local index takes any, and real ones must never reach it.
    os.environ.update(TWINE_USERNAME="rehearsal", TWINE_PASSWORD="rehearsal")
    began = time.monotonic()
    rows: list[Row] = []

    def report(row: Row) -> None:
        rows.append(row)
        print(f"{'PASS' if row.ok else 'FAIL'} {row.step} ({row.seconds:.0f} s)", flush=True)
        if not row.ok:
            print(f"    {row.detail}", flush=True)

    with tempfile.TemporaryDirectory(prefix="release-rehearsal-") as tmp:
        work = Path(tmp)
        third = work / "thirdparty"
        print(f"rehearsal: {seed_thirdparty(args.cache, third)} third-party wheels, {sum(map(len, stages))} of ours")
        try:
            with index_server(work, "release", third) as index:
                report(publish_row(args.wheelhouse, index))
                if rows[-1].ok:
                    for installer in ("pip", "uv"):
                        for extras in combinations():
                            report(install_row(installer, extras, index, version, work))
                    if not args.no_minimal_root:
                        report(minimal_root_row(index, version))
                for arch in arches:
                    report(resolve_row(arch, args.wheelhouse, index, version, work))
            sibling = next(p for p in release_set.present() if p.extra)
            report(siblings_first_row(args.wheelhouse, third, sibling, version, work))
            report(core_first_row(args.wheelhouse, third, sibling, version, work))
        except RuntimeError as exc:  # an index server that does not start, a failed upload
            report(Row("rehearsal", False, 0.0, str(exc)))
        finally:
            third.chmod(0o755)
    print()
    print(table(rows))
    failed = [r for r in rows if not r.ok]
    print(f"\nrehearsal: {len(rows) - len(failed)}/{len(rows)} passed in {time.monotonic() - began:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
