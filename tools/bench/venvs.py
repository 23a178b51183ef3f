"""Subject venvs: the wheel cache, offline resolution with pip's install report, timed installs, du."""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from tools.bench.common import CACHE, VENVS, WHEELS, CommandLog, run, say

#: pip must neither read the index nor reuse its http cache when an install is timed.
OFFLINE = ("--no-index", "--no-cache-dir", "--disable-pip-version-check")


@dataclass(frozen=True)
class Venv:
    """A subject's virtual environment under .cache/bench/venvs/."""

    path: Path

    @property
    def python(self) -> Path:
        """Its interpreter."""
        return self.path / "bin" / "python"

    def site_packages(self) -> Path:
        """Its site-packages directory."""
        found = sorted(self.path.glob("lib/python*/site-packages"))
        if not found:
            raise RuntimeError(f"{self.path} has no lib/python*/site-packages")
        return found[0]


@dataclass(frozen=True)
class ResolvedFile:
    """One distribution file an install uses."""

    name: str
    version: str
    path: Path

    @property
    def size(self) -> int:
        """Its size in bytes."""
        return self.path.stat().st_size


def disk_usage(root: Path) -> int:
    """Bytes ``root`` occupies on disk, as ``du -s --block-size=1`` counts them (hard links once)."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            st = Path(dirpath, name).lstat()
            key = (st.st_dev, st.st_ino)
            if key in seen:
                continue
            seen.add(key)
            total += st.st_blocks * 512
    return total


def create(name: str, base_python: str, log: CommandLog) -> Venv:
    """A fresh venv (with pip, as ``python -m venv`` makes it) at .cache/bench/venvs/<name>."""
    path = VENVS / name
    if path.exists():
        shutil.rmtree(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    run([base_python, "-m", "venv", path], log)
    return Venv(path)


def _links(dirs: list[Path]) -> list[str]:
    return [a for d in dirs for a in ("--find-links", str(d))]


def parse_report(report: dict[str, object]) -> list[ResolvedFile]:
    """The files listed in a ``pip install --report`` document (local file URLs only)."""
    out: list[ResolvedFile] = []
    items = report.get("install", [])
    assert isinstance(items, list)
    for item in items:
        url = item["download_info"]["url"]
        parsed = urlparse(url)
        if parsed.scheme != "file":
            raise RuntimeError(f"{item['metadata']['name']} would be fetched from {url}, not from the local cache")
        out.append(ResolvedFile(item["metadata"]["name"], item["metadata"]["version"], Path(unquote(parsed.path))))
    return out


def resolve(venv: Venv, requirements: list[str], dirs: list[Path], log: CommandLog) -> list[ResolvedFile] | None:
    """The files ``pip install`` would use from ``dirs`` alone, or None when they do not suffice."""
    report = CACHE / "pip-report.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    proc = run(
        [
            venv.python,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            report,
            *OFFLINE,
            *_links(dirs),
            *requirements,
        ],
        log,
        check=False,
    )
    if proc.returncode != 0:
        return None
    return parse_report(json.loads(report.read_text(encoding="utf-8")))


def download(venv: Venv, requirements: list[str], local: list[Path], log: CommandLog) -> None:
    """Fetch what ``requirements`` need from the index into the wheel cache (our own files stay local)."""
    WHEELS.mkdir(parents=True, exist_ok=True)
    local_names = {f.name for d in local if d.is_dir() for f in d.iterdir()}
    say(f"downloading {' '.join(requirements)} into {WHEELS} (once)")
    with tempfile.TemporaryDirectory() as tmp:
        run(
            [
                venv.python,
                "-m",
                "pip",
                "download",
                "--disable-pip-version-check",
                "--dest",
                tmp,
                *_links([*local, WHEELS]),
                *requirements,
            ],
            log,
        )
        for f in Path(tmp).iterdir():
            if f.name not in local_names and not (WHEELS / f.name).exists():
                shutil.move(str(f), WHEELS / f.name)


def ensure_resolved(venv: Venv, requirements: list[str], local: list[Path], log: CommandLog) -> list[ResolvedFile]:
    """Resolve offline from ``local`` + the cache, downloading into the cache first when needed."""
    dirs = [*local, WHEELS]
    files = resolve(venv, requirements, dirs, log)
    if files is None:
        download(venv, requirements, local, log)
        files = resolve(venv, requirements, dirs, log)
    if files is None:
        raise RuntimeError(f"cannot resolve {requirements} from {', '.join(map(str, dirs))} even after pip download")
    return files


def timed_install(venv: Venv, requirements: list[str], dirs: list[Path], log: CommandLog) -> float:
    """Wall seconds of ``pip install`` from local files only."""
    cmd: list[str | Path] = [venv.python, "-m", "pip", "install", "--quiet", *OFFLINE, *_links(dirs), *requirements]
    t0 = time.perf_counter()
    run(cmd, log)
    return time.perf_counter() - t0


def base_python(explicit: str | None) -> str:
    """The interpreter the subject venvs are made from (default: the one running the bench)."""
    return explicit or sys.executable
