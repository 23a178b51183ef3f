"""Install matrix: every extras combination, with pip and with uv, offline, from the wheelhouse.

    python -m tools.release.install_matrix [--wheelhouse DIR] [--cache DIR] [--installer pip|uv ...]
                                   [--extra core|vizdoom|... ...] [--out docs/install-matrix.md]

For ``envpool``, ``envpool[vizdoom]``, ``envpool[robotics]``, ``envpool[procgen]`` and
``envpool[all]`` (only the extras whose sibling packages are present: tools.release.release_set.present()),
and for each installer:

1. a fresh venv; ``install --no-index --find-links WHEELHOUSE --find-links CACHE "envpool[x]==V"``
   (our distributions only from the wheelhouse, third-party wheels from the cache that
   tools.release.thirdparty fills once with ``pip download``: the installs themselves run offline);
2. in the venv: ``import envpool``, then for every family (tasks of ``envpool.list_all_envs()``
   grouped by ``envpool.registration.family_of``) its first task: a family the combination installs
   must make, reset and step; any other must raise ``envpool.MissingExtraError`` naming its
   ``pip install "envpool[<extra>]==V"`` line;
3. what it downloads (the summed size of the wheel files installed) and its size on disk
   (site-packages, as du counts it, without the installer's own pip/setuptools).

Prints the table, writes it to docs/install-matrix.md, and exits 1 if any combination failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from packaging.tags import sys_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

from tools import REPO
from tools.common import process
from tools.release import release_set

if TYPE_CHECKING:
    import subprocess
    from collections.abc import Sequence

Installer = Literal["pip", "uv"]
DOC = REPO / "docs" / "install-matrix.md"
MB = 1_000_000

#: Runs inside the fresh venv: one env per family, stepped or refused with its pip line.
PROBE = r"""
import json, sys
import numpy as np
import envpool
from envpool.families import FAMILIES
from envpool.registration import family_of

wanted = set(json.loads(sys.argv[1]))
by_family = {}
for task_id in envpool.list_all_envs():
    by_family.setdefault(family_of(task_id), []).append(task_id)
out = {"version": envpool.__version__, "families": {}}
for family, ids in sorted(by_family.items()):
    rec = {"task": ids[0], "extra": FAMILIES[family].extra}
    try:
        env = envpool.make(ids[0], num_envs=1, seed=0)
        env.reset()
        action = np.stack([env.action_space.sample()])
        env.step(action)
        rec["status"] = "stepped"
    except envpool.MissingExtraError as exc:
        rec["status"] = "missing"
        rec["message"] = str(exc)
    except Exception as exc:  # any other failure is reported, never hidden
        rec["status"] = "error"
        rec["message"] = f"{type(exc).__name__}: {exc}"
    out["families"][family] = rec
print(json.dumps(out))
"""


@dataclass
class Outcome:
    """One installer x requirement cell of the matrix."""

    installer: Installer
    requirement: str
    ok: bool = False
    wheels: list[Path] = field(default_factory=list)
    download: int = 0
    on_disk: int = 0
    seconds: float = 0.0
    stepped: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def families_for(extra: str | None, family_extras: dict[str, str | None]) -> set[str]:
    """Families that must work after installing ``envpool[extra]``."""
    return {f for f, e in family_extras.items() if e is None or extra in (release_set.ALL_EXTRA, e)}


def expected_ours(extra: str | None, version: str) -> dict[str, str]:
    """Our distributions (canonical name -> version) that ``envpool[extra]`` must install, and no others."""
    siblings = [p.distribution for p in release_set.PACKAGES if p.extra and extra in (p.extra, release_set.ALL_EXTRA)]
    return {"envpool": version, **{canonicalize_name(d): version for d in siblings}}


def check_ours(found: dict[str, str], extra: str | None, version: str, outcome: Outcome) -> None:
    """Exactly the expected envpool distributions, each at ``version``."""
    ours = {n: v for n, v in found.items() if n in OURS}
    want = expected_ours(extra, version)
    if ours != want:
        outcome.problems.append(f"installed {ours} of our distributions, expected exactly {want}")


def requirement(extra: str | None, version: str) -> str:
    """The requirement string installed for one combination."""
    return f"envpool=={version}" if extra is None else f"envpool[{extra}]=={version}"


def make_venv(path: Path, installer: Installer) -> Path:
    """A fresh venv from this interpreter; returns its python."""
    if installer == "uv":
        proc = process.run(["uv", "venv", "--quiet", "--python", sys.executable, str(path)])
    else:
        proc = process.run([sys.executable, "-m", "venv", str(path)])
    if proc.returncode != 0:
        raise RuntimeError(f"cannot create a venv with {installer}: {proc.stderr.strip()}")
    return path / "bin" / "python"


def install(python: Path, installer: Installer, req: str, links: Sequence[Path]) -> subprocess.CompletedProcess[str]:
    """Install ``req`` offline from the find-links directories."""
    find_links = [a for d in links for a in ("--find-links", str(d))]
    if installer == "uv":
        cmd = ["uv", "pip", "install", "--python", str(python), "--no-index", "--offline", *find_links, req]
    else:
        cmd = [str(python), "-m", "pip", "install", "--quiet", "--no-index", "--disable-pip-version-check"]
        cmd += [*find_links, req]
    return process.run(cmd, extra_env={"PIP_NO_INPUT": "1", "UV_NO_CACHE": "1"})


def installed(python: Path) -> dict[str, str]:
    """Distribution name -> version of everything installed in the venv."""
    code = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"
    )
    proc = process.run([str(python), "-c", code])
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return {canonicalize_name(k): v for k, v in json.loads(proc.stdout).items()}


def wheel_used(name: str, version: str, links: Sequence[Path]) -> Path | None:
    """The wheel file an installer picks for ``name==version``: the best tag match for this interpreter."""
    priority = {tag: i for i, tag in enumerate(sys_tags())}
    best: tuple[int, Path] | None = None
    for d in links:
        for path in d.glob("*.whl"):
            try:
                wname, wversion, _, tags = parse_wheel_filename(path.name)
            except ValueError:
                continue
            if wname != name or str(wversion) != version:
                continue
            ranks = [priority[t] for t in tags if t in priority]
            if ranks and (best is None or min(ranks) < best[0]):
                best = (min(ranks), path)
    return best[1] if best else None


def site_packages(python: Path) -> Path:
    """The venv's site-packages directory."""
    proc = process.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    return Path(proc.stdout.strip())


def disk_usage(path: Path) -> int:
    """Bytes on disk under ``path``, as ``du`` counts them (allocated blocks, hard links once)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            st = (Path(root) / name).lstat()
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total


def probe(python: Path, expected: set[str], version: str, outcome: Outcome) -> None:
    """Run PROBE in the venv and record which families stepped and which refused correctly."""
    proc = process.run([str(python), "-c", PROBE, json.dumps(sorted(expected))], cwd=tempfile.gettempdir())
    if proc.returncode != 0:
        outcome.problems.append(f"import/probe failed: {proc.stderr.strip()[-800:]}")
        return
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    if report["version"] != version:
        outcome.problems.append(f"envpool.__version__ is {report['version']}, expected {version}")
    for family, rec in report["families"].items():
        label = f"{family} ({rec['task']})"
        if family in expected:
            if rec["status"] == "stepped":
                outcome.stepped.append(family)
            else:
                outcome.problems.append(f"{label} should step but: {rec.get('message', rec['status'])}")
        else:
            extra = rec["extra"] or ""
            pip_line = f'pip install "envpool[{extra}]=={version}"'
            if rec["status"] == "missing" and pip_line in rec["message"]:
                outcome.refused.append(family)
            elif rec["status"] == "missing":
                outcome.problems.append(f"{label} refused without its pip line {pip_line!r}: {rec['message']}")
            else:
                outcome.problems.append(f"{label} is not installed but gave {rec['status']}: {rec.get('message', '')}")


#: Our distributions, as canonical names.
OURS = frozenset(canonicalize_name(p.distribution) for p in release_set.PACKAGES)

#: Distributions no install of ours may pull in: MuJoCo's Python bindings and rendering stack
#: (the robotics extra needs only the mujoco-core library wheel).
FORBIDDEN = frozenset({"mujoco", "mujoco-studio", "glfw", "pyopengl"})


def check_doctor(python: Path, expected: set[str], outcome: Outcome) -> None:
    """``envpool doctor --json`` in the venv must call installed families ready and the others missing."""
    proc = process.run([str(python), "-m", "envpool", "doctor", "--json"], cwd=tempfile.gettempdir())
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        outcome.problems.append(f"envpool doctor --json printed no JSON: {proc.stderr.strip()[-500:]}")
        return
    for rec in report["families"]:
        want = "ready" if rec["name"] in expected else "missing"
        if rec["status"] != want:
            outcome.problems.append(f"envpool doctor calls {rec['name']} {rec['status']}, expected {want}")
    if proc.returncode != 0:
        outcome.problems.append(f"envpool doctor exited {proc.returncode} in a healthy venv")


def family_extras_of(python: Path) -> dict[str, str | None]:
    """Family name -> extra, read from the installed envpool.families."""
    code = (
        "import json; from envpool.families import FAMILIES; "
        "print(json.dumps({n: f.extra for n, f in FAMILIES.items()}))"
    )
    proc = process.run([str(python), "-c", code], cwd=tempfile.gettempdir())
    if proc.returncode != 0:
        raise RuntimeError(f"cannot read envpool.families: {proc.stderr.strip()[-500:]}")
    return dict(json.loads(proc.stdout))


def run_one(installer: Installer, extra: str | None, version: str, links: Sequence[Path], work: Path) -> Outcome:
    """Install one combination into a fresh venv and probe it."""
    req = requirement(extra, version)
    outcome = Outcome(installer, req)
    venv = work / f"{installer}-{extra or 'core'}"
    shutil.rmtree(venv, ignore_errors=True)
    start = time.monotonic()
    try:
        python = make_venv(venv, installer)
        baseline = set(installed(python))  # pip/setuptools of a pip venv: the installer, not the install
        proc = install(python, installer, req, links)
        outcome.seconds = time.monotonic() - start
        if proc.returncode != 0:
            outcome.problems.append(
                f"install failed (offline; run python -m tools.release.thirdparty?): {proc.stderr.strip()[-800:]}"
            )
            return outcome
        found = installed(python)
        check_ours(found, extra, version, outcome)
        for name, ver in sorted(found.items()):
            if name in baseline:
                continue
            if name in FORBIDDEN:
                outcome.problems.append(f"{req} installed {name}=={ver}, which nothing of ours needs")
            wheel = wheel_used(name, ver, links)
            if wheel is None:
                outcome.problems.append(f"no wheel file found for installed {name}=={ver}")
                continue
            outcome.wheels.append(wheel)
        outcome.download = sum(w.stat().st_size for w in outcome.wheels)
        if installer == "pip" and baseline:
            process.run([str(python), "-m", "pip", "uninstall", "--quiet", "--yes", *sorted(baseline)])
        outcome.on_disk = disk_usage(site_packages(python))
        expected = families_for(extra, family_extras_of(python))
        probe(python, expected, version, outcome)
        check_doctor(python, expected, outcome)
    except (RuntimeError, OSError, ValueError) as exc:
        outcome.problems.append(str(exc))
    finally:
        shutil.rmtree(venv, ignore_errors=True)
    outcome.ok = not outcome.problems
    return outcome


def table(outcomes: Sequence[Outcome], version: str) -> str:
    """The Markdown table of the matrix."""
    py = f"CPython {sys.version_info[0]}.{sys.version_info[1]}"
    lines = [
        "# Install matrix",
        "",
        (
            f"Generated by `python -m tools.release.install_matrix` for envpool {version} on {py} ({sys.platform}):"
            " each row is a"
        ),
        "fresh venv installed offline from the wheelhouse (ours) and .cache/thirdparty (third-party wheels).",
        "Download = summed size of the wheel files installed; on disk = site-packages as du counts it",
        "(without the installer's own pip/setuptools). Stepped = families whose first task made, reset and",
        "stepped; refused = families not installed that raised MissingExtraError with their pip line.",
        "pip compiles .pyc files at install time and uv does not, hence pip's larger footprint on disk.",
        "",
        "| installer | requirement | wheels | download (MB) | on disk (MB) | stepped | refused (pip line) | result |",
        "| --- | --- | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for o in outcomes:
        result = (
            "ok" if o.ok else "FAIL: " + "; ".join(p.replace("|", "/").replace("\n", " ")[:200] for p in o.problems)
        )
        lines.append(
            f"| {o.installer} | `{o.requirement}` | {len(o.wheels)} | {o.download / MB:.1f} | {o.on_disk / MB:.1f} | "
            f"{', '.join(o.stepped) or '-'} | {', '.join(o.refused) or '-'} | {result} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m tools.release.install_matrix", description=__doc__.splitlines()[0])
    parser.add_argument("--wheelhouse", type=Path, default=release_set.WHEELHOUSE)
    parser.add_argument("--cache", type=Path, default=release_set.THIRDPARTY)
    parser.add_argument("--installer", action="append", choices=["pip", "uv"])
    parser.add_argument("--extra", action="append", help="core, or an extra name (default: every present one)")
    parser.add_argument("--out", type=Path, default=DOC, help="Markdown table (default: docs/install-matrix.md)")
    parser.add_argument("--no-fill", action="store_true", help="do not fill the third-party cache first")
    args = parser.parse_args(argv)
    version = release_set.version()
    if not any(args.wheelhouse.glob(f"envpool-{version}-*.whl")):
        print(f"install_matrix: no envpool {version} wheel in {args.wheelhouse}: run nox -s build", file=sys.stderr)
        return 1
    if not args.no_fill:
        from tools.release import thirdparty

        thirdparty.fill(args.wheelhouse, args.cache, [])
    combos = release_set.combinations(release_set.present())
    if args.extra:
        wanted = [None if e == "core" else e for e in args.extra]
        unknown = [e for e in wanted if e not in combos]
        if unknown:
            print(f"install_matrix: {unknown} not among the present combinations {combos}", file=sys.stderr)
            return 1
        combos = wanted
    links = [args.wheelhouse, args.cache]
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="install-matrix-") as tmp:
        for installer in args.installer or ["pip", "uv"]:
            for extra in combos:
                o = run_one(installer, extra, version, links, Path(tmp))
                status = "PASS" if o.ok else "FAIL"
                print(
                    f"{status} {installer} {o.requirement}: {len(o.wheels)} wheels, {o.download / MB:.1f} MB download, "
                    f"{o.on_disk / MB:.1f} MB on disk, {o.seconds:.0f} s",
                    flush=True,
                )
                for p in o.problems:
                    print(f"    {p}")
                outcomes.append(o)
    text = table(outcomes, version)
    print()
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
