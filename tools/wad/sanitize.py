"""Build the WAD reader with AddressSanitizer + UBSan and run it over the bad-WAD corpus and real WADs.

    python -m tools.wad.sanitize [REAL.wad ...] [--assets DIR] [--cxx g++] [--build-dir DIR]

Every file of tests/fixtures/bad_wads/ must be rejected with a ValueError (WadError) naming the
lump listed in its manifest; each real WAD given on the command line, and with --assets (a directory
laid out like envpool_assets_vizdoom.root()) each WAD the vizdoom tasks read, must parse completely.
With --assets, the engine and the DoomNav scenarios are also built with the sanitizers, and each
vizdoom task of the task table (envpool/tasks.py) is stepped with random actions. Any sanitizer
report aborts the driver (-fno-sanitize-recover=all), which fails the run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from tools import REPO
from tools.assets.tasks import assets_of, load_tasks_module
from tools.common import process

if TYPE_CHECKING:
    from collections.abc import Sequence

SOURCES = REPO / "packages" / "core" / "cpp" / "vizdoom"
CORPUS = REPO / "tests" / "fixtures" / "bad_wads"
FLAGS = [
    "-std=c++17",
    "-O1",
    "-g",
    "-fno-omit-frame-pointer",
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-Wall",
    "-Wextra",
]


#: The WAD reader's sources (packages/core/cpp/vizdoom), and the engine's on top of them.
WAD_SOURCES = ("wad.cpp", "wad_map.cpp", "wad_graphics.cpp")
ENGINE_SOURCES = (*WAD_SOURCES, "level.cpp", "engine.cpp", "render.cpp", "cfg.cpp", "tasks.cpp")


def build(cxx: str, out: Path, extra: list[str] | None = None, name: str = "wad_check_asan") -> Path:
    """Compile the WAD reader + wad_check.cpp with the sanitizers (and ``extra`` flags) into ``out/name``."""
    binary = out / name
    cmd = [
        cxx,
        *FLAGS,
        *(extra or []),
        "-I",
        str(SOURCES),
        *(str(SOURCES / n) for n in WAD_SOURCES),
        str(SOURCES / "wad_check.cpp"),
        "-o",
        str(binary),
    ]
    _compile(cmd, binary)
    return binary


def _compile(cmd: list[str], binary: Path) -> None:
    """Run one compiler command; a failure names the likely fix instead of a traceback."""
    rc = process.run(cmd, capture=False, echo=True).returncode
    if rc != 0:
        sanitizers = " ".join(f for f in cmd if f.startswith("-fsanitize="))
        raise SystemExit(
            f"{cmd[0]} could not build {binary.name} (exit {rc}; its output is above). If it cannot find a "
            f"sanitizer runtime for {sanitizers} (e.g. libasan, libubsan, libFuzzer), install the compiler's "
            "full package (apt-get install g++, or clang for -fsanitize=fuzzer) or pass another --cxx."
        )


def build_engine(cxx: str, out: Path) -> Path:
    """Compile the reader, engine and tasks with engine_check.cpp and the sanitizers; return the binary."""
    binary = out / "engine_check_asan"
    sources = [SOURCES / n for n in (*ENGINE_SOURCES, "engine_check.cpp")]
    cmd = [cxx, *FLAGS, "-I", str(SOURCES), "-I", str(SOURCES.parent), *map(str, sources), "-o", str(binary)]
    _compile(cmd, binary)
    return binary


def engine_runs(assets: Path, steps: int) -> list[list[str]]:
    """The engine driver's arguments for each vizdoom task of the task table: its parameters and files."""
    runs = []
    for task in load_tasks_module().TASKS:
        if task.family == "vizdoom":
            params = task.native({})
            if not all(isinstance(v, str) for v in params.values()):
                raise SystemExit(f"{task.task_id}: the engine driver takes string parameters only, got {params}")
            runs.append([str(assets), str(steps), task.task_id, *(f"{k}={v}" for k, v in params.items())])
    return runs


def run(binary: Path, args: Sequence[Path | int | str]) -> list[str]:
    """Run a driver with ``args``; return its output lines (raises if it fails)."""
    env = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1", "UBSAN_OPTIONS": "print_stacktrace=1"}
    proc = process.run([binary, *map(str, args)], extra_env=env, timeout=900)
    sys.stdout.write(proc.stdout)
    sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        raise SystemExit(f"wad_check failed with exit code {proc.returncode} (sanitizer report or reader bug above)")
    return proc.stdout.splitlines()


def check(binary: Path, real: list[Path]) -> int:
    """Run the corpus and the real WADs; return the number of problems found."""
    manifest: dict[str, str] = json.loads((CORPUS / "manifest.json").read_text())
    problems = 0
    lines = run(binary, [CORPUS / name for name in sorted(manifest)])
    for name, line in zip(sorted(manifest), lines, strict=True):
        lump = manifest[name]
        want = ": header:" if lump == "header" else f"lump '{lump}'"
        if not (line.startswith("ValueError ") and name in line and want in line):
            print(f"PROBLEM {name}: expected a ValueError naming {want!r}, got: {line}")
            problems += 1
    if real:
        for path, line in zip(real, run(binary, real), strict=True):
            if not line.startswith("ok "):
                print(f"PROBLEM {path}: a real WAD must parse, got: {line}")
                problems += 1
    print(f"sanitize_wad: {len(manifest)} bad WADs, {len(real)} real WADs, {problems} problems")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("real", nargs="*", type=Path, help="real WAD files that must parse (optional)")
    parser.add_argument("--assets", type=Path, default=None, help="asset root: also step the tasks")
    parser.add_argument("--steps", type=int, default=2000, help="random steps per task with --assets")
    parser.add_argument("--cxx", default=os.environ.get("CXX", "g++"))
    parser.add_argument("--build-dir", type=Path, default=None, help="where to put the binary (default: a temp dir)")
    args = parser.parse_args(argv)
    if shutil.which(args.cxx) is None:
        raise SystemExit(f"compiler {args.cxx!r} not found: install g++ (apt-get install g++) or pass --cxx")
    missing = [p for p in args.real if not p.is_file()]
    if missing:
        raise SystemExit(f"real WAD(s) not found: {', '.join(map(str, missing))}")
    if args.assets is not None:
        absent = [rel for rel in assets_of("vizdoom") if not (args.assets / rel).is_file()]
        if absent:
            raise SystemExit(f"--assets {args.assets} lacks {', '.join(absent)} (lay it out as envpool_assets_vizdoom)")
        args.real += [args.assets / rel for rel in assets_of("vizdoom") if rel.endswith(".wad")]
    with tempfile.TemporaryDirectory(prefix="sanitize_wad_") as tmp:
        out = args.build_dir or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        problems = check(build(args.cxx, out), args.real)
        if args.assets is not None:
            engine = build_engine(args.cxx, out)
            for engine_args in engine_runs(args.assets, args.steps):
                run(engine, engine_args)
        return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
