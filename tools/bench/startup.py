"""Start-up: ``import envpool`` and time to the first CartPole-v1 step, in fresh processes, interleaved."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from tools.bench.common import PROBES, CommandLog, run, say
from tools.bench.stats import summarize

if TYPE_CHECKING:
    from pathlib import Path

PROBE = PROBES / "startup_probe.py"
KINDS = ("import", "first_step")


def probe_once(python: Path, kind: str, log: CommandLog) -> dict[str, Any]:
    """One fresh process: the probe's JSON plus the process wall time and its stderr line count."""
    t0 = time.perf_counter()
    proc = run([python, PROBE, kind, "CartPole-v1"], log)
    wall = time.perf_counter() - t0
    data: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    data["process_s"] = wall
    data["stderr_lines"] = len([line for line in proc.stderr.splitlines() if line.strip()])
    return data


def run_section(subjects: dict[str, Path], rounds: int) -> dict[str, Any]:
    """``subjects`` maps a label to a venv python; each round runs every subject once per kind, rotating order."""
    log = CommandLog()
    raw: dict[str, dict[str, list[dict[str, Any]]]] = {s: {k: [] for k in KINDS} for s in subjects}
    names = list(subjects)
    for r in range(rounds):
        say(f"start-up round {r + 1}/{rounds}")
        order = names[r % len(names) :] + names[: r % len(names)]
        for kind in KINDS:
            for name in order:
                raw[name][kind].append(probe_once(subjects[name], kind, log))
    out: dict[str, Any] = {"rounds": rounds, "subjects": {}, "commands": log.lines}
    for name, by_kind in raw.items():
        imp, first = by_kind["import"], by_kind["first_step"]
        out["subjects"][name] = {
            "version": imp[0]["version"] if imp else None,
            "import_s": summarize([d["import_s"] for d in imp]).to_dict(),
            "import_process_s": summarize([d["process_s"] for d in imp]).to_dict(),
            "rss_import_mb": summarize([d["rss_import_mb"] for d in imp]).to_dict(),
            "rss_interpreter_mb": summarize([d["rss_before_mb"] for d in imp]).to_dict(),
            "first_step_s": summarize([d["first_step_s"] for d in first]).to_dict(),
            "rss_first_step_mb": summarize([d["rss_first_step_mb"] for d in first]).to_dict(),
            "import_stderr_lines": max((d["stderr_lines"] for d in imp), default=0),
            "first_step_stderr_lines": max((d["stderr_lines"] for d in first), default=0),
            "raw_import_s": [d["import_s"] for d in imp],
        }
    return out
