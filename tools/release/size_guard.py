"""Size guard: every artifact strictly below PyPI's limit and below its package's budget.

Usage: ``python -m tools.release.size_guard [WHEELHOUSE]``. Prints a table (bytes, share of the limit,
budget, five largest files), appends it to $GITHUB_STEP_SUMMARY when set, and exits non-zero
naming each offender.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from tools.common.distfile import artifact, artifacts
from tools.release.release_set import PYPI_FILE_LIMIT, WHEELHOUSE, package_of_artifact


@dataclass(frozen=True)
class Row:
    """One artifact's line in the size table."""

    name: str
    size: int
    budget: int | None
    largest: list[tuple[str, int]]

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


def render(rows: list[Row]) -> str:
    """A markdown table of the rows."""
    lines = [
        "| artifact | bytes | share of 100 MB | budget | status | five largest files (compressed; raw in sdists) |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in rows:
        largest = ", ".join(f"{name} {_mb(size)}" for name, size in r.largest)
        budget = _mb(r.budget) if r.budget is not None else "none"
        status = "FAIL" if r.problems else "ok"
        lines.append(
            f"| {r.name} | {r.size:,} | {100 * r.size / PYPI_FILE_LIMIT:.2f}% | {budget} | {status} | {largest} |"
        )
    return "\n".join(lines)


def check(wheelhouse: Path) -> int:
    """Print the table; return the number of offending artifacts."""
    paths = [a.path for a in artifacts(wheelhouse)] if wheelhouse.is_dir() else []
    if not paths:
        print(f"size guard: no wheels or sdists in {wheelhouse}", file=sys.stderr)
        return 1
    rows = [measure(p) for p in paths]
    table = render(rows)
    print(table)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as f:
            f.write("## Release set sizes\n\n" + table + "\n")
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
