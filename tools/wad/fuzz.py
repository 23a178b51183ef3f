"""Fuzz the WAD reader for a bounded time.

    python -m tools.wad.fuzz [--seconds 60] [--engine auto|libfuzzer|atheris] [--seeds WAD ...]

Engines:
  libfuzzer  builds packages/core/cpp/vizdoom/wad_check.cpp with -DWAD_FUZZER and
             clang++ -fsanitize=fuzzer,address,undefined (coverage-guided on the C++ reader).
  atheris    fuzzes envpool._vizdoom.read_wad of the installed wheel with atheris (PyPI); without
             an instrumented build of the extension the C++ side gets no coverage feedback, so this
             is mutation fuzzing of the real module rather than coverage-guided.
  auto       libfuzzer when clang++ is on PATH, else atheris.

Seeds: the bad-WAD corpus, small generated valid WADs, and any --seeds files (e.g. the scenario
WADs). A crash, sanitizer report, hang (> 10 s per input) or an exception other than ValueError
fails the run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from tools import REPO
from tools.common import process
from tools.wad.sanitize import build

SOURCES = REPO / "packages" / "core" / "cpp" / "vizdoom"
CORPUS = REPO / "tests" / "fixtures" / "bad_wads"


def seed_dir(out: Path, extra: list[Path]) -> Path:
    """A directory of seed inputs: the bad corpus, a few valid tiny WADs and ``extra``."""
    from tools.wad import bad_wads as mk

    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(CORPUS.glob("*.wad")):
        shutil.copy(path, out / path.name)
    (out / "good_doom.wad").write_bytes(mk.wad(mk.doom_map()))
    (out / "good_hexen.wad").write_bytes(mk.wad(mk.doom_map(behavior=True)))
    (out / "good_tex.wad").write_bytes(
        mk.wad(
            [
                ("PNAMES", mk.pnames("P1")),
                ("P_START", b""),
                ("P1", mk.patch()),
                ("P_END", b""),
                ("TEXTURE1", mk.textures()),
                ("PLAYPAL", bytes(768)),
            ]
        )
    )
    (out / "good_udmf.wad").write_bytes(
        mk.wad(
            mk.udmf(
                mk.UDMF_OK_HEAD + "linedef { v1 = 0; v2 = 1; sidefront = 0; }\nsidedef { sector = 0; }\n"
                'sector { texturefloor = "F"; textureceiling = "C"; }\nthing { x = 1.0; y = 2.0; type = 1; }\n'
            )
        )
    )
    for path in extra:
        shutil.copy(path, out / f"seed_{path.name}")
    return out


def report(work: Path, engine: str) -> None:
    """Copy the fuzzer's crash/timeout/oom inputs to ./fuzz_wad_artifacts and say so."""
    keep = Path.cwd() / "fuzz_wad_artifacts"
    keep.mkdir(exist_ok=True)
    found = [p for pattern in ("crash-*", "timeout-*", "oom-*", "leak-*") for p in work.glob(pattern)]
    for path in found:
        shutil.copy(path, keep / path.name)
    print(f"fuzz_wad: {engine} found a problem; {len(found)} input(s) copied to {keep}", file=sys.stderr)


def run_libfuzzer(cxx: str, seconds: int, seeds: Path, work: Path) -> int:
    """Build and run the libFuzzer target; return its exit code."""
    # The sanitized build of tools.wad.sanitize, plus libFuzzer's entry point.
    binary = build(cxx, work, extra=["-DWAD_FUZZER", "-fsanitize=fuzzer"], name="wad_fuzzer")
    live = work / "corpus"
    live.mkdir(exist_ok=True)
    args = [
        str(binary),
        str(live),
        str(seeds),
        f"-max_total_time={seconds}",
        "-timeout=10",
        "-rss_limit_mb=2048",
        "-max_len=65536",
        f"-artifact_prefix={work}/",
    ]
    rc = process.run(args, capture=False, echo=True).returncode
    if rc != 0:
        report(work, "libFuzzer")
    return rc


ATHERIS_HARNESS = r"""
import os
import sys

import atheris
from envpool import _vizdoom

PATH = os.environ["FUZZ_WAD_FILE"]

def one(data: bytes) -> None:
    with open(PATH, "wb") as f:
        f.write(data)
    try:
        _vizdoom.read_wad(PATH)
    except ValueError:
        pass

atheris.Setup(sys.argv, one)
atheris.Fuzz()
"""


def run_atheris(seconds: int, seeds: Path, work: Path) -> int:
    """Run atheris on the installed envpool._vizdoom.read_wad; return its exit code."""
    try:
        import atheris  # noqa: F401
    except ImportError:
        raise SystemExit("atheris is not installed: pip install atheris (or install clang++ for libFuzzer)") from None
    harness = work / "harness.py"
    harness.write_text(ATHERIS_HARNESS)
    live = work / "corpus"
    live.mkdir(exist_ok=True)
    args = [
        sys.executable,
        str(harness),
        str(live),
        str(seeds),
        f"-max_total_time={seconds}",
        "-timeout=10",
        "-rss_limit_mb=2048",
        "-max_len=65536",
        f"-artifact_prefix={work}/",
    ]
    rc = process.run(args, capture=False, echo=True, extra_env={"FUZZ_WAD_FILE": str(work / "input.wad")}).returncode
    if rc != 0:
        report(work, "atheris")
    return rc


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--engine", choices=["auto", "libfuzzer", "atheris"], default="auto")
    parser.add_argument("--cxx", default=os.environ.get("FUZZ_CXX", "clang++"))
    parser.add_argument("--seeds", nargs="*", type=Path, default=[], help="extra seed files (e.g. scenario WADs)")
    parser.add_argument("--keep", type=Path, default=None, help="work directory to keep (default: a temp dir)")
    args = parser.parse_args(argv)
    engine = args.engine
    if engine == "auto":
        engine = "libfuzzer" if shutil.which(args.cxx) else "atheris"
    with tempfile.TemporaryDirectory(prefix="fuzz_wad_") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        seeds = seed_dir(work / "seeds", args.seeds)
        print(f"fuzz_wad: engine {engine}, {args.seconds} s, seeds in {seeds}", flush=True)
        if engine == "libfuzzer":
            if shutil.which(args.cxx) is None:
                raise SystemExit(f"{args.cxx} not found: apt-get install clang, or use --engine atheris")
            return run_libfuzzer(args.cxx, args.seconds, seeds, work)
        return run_atheris(args.seconds, seeds, work)


if __name__ == "__main__":
    raise SystemExit(main())
