"""``python -m tools.bench [--quick] [--wheelhouse DIR] [--sections a,b,...]``: run, then write the docs.

Sections: build (clean ``nox -s build`` + warm core rebuild), footprint, release, startup, throughput.
Our wheels come from the wheelhouse; the peer (envpool PEER_VERSION, tools.bench.common) and gymnasium
from PyPI, downloaded once into
.cache/bench/wheels. Each subject gets its own venv under .cache/bench/venvs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools import REPO
from tools.bench import build_time, chart, footprint, release_bytes, report, startup, throughput, venvs, verdicts
from tools.bench.common import PEER_VERSION, RESULTS, VENVS, WHEELS, CommandLog, machine, run, say, show
from tools.release.release_set import WHEELHOUSE, version

if TYPE_CHECKING:
    from collections.abc import Callable

SECTIONS = ("build", "footprint", "release", "startup", "throughput")
#: How a probe reports a family whose extra is not installed in its venv (envpool.errors).
MISSING_EXTRA = "MissingExtraError"


@dataclass
class Params:
    """How long and how often each section measures."""

    rounds: int
    seconds: float
    startup_rounds: int
    install_repeats: int
    family_rounds: int


QUICK = Params(rounds=2, seconds=0.3, startup_rounds=2, install_repeats=1, family_rounds=1)
FULL = Params(rounds=5, seconds=2.0, startup_rounds=7, install_repeats=3, family_rounds=3)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="few rounds, short measurements (minutes; noisy)")
    p.add_argument("--wheelhouse", type=Path, default=WHEELHOUSE, help="our built wheels (default: wheelhouse/)")
    p.add_argument("--python", default=None, help="interpreter the subject venvs are made from (default: this one)")
    p.add_argument(
        "--sections",
        default=None,
        help=f"comma-separated subset of {','.join(SECTIONS)} (default: all; --quick leaves out build)",
    )
    p.add_argument("--rounds", type=int, help="throughput rounds")
    p.add_argument("--seconds", type=float, help="seconds of stepping per throughput measurement")
    p.add_argument("--startup-rounds", type=int, help="fresh-process start-up measurements per subject")
    p.add_argument("--install-repeats", type=int, help="timed installs per install line")
    p.add_argument("--family-rounds", type=int, help="measurements per family at 8 envs")
    p.add_argument("--build-cmd", default=build_time.CLEAN_CMD, help="clean build command")
    p.add_argument("--warm-cmd", default=build_time.WARM_CMD, help="warm rebuild command (after the touch)")
    p.add_argument("--clean-path", action="append", type=Path, help="removed before the clean build (default: build/)")
    p.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    p.add_argument("--chart", type=Path, default=REPO / "docs" / "img" / "benchmarks.png")
    p.add_argument("--report-only", action="store_true", help="re-render the docs from .cache/bench/results.json")
    args = p.parse_args(argv)
    args.wheelhouse = args.wheelhouse.resolve()
    return args


def resolve_params(args: argparse.Namespace) -> Params:
    """The quick or full defaults, with every option given on the command line taking precedence."""
    base = QUICK if args.quick else FULL
    overrides = {k: getattr(args, k) for k in asdict(base) if getattr(args, k, None) is not None}
    return replace(base, **overrides)


def _load_previous() -> dict[str, Any]:
    if RESULTS.is_file():
        data: dict[str, Any] = json.loads(RESULTS.read_text(encoding="utf-8"))
        return data
    return {"sections": {}}


def _subject_venv(key: str, requirements: list[str], ours: bool, args: argparse.Namespace, fresh: set[str]) -> Path:
    """The python of a subject venv, (re)installed unless the footprint section just made it."""
    venv = venvs.Venv(VENVS / key)
    if key in fresh and venv.python.exists():
        return venv.python
    if not ours and venv.python.exists():
        probe = run([venv.python, "-c", "import importlib.metadata as m; print(m.version('gymnasium'))"], check=False)
        if probe.returncode == 0:
            return venv.python
    log = CommandLog()
    python = venvs.base_python(args.python)
    venv = venvs.create(key, python, log)
    local = footprint.local_dirs(args.wheelhouse) if ours else []
    venvs.ensure_resolved(venv, requirements, local, log)
    venvs.timed_install(venv, requirements, [*local, WHEELS], log)
    return venv.python


def _ours_venv(args: argparse.Namespace, fresh: set[str]) -> Path:
    return _subject_venv("ours-core", [f"envpool=={version()}"], True, args, fresh)


def _peer_venv(args: argparse.Namespace, fresh: set[str]) -> Path:
    return _subject_venv("peer-envpool", [f"envpool=={PEER_VERSION}"], False, args, fresh)


def _throughput(args: argparse.Namespace, params: Params, fresh: set[str]) -> dict[str, Any]:
    """CartPole across the three subjects; families in the venvs this run's footprint made for each extra."""
    subjects = {
        "ours": (_ours_venv(args, fresh), "envpool"),
        "peer": (_peer_venv(args, fresh), "envpool"),
        "gymnasium": (_subject_venv("gymnasium", ["gymnasium"], False, args, fresh), "gymnasium"),
    }
    family_venvs = {
        key.removeprefix("ours-"): VENVS / key / "bin" / "python"
        for key in sorted(fresh)
        if key.startswith("ours-") and key not in ("ours-core", "ours-all")
    }
    if "ours-all" in fresh:
        family_venvs = dict.fromkeys(family_venvs, VENVS / "ours-all" / "bin" / "python")
    return throughput.run_section(subjects, family_venvs, params.rounds, params.seconds, params.family_rounds)


def failures(sections: dict[str, Any]) -> dict[str, list[str]]:
    """What failed in each section of a run, by section name (sections without failures are absent).

    A section fails when it raised (``error``), when a CartPole probe failed (``errors``: the row
    would hold NaN), or when a family probe failed for another reason than a missing extra (a family
    probed in a venv without its extra is a skip, reported in the doc, not a failure).
    """
    out: dict[str, list[str]] = {}
    for name, data in sections.items():
        problems = [str(data["error"])] if "error" in data else []
        problems += [str(e) for e in data.get("errors", [])]
        for row in (data.get("families") or {}).get("rows", []):
            if row.get("error") and not str(row["error"]).startswith(MISSING_EXTRA):
                problems.append(f"family {row['family']} (`{row['task']}`): {row['error']}")
        if problems:
            out[name] = problems
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the selected sections, save the results, write the doc and the chart, print the headlines.

    Returns 1 when a section failed (after writing everything that succeeded), 2 on a usage error.
    """
    args = parse_args(argv)
    params = resolve_params(args)
    fresh: set[str] = set()
    previous = _load_previous()
    if args.report_only:
        results = previous
    else:
        wanted = (
            [s.strip() for s in args.sections.split(",") if s.strip()]
            if args.sections
            else [s for s in SECTIONS if not (args.quick and s == "build")]
        )
        unknown = set(wanted) - set(SECTIONS)
        if unknown:
            say(f"unknown sections {sorted(unknown)}; choose from {','.join(SECTIONS)}")
            return 2
        results = {"version": version(), "quick": args.quick, "params": asdict(params), "sections": {}}
        started = time.perf_counter()
        python = venvs.base_python(args.python)
        sec: dict[str, Any] = results["sections"]

        def guarded(name: str, fn: Callable[[], dict[str, Any]]) -> None:
            """Run one section; a failure is recorded in the results (and the doc), and fails the run at the end."""
            try:
                data = fn()
            except Exception as exc:  # any failure: the other sections still run and are written
                say(f"{name} failed:\n{traceback.format_exc()}")
                data = {"error": f"{type(exc).__name__}: {exc}"}
            data["machine"] = machine()
            data["quick"] = args.quick
            sec[name] = data

        if "build" in wanted:
            clean_paths = tuple(args.clean_path) if args.clean_path else build_time.CLEAN_PATHS
            guarded("build", lambda: build_time.run_section(args.build_cmd, args.warm_cmd, clean_paths))
        if wanted != ["build"] and not any(args.wheelhouse.glob(f"envpool-{version()}-*.whl")):
            say(
                f"no envpool-{version()} wheel in {args.wheelhouse}: run `nox -s build` first, or build the core with "
                "`uv build --wheel packages/core -o /tmp/benchwh` and pass --wheelhouse /tmp/benchwh"
            )
            return 2
        if "footprint" in wanted:
            guarded("footprint", lambda: footprint.run_section(args.wheelhouse, python, params.install_repeats))
            fresh = {s["key"] for s in sec["footprint"].get("subjects", [])}
        fp = sec.get("footprint") or previous.get("sections", {}).get("footprint")
        if "release" in wanted:
            guarded("release", lambda: release_bytes.run_section(args.wheelhouse, fp))
        if "startup" in wanted:
            guarded(
                "startup",
                lambda: startup.run_section(
                    {"ours": _ours_venv(args, fresh), "peer": _peer_venv(args, fresh)}, params.startup_rounds
                ),
            )
        if "throughput" in wanted:
            guarded("throughput", lambda: _throughput(args, params, fresh))
        results["elapsed_s"] = time.perf_counter() - started
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=1), encoding="utf-8")
        say(f"results: {show(RESULTS)} ({results['elapsed_s']:.0f} s)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report.render(results), encoding="utf-8")
    say(f"wrote {show(args.out)}")
    try:
        chart.draw(results, args.chart)
        say(f"wrote {show(args.chart)}")
    except ImportError:
        say("matplotlib is not installed: no chart (pip install matplotlib)")
    for line in verdicts.headlines(results):
        print(line)
    if args.report_only:
        return 0
    failed = failures(results["sections"])
    for name, problems in failed.items():
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        say(f"section {name} failed: {problems[0][:500]}{more}")
    if failed:
        say(f"failed sections: {', '.join(failed)} (the others are in {show(args.out)})")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
