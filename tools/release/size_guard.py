"""Size guard: every artifact strictly below PyPI's limit and below its package's budget.

Usage: ``python -m tools.release.size_guard [WHEELHOUSE]``. Prints a table (architecture, bytes, share of
the limit, budget, five largest files), grouped by architecture (tools/release/release_set.py ``ARCHES``,
then ``any``: the pure wheels and sdists both architectures share), then one totals line per
architecture: its artifacts, and what ``pip install "envpool[all]"`` downloads there (its largest core
wheel and every sibling wheel that installs on it; third-party wheels not counted). The table and the
totals go to $GITHUB_STEP_SUMMARY when set. Every artifact, of any architecture, is held to its
package's budget; the guard exits non-zero naming each offender.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from tools.common.distfile import artifact, artifacts
from tools.release.release_set import (
    ALL_EXTRA,
    ARCHES,
    PYPI_FILE_LIMIT,
    WHEELHOUSE,
    Arch,
    arch_of_wheel,
    package_of_artifact,
    package_of_kind,
)

#: the group of the artifacts every architecture shares (pure wheels, sdists)
SHARED = "any"


@dataclass(frozen=True)
class Row:
    """One artifact's line in the size table."""

    name: str
    size: int
    budget: int | None
    largest: list[tuple[str, int]]

    @property
    def arch(self) -> str:
        """The architecture of a platform wheel (its machine), else :data:`SHARED`."""
        found = arch_of_wheel(self.name) if self.name.endswith(".whl") else None
        return found.machine if found is not None else SHARED

    @property
    def problems(self) -> list[str]:
        """Why this artifact may not be published (empty when it may)."""
        out = []
        if self.size >= PYPI_FILE_LIMIT:
            out.append(f"{self.size:,} bytes is not below PyPI's {PYPI_FILE_LIMIT:,}-byte limit")
        if self.budget is None:
            out.append("no budget declared in tools/release/release_set.py")
        elif self.size > self.budget:
            out.append(f"{self.size:,} bytes exceeds its budget of {self.budget:,}")
        return out


def measure(path: Path) -> Row:
    """Size, budget and largest members of one artifact."""
    package = package_of_artifact(path.name)
    files = sorted(artifact(path).sizes(), key=lambda m: m.stored, reverse=True)[:5]
    return Row(
        path.name,
        path.stat().st_size,
        package.budget if package else None,
        [(Path(m.name).name, m.stored) for m in files],
    )


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


def grouped(rows: list[Row]) -> list[Row]:
    """The rows by architecture (release-set order, then the shared ones), by name within a group."""
    order = {name: i for i, name in enumerate([*(a.machine for a in ARCHES), SHARED])}
    return sorted(rows, key=lambda r: (order.get(r.arch, len(order)), r.name))


def render(rows: list[Row]) -> str:
    """A markdown table of the rows, grouped by architecture."""
    lines = [
        (
            "| arch | artifact | bytes | share of 100 MB | budget | status "
            "| five largest files (compressed; raw in sdists) |"
        ),
        "|---|---|---:|---:|---:|---|---|",
    ]
    for r in grouped(rows):
        largest = ", ".join(f"{name} {_mb(size)}" for name, size in r.largest)
        budget = _mb(r.budget) if r.budget is not None else "none"
        status = "FAIL" if r.problems else "ok"
        share = f"{100 * r.size / PYPI_FILE_LIMIT:.2f}%"
        lines.append(f"| {r.arch} | {r.name} | {r.size:,} | {share} | {budget} | {status} | {largest} |")
    return "\n".join(lines)


def all_download(rows: list[Row], arch: Arch) -> tuple[int, list[str]]:
    """Bytes ``pip install "envpool[all]"`` downloads on ``arch`` (the largest core wheel, the largest wheel of
    every sibling installable there) and those wheels' names; ``(0, [])`` without a core wheel for ``arch``."""
    best: dict[str, Row] = {}
    for r in rows:
        package = package_of_artifact(r.name)
        if not r.name.endswith(".whl") or package is None or r.arch not in (arch.machine, SHARED):
            continue
        if package.extra is None and r.arch != arch.machine:
            continue  # a pure core wheel (a test fixture) is no core of this architecture
        if package.distribution not in best or r.size > best[package.distribution].size:
            best[package.distribution] = r
    if package_of_kind("extension").distribution not in best:
        return 0, []
    return sum(r.size for r in best.values()), sorted(r.name for r in best.values())


def totals(rows: list[Row]) -> list[str]:
    """One line per architecture: its own artifacts, and the download of ``envpool[all]`` there."""
    lines = []
    for arch in ARCHES:
        own = [r for r in rows if r.arch == arch.machine]
        if not own:
            lines.append(f"{arch.machine}: no artifact in this wheelhouse")
            continue
        size, names = all_download(rows, arch)
        download = (
            f'pip install "envpool[{ALL_EXTRA}]" downloads {size:,} bytes ({_mb(size)}: {len(names)} wheels)'
            if names
            else f'no {arch.machine} core wheel: no "envpool[{ALL_EXTRA}]" download to measure'
        )
        lines.append(f"{arch.machine}: {len(own)} artifacts, {sum(r.size for r in own):,} bytes; {download}")
    shared = [r for r in rows if r.arch == SHARED]
    lines.append(
        f"{SHARED} (shared by every architecture): {len(shared)} artifacts, {sum(r.size for r in shared):,} bytes"
    )
    return lines


def check(wheelhouse: Path) -> int:
    """Print the table; return the number of offending artifacts."""
    paths = [a.path for a in artifacts(wheelhouse)] if wheelhouse.is_dir() else []
    if not paths:
        print(f"size guard: no wheels or sdists in {wheelhouse}", file=sys.stderr)
        return 1
    rows = [measure(p) for p in paths]
    table = render(rows)
    total = totals(rows)
    print(table)
    print("\n".join(f"size guard: {line}" for line in total))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as f:
            f.write("## Release set sizes\n\n" + table + "\n\n" + "".join(f"- {line}\n" for line in total))
    bad = [r for r in rows if r.problems]
    for r in bad:
        for p in r.problems:
            print(f"size guard: {r.name}: {p}", file=sys.stderr)
    if not bad:
        print(f"size guard: all {len(rows)} artifacts within budget and below {PYPI_FILE_LIMIT:,} bytes")
    return len(bad)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheelhouse", nargs="?", type=Path, default=WHEELHOUSE)
    args = parser.parse_args(argv)
    return 1 if check(args.wheelhouse) else 0


if __name__ == "__main__":
    raise SystemExit(main())
