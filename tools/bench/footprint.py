"""Footprint: bytes downloaded, bytes in site-packages and install time of each install line."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.bench import venvs
from tools.bench.common import PEER_VERSION, WHEELS, CommandLog, say, show
from tools.bench.stats import summarize
from tools.release.release_set import PACKAGES, THIRDPARTY, present, version


@dataclass(frozen=True)
class Subject:
    """One install line to measure."""

    key: str  # venv name, e.g. "ours-core"
    label: str
    requirements: tuple[str, ...]
    ours: bool


def is_project_file(name: str) -> bool:
    """Whether a distribution belongs to envpool itself (ours or the peer's), not a third party."""
    n = name.lower().replace("_", "-")
    return n == "envpool" or n.startswith("envpool-")


def our_subjects(wheelhouse: Path, ver: str) -> tuple[list[Subject], list[str]]:
    """The core, each extra whose sibling is built, and ``all`` when every extra is; plus what was skipped."""
    names = {f.name for f in wheelhouse.iterdir()} if wheelhouse.is_dir() else set()
    skipped: list[str] = []
    subjects = [Subject("ours-core", f"envpool {ver}", (f"envpool=={ver}",), True)]
    have_dirs = {p.directory for p in present()}
    extras: list[str] = []
    for p in PACKAGES:
        if p.extra is None:
            continue
        if p.directory not in have_dirs:
            skipped.append(f"envpool[{p.extra}]: {p.directory} does not exist yet")
            continue
        if not any(n.startswith(f"{p.normalized}-{ver}-") and n.endswith(".whl") for n in names):
            skipped.append(f"envpool[{p.extra}]: no {p.normalized}-{ver} wheel in {show(wheelhouse)}")
            continue
        extras.append(p.extra)
        subjects.append(Subject(f"ours-{p.extra}", f"envpool[{p.extra}] {ver}", (f"envpool[{p.extra}]=={ver}",), True))
    all_extras = [p.extra for p in PACKAGES if p.extra]
    if extras and len(extras) == len(all_extras):
        subjects.append(Subject("ours-all", f"envpool[all] {ver}", (f"envpool[all]=={ver}",), True))
    elif all_extras:
        skipped.append("envpool[all]: needs every extra's sibling built")
    return subjects, skipped


def peer_subjects() -> list[Subject]:
    """The peer (envpool PEER_VERSION) as PyPI resolves it, and gymnasium (the vector-env baseline)."""
    return [
        Subject("peer-envpool", f"envpool {PEER_VERSION} (PyPI)", (f"envpool=={PEER_VERSION}",), False),
        Subject("gymnasium", "gymnasium (PyPI)", ("gymnasium",), False),
    ]


def local_dirs(wheelhouse: Path) -> list[Path]:
    """Local find-links besides the bench cache: the wheelhouse and the tests' third-party cache."""
    dirs = [wheelhouse]
    thirdparty = Path(os.environ.get("ENVPOOL_THIRDPARTY", THIRDPARTY))
    if thirdparty.is_dir():
        dirs.append(thirdparty)
    return dirs


def prepare(subject: Subject, wheelhouse: Path, python: str, log: CommandLog) -> dict[str, Any]:
    """Resolve a subject's files (downloading into the cache once) and note the empty venv's size."""
    say(f"footprint: resolving {subject.label}")
    local = local_dirs(wheelhouse) if subject.ours else []
    venv = venvs.create(subject.key, python, log)
    files = venvs.ensure_resolved(venv, list(subject.requirements), local, log)
    rows = [
        {"name": f.name, "version": f.version, "file": f.path.name, "bytes": f.size, "project": is_project_file(f.name)}
        for f in files
    ]
    return {
        "key": subject.key,
        "label": subject.label,
        "requirements": list(subject.requirements),
        "ours": subject.ours,
        "files": rows,
        "download_bytes": sum(r["bytes"] for r in rows),
        "project_bytes": sum(r["bytes"] for r in rows if r["project"]),
        "thirdparty_bytes": sum(r["bytes"] for r in rows if not r["project"]),
        "venv": str(venv.path),
        "_empty_bytes": venvs.disk_usage(venv.site_packages()),
        "_dirs": [*local, WHEELS],
    }


def install_once(row: dict[str, Any], python: str, fresh: bool, log: CommandLog) -> float:
    """One timed install of a prepared subject into its venv (made anew unless ``fresh`` already)."""
    venv = venvs.Venv(Path(row["venv"])) if fresh else venvs.create(row["key"], python, log)
    return venvs.timed_install(venv, row["requirements"], row["_dirs"], log)


def run_section(wheelhouse: Path, python: str, repeats: int) -> dict[str, Any]:
    """The footprint table's data: every subject, what was skipped, the commands."""
    log = CommandLog()
    ver = version()
    ours, skipped = our_subjects(wheelhouse, ver)
    rows = [prepare(s, wheelhouse, python, log) for s in [*ours, *peer_subjects()]]
    times: dict[str, list[float]] = {r["key"]: [] for r in rows}
    for i in range(repeats):  # interleaved: every subject once per round
        say(f"footprint: install round {i + 1}/{repeats}")
        for r in rows:
            times[r["key"]].append(install_once(r, python, i == 0, log))
    for r in rows:
        r["install_s"] = summarize(times[r["key"]]).to_dict()
        r["site_packages_bytes"] = venvs.disk_usage(venvs.Venv(Path(r["venv"])).site_packages()) - r.pop("_empty_bytes")
        del r["_dirs"]
    return {"subjects": rows, "skipped": skipped, "repeats": repeats, "commands": log.lines}
