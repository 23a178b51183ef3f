"""One-command version bump: ``python -m tools.release.bump 0.2.0`` (``nox -s bump -- 0.2.0``).

VERSION is the only file that holds the version: every package reads it (the symlinks
packages/*/VERSION, scikit-build-core's regex provider, hatchling's version source) and the
core's sibling pins are generated from it. So a bump rewrites VERSION and nothing else, after
checking that

- the new version is canonical PEP 440 and matches the regex of the core's version provider;
- it is newer than the current one (``--allow-downgrade`` to override);
- no other file spells the old version (a hit means a copy that would drift: an error, and
  VERSION is left unchanged).

Wheels built before the bump then fail ``python -m tools.release.check_release`` (checks ``version``
and ``sibling-pins``) until the set is rebuilt.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from tools import REPO
from tools.common import process

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

#: directories never scanned for drift (build outputs, caches, environments)
SKIP_DIRS = {".git", ".nox", ".venv", ".cache", "build", "wheelhouse", "node_modules", "__pycache__", "dist"}
#: generated reports that record the version they measured; regenerated after a release build, so
#: an old version there is history, not a copy that drives anything (path -> what regenerates it)
GENERATED: dict[str, str] = {
    "docs/benchmarks.md": "python -m tools.bench (measured figures of one build)",
    "docs/install-matrix.md": "python -m tools.release.install_matrix (measured installs of one build)",
}
#: largest file scanned for drift (asset locks and sources are far smaller; larger files are data)
MAX_SCAN_BYTES = 2_000_000


@dataclass(frozen=True)
class Hit:
    """One place, other than VERSION, that spells a version."""

    path: Path
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text.strip()[:160]}"


class BumpError(ValueError):
    """A bump that must not happen (bad version, downgrade or drift)."""


def version_regex(root: Path) -> re.Pattern[str] | None:
    """The regex of the core's version provider (its ``[[tool.dynamic-metadata]]`` entry); None when absent."""
    pyproject = root / "packages" / "core" / "pyproject.toml"
    if not pyproject.is_file():
        return None
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    entries = data.get("tool", {}).get("dynamic-metadata", [])
    regex = next((e.get("regex") for e in entries if e.get("field") == "version"), None)
    return re.compile(regex) if isinstance(regex, str) else None


def validate(new: str, current: str, root: Path, *, allow_downgrade: bool = False) -> str:
    """Return ``new`` when it is a valid next version, else raise BumpError naming the fix."""
    try:
        parsed = Version(new)
    except InvalidVersion as exc:
        raise BumpError(f"{new!r} is not a PEP 440 version (e.g. 0.2.0, 0.2.0rc1)") from exc
    if str(parsed) != new:
        raise BumpError(f"{new!r} is not in canonical form: use {parsed}")
    regex = version_regex(root)
    if regex is not None:
        m = regex.search(new)
        if m is None or m.group("value") != new:
            raise BumpError(
                f"{new!r} does not match the core's metadata.version.regex {regex.pattern!r} (packages/core/"
                'pyproject.toml, [[tool.dynamic-metadata]] field = "version"): the core would build a different version'
            )
    if not allow_downgrade and parsed <= Version(current):
        raise BumpError(f"{new} is not newer than the current {current} (pass --allow-downgrade to force)")
    return new


def _candidate_files(root: Path) -> Iterator[Path]:
    """Every file under ``root`` a drift scan reads: git-known files in a checkout, else a walk."""
    try:
        out = process.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=root, check=True)
        names = [n for n in out.stdout.split("\0") if n]
        paths = [root / n for n in names]
        if (root / ".git").exists():
            yield from (p for p in paths if not SKIP_DIRS.intersection(p.relative_to(root).parts))
            return
    except (OSError, process.ProcessError):
        pass
    for p in sorted(root.rglob("*")):
        if not SKIP_DIRS.intersection(p.relative_to(root).parts):
            yield p


def find_drift(root: Path, version: str) -> list[Hit]:
    """Every line outside VERSION that spells ``version`` (copies that would not follow a bump)."""
    pattern = re.compile(rf"(?<![\d.]){re.escape(version)}(?![\w]|\.\d)")
    hits = []
    for path in _candidate_files(root):
        if path.is_symlink() or not path.is_file() or path.resolve() == (root / "VERSION").resolve():
            continue
        if path.relative_to(root).as_posix() in GENERATED:
            continue
        if path.stat().st_size > MAX_SCAN_BYTES:
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
            if pattern.search(line):
                hits.append(Hit(path.relative_to(root), number, line))
    return hits


def bump(new: str, root: Path = REPO, *, allow_downgrade: bool = False, dry_run: bool = False) -> str:
    """Validate and write the new version into ``root``/VERSION; return the old one."""
    version_file = root / "VERSION"
    current = version_file.read_text(encoding="utf-8").strip()
    validate(new, current, root, allow_downgrade=allow_downgrade)
    drift = find_drift(root, current)
    if drift:
        listing = "\n  ".join(str(h) for h in drift)
        raise BumpError(
            f"drift: the version {current} is spelled outside VERSION; derive it from VERSION instead "
            f"(VERSION left unchanged):\n  {listing}"
        )
    if not dry_run:
        version_file.write_text(new + "\n", encoding="utf-8")
    return current


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m tools.release.bump", description=__doc__.splitlines()[0])
    parser.add_argument("version", help="the new version, e.g. 0.2.0")
    parser.add_argument("--root", type=Path, default=REPO, help="repository root (default: this one)")
    parser.add_argument("--allow-downgrade", action="store_true")
    parser.add_argument("--dry-run", action="store_true", help="validate and scan for drift, write nothing")
    args = parser.parse_args(argv)
    try:
        old = bump(args.version, args.root, allow_downgrade=args.allow_downgrade, dry_run=args.dry_run)
    except BumpError as exc:
        print(f"bump: error: {exc}", file=sys.stderr)
        return 1
    verb = "would bump" if args.dry_run else "bumped"
    print(f"{verb} {old} -> {args.version} in {args.root / 'VERSION'}")
    if not args.dry_run:
        print(
            "next: nox -s build && python -m tools.release.check_release, then commit VERSION and tag "
            f"v{args.version} (see docs/release.md)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
