"""Throughput: CartPole-v1 steps/s, ours vs the peer release vs gymnasium's SyncVectorEnv, interleaved rounds.

Every measurement is a fresh process in the subject's own venv; each round runs every configuration
for every subject, rotating the subject order, so slow drifts of a shared machine hit all subjects.
Ratios are computed round by round and then summarized.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tools.bench.common import PROBES, CommandLog, run, say
from tools.bench.stats import ratio_summary, summarize

if TYPE_CHECKING:
    from pathlib import Path

PROBE = PROBES / "throughput_probe.py"
ENV_COUNTS = (1, 8, 64)
TASK = "CartPole-v1"


@dataclass(frozen=True)
class Config:
    """One measured configuration."""

    num_envs: int
    mode: str  # "sync" or "async"

    @property
    def key(self) -> str:
        """A stable name: ``sync-8``."""
        return f"{self.mode}-{self.num_envs}"

    @property
    def batch_size(self) -> int:
        """Envs per step call (``num_envs // 2`` in async mode)."""
        return self.num_envs if self.mode == "sync" else max(1, self.num_envs // 2)


def configs(counts: tuple[int, ...] = ENV_COUNTS) -> list[Config]:
    """Sync at every env count; async (batch_size = num_envs/2) where num_envs > 1."""
    return [Config(n, "sync") for n in counts] + [Config(n, "async") for n in counts if n > 1]


def probe(python: Path, lib: str, task: str, cfg: Config, *, seconds: float, log: CommandLog) -> dict[str, Any]:
    """One fresh process measuring one configuration; ``{"error": ...}`` when the env cannot be made."""
    proc = run([python, PROBE, lib, task, str(cfg.num_envs), cfg.mode, f"{seconds:g}"], log, check=False)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-500:]}"}
    data: dict[str, Any] = json.loads(lines[-1])
    return data


def cartpole(subjects: dict[str, tuple[Path, str]], rounds: int, seconds: float, log: CommandLog) -> dict[str, Any]:
    """``subjects`` maps a name to (venv python, lib kind). gymnasium runs sync configurations only."""
    names = list(subjects)
    cfgs = configs()
    sps: dict[str, dict[str, list[float]]] = {c.key: {n: [] for n in names} for c in cfgs}
    errors: list[str] = []
    for r in range(rounds):
        say(f"throughput round {r + 1}/{rounds}")
        order = names[r % len(names) :] + names[: r % len(names)]
        for cfg in cfgs:
            for name in order:
                python, lib = subjects[name]
                if lib == "gymnasium" and cfg.mode != "sync":
                    continue
                data = probe(python, lib, TASK, cfg, seconds=seconds, log=log)
                if "error" in data:
                    errors.append(f"{name} {cfg.key}: {data['error']}")
                    sps[cfg.key][name].append(math.nan)
                else:
                    sps[cfg.key][name].append(float(data["sps"]))
    table: list[dict[str, Any]] = []
    for cfg in cfgs:
        row: dict[str, Any] = {"num_envs": cfg.num_envs, "mode": cfg.mode, "batch_size": cfg.batch_size, "sps": {}}
        for name in names:
            if sps[cfg.key][name]:
                row["sps"][name] = summarize(sps[cfg.key][name]).to_dict()
        row["raw"] = sps[cfg.key]
        row["ratios"] = {}
        for other in names[1:]:
            if sps[cfg.key][other]:
                row["ratios"][other] = ratio_summary(sps[cfg.key][names[0]], sps[cfg.key][other]).to_dict()
        table.append(row)
    return {"rows": table, "errors": errors}


FAMILY_SCRIPT = (
    "import json, envpool, envpool.registration as r\n"
    "seen = {}\n"
    "for t in envpool.list_all_envs():\n"
    "    seen.setdefault(r.family_of(t), t)\n"
    "print(json.dumps(seen))\n"
)


def families(venv_for: dict[str, Path], default: Path, rounds: int, seconds: float, log: CommandLog) -> dict[str, Any]:
    """Steps/s at 8 envs (sync) of one task per family, each in the venv that has its extra."""
    proc = run([default, "-c", FAMILY_SCRIPT], log)
    first_task: dict[str, str] = json.loads(proc.stdout.strip().splitlines()[-1])
    cfg = Config(8, "sync")
    rows: list[dict[str, Any]] = []
    for family, task in first_task.items():
        python = venv_for.get(family, default)
        values: list[float] = []
        error = None
        for _ in range(rounds):
            data = probe(python, "envpool", task, cfg, seconds=seconds, log=log)
            if "error" in data:
                error = data["error"]
                break
            values.append(float(data["sps"]))
        say(f"family {family}: {task} {'skipped: ' + error if error else 'measured'}")
        rows.append(
            {"family": family, "task": task, "sps": summarize(values).to_dict() if values else None, "error": error}
        )
    return {"num_envs": 8, "mode": "sync", "rows": rows}


def run_section(
    subjects: dict[str, tuple[Path, str]],
    venv_for_family: dict[str, Path],
    rounds: int,
    seconds: float,
    family_rounds: int,
) -> dict[str, Any]:
    """CartPole across subjects, then our families. The first subject is the numerator of every ratio."""
    log = CommandLog()
    out = cartpole(subjects, rounds, seconds, log)
    default = next(iter(subjects.values()))[0]
    out["families"] = families(venv_for_family, default, family_rounds, seconds, log)
    out["rounds"] = rounds
    out["seconds"] = seconds
    out["subjects"] = list(subjects)
    out["commands"] = log.lines
    return out
