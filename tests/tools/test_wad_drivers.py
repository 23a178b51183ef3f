"""The WAD sanitizer and fuzz drivers (tools.wad.sanitize, tools.wad.fuzz): arguments, corpus, verdicts.

Fake compilers and fake drivers (small Python scripts) stand in for g++/clang++ and the sanitized
binaries, so the driver logic is tested in seconds; ``nox -s sanitize`` runs the real build.
"""

from __future__ import annotations

import json
import re
import stat
import sys
from typing import TYPE_CHECKING

import pytest

from tools.wad import fuzz, sanitize

if TYPE_CHECKING:
    from pathlib import Path

MANIFEST: dict[str, str] = json.loads((sanitize.CORPUS / "manifest.json").read_text())

#: A stand-in compiler: records its arguments, then writes the driver named by FAKE_DRIVER at -o
#: (or fails like a compiler without the sanitizer runtimes when FAKE_CXX_FAIL is set).
FAKE_CXX = """
import json, os, shutil, sys
with open(os.environ["FAKE_LOG"], "a") as f:
    f.write(json.dumps({"tool": "cxx", "argv": sys.argv[1:]}) + "\\n")
if os.environ.get("FAKE_CXX_FAIL"):
    print("/usr/bin/ld: cannot find -lasan: No such file or directory", file=sys.stderr)
    sys.exit(1)
out = sys.argv[sys.argv.index("-o") + 1]
shutil.copy(os.environ["FAKE_DRIVER"], out)
os.chmod(out, 0o755)
"""

#: A stand-in wad_check: one line per file, from FAKE_ANSWERS (file name -> line) or "ok FILE".
FAKE_WAD_CHECK = """
import json, os, sys
with open(os.environ["FAKE_LOG"], "a") as f:
    f.write(json.dumps({"tool": "driver", "argv": sys.argv[1:]}) + "\\n")
answers = json.loads(os.environ.get("FAKE_ANSWERS", "{}"))
for arg in sys.argv[1:]:
    print(answers.get(os.path.basename(arg), "ok " + arg + " maps=1"))
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
"""

#: A stand-in libFuzzer binary: records its arguments; with FAKE_CRASH, leaves a crash input and fails.
FAKE_FUZZER = """
import json, os, sys
with open(os.environ["FAKE_LOG"], "a") as f:
    f.write(json.dumps({"tool": "fuzzer", "argv": sys.argv[1:]}) + "\\n")
if os.environ.get("FAKE_CRASH"):
    prefix = next(a for a in sys.argv if a.startswith("-artifact_prefix="))[len("-artifact_prefix="):]
    with open(prefix + "crash-0123", "wb") as f:
        f.write(b"PWAD")
    sys.exit(77)
"""


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _right_answers() -> dict[str, str]:
    """What a correct reader prints for each bad WAD: a ValueError naming the manifest's lump."""
    return {
        name: f"ValueError {name}: header: bad" if lump == "header" else f"ValueError {name}: lump '{lump}' (#1): bad"
        for name, lump in MANIFEST.items()
    }


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Fake compiler and drivers, with a log of every call (``calls()`` reads it)."""
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("FAKE_LOG", str(log))
    for var in ("FAKE_ANSWERS", "FAKE_EXIT", "FAKE_CRASH", "FAKE_CXX_FAIL"):
        monkeypatch.delenv(var, raising=False)
    return {
        "log": log,
        "cxx": _script(tmp_path / "fake-c++", FAKE_CXX),
        "wad_check": _script(tmp_path / "fake-wad-check", FAKE_WAD_CHECK),
        "fuzzer": _script(tmp_path / "fake-fuzzer", FAKE_FUZZER),
    }


def calls(log: Path, tool: str) -> list[list[str]]:
    """The argument lists of every call of ``tool`` so far."""
    if not log.is_file():
        return []
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    return [r["argv"] for r in rows if r["tool"] == tool]


# ---- the corpus ------------------------------------------------------------------------------------


def test_the_manifest_names_every_bad_wad_and_a_lump() -> None:
    """A corpus file missing from the manifest would never be run."""
    assert set(MANIFEST) == {p.name for p in sanitize.CORPUS.glob("*.wad")}
    assert all(lump for lump in MANIFEST.values())


# ---- tools.wad.sanitize ------------------------------------------------------------------------------


def test_sanitize_runs_the_whole_corpus_then_the_real_wads(
    fakes: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = tmp_path / "real.wad"
    real.write_bytes(b"IWAD")
    monkeypatch.setenv("FAKE_ANSWERS", json.dumps(_right_answers()))
    assert sanitize.check(fakes["wad_check"], [real]) == 0
    corpus_run, real_run = calls(fakes["log"], "driver")
    assert corpus_run == [str(sanitize.CORPUS / name) for name in sorted(MANIFEST)]
    assert real_run == [str(real)]


@pytest.mark.parametrize(
    ("answer", "real_line"),
    [
        pytest.param("ok {name} maps=1", None, id="bad-wad-accepted"),
        pytest.param("ValueError {name}: lump 'NOTTHIS' (#1): bad", None, id="wrong-lump"),
        pytest.param(None, "ValueError real.wad: lump 'MAP01' (#0): bad", id="real-wad-refused"),
    ],
)
def test_sanitize_counts_each_wrong_verdict(
    fakes: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: str | None,
    real_line: str | None,
) -> None:
    answers = _right_answers()
    victim = sorted(MANIFEST)[3]
    if answer is not None:
        answers[victim] = answer.format(name=victim)
    if real_line is not None:
        answers["real.wad"] = real_line
    real = fakes["log"].parent / "real.wad"
    real.write_bytes(b"IWAD")
    monkeypatch.setenv("FAKE_ANSWERS", json.dumps(answers))
    assert sanitize.check(fakes["wad_check"], [real]) == 1
    out = capsys.readouterr().out
    assert f"PROBLEM {real if real_line else victim}" in out
    assert f"{len(MANIFEST)} bad WADs, 1 real WADs, 1 problems" in out


def test_sanitize_stops_on_a_sanitizer_report(fakes: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_EXIT", "1")
    with pytest.raises(SystemExit, match="wad_check failed with exit code 1"):
        sanitize.check(fakes["wad_check"], [])


def test_sanitize_main_builds_with_the_sanitizers_and_exits_by_the_verdict(
    fakes: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_DRIVER", str(fakes["wad_check"]))
    monkeypatch.setenv("FAKE_ANSWERS", json.dumps(_right_answers()))
    argv = ["--cxx", str(fakes["cxx"]), "--build-dir", str(tmp_path / "build")]
    assert sanitize.main(argv) == 0
    (cxx_argv,) = calls(fakes["log"], "cxx")
    assert "-fsanitize=address,undefined" in cxx_argv and "-fno-sanitize-recover=all" in cxx_argv
    assert cxx_argv[cxx_argv.index("-o") + 1] == str(tmp_path / "build" / "wad_check_asan")
    monkeypatch.setenv("FAKE_ANSWERS", "{}")  # every bad WAD accepted
    assert sanitize.main(argv) == 1


def test_sanitize_names_the_fix_for_a_missing_compiler_or_sanitizer(
    fakes: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = re.escape("compiler 'no-such-c++' not found: install g++ (apt-get install g++) or pass --cxx")
    with pytest.raises(SystemExit, match=missing):
        sanitize.main(["--cxx", "no-such-c++"])
    monkeypatch.setenv("FAKE_CXX_FAIL", "1")
    with pytest.raises(SystemExit, match=r"could not build wad_check_asan .*-fsanitize=address,undefined.*--cxx"):
        sanitize.main(["--cxx", str(fakes["cxx"])])


def test_sanitize_refuses_missing_inputs(fakes: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=r"real WAD\(s\) not found: .*nowhere\.wad"):
        sanitize.main(["--cxx", str(fakes["cxx"]), str(tmp_path / "nowhere.wad")])
    with pytest.raises(SystemExit, match=r"lacks freedoom2\.wad"):
        sanitize.main(["--cxx", str(fakes["cxx"]), "--assets", str(tmp_path)])
    assert calls(fakes["log"], "cxx") == []  # refused before compiling anything


# ---- tools.wad.fuzz ----------------------------------------------------------------------------------


def test_fuzz_seeds_are_the_corpus_valid_wads_and_the_extras(tmp_path: Path) -> None:
    extra = tmp_path / "scenario.wad"
    extra.write_bytes(b"PWAD" + bytes(8))
    seeds = fuzz.seed_dir(tmp_path / "seeds", [extra])
    names = {p.name for p in seeds.iterdir()}
    good = {"good_doom.wad", "good_hexen.wad", "good_tex.wad", "good_udmf.wad"}
    assert names == set(MANIFEST) | good | {"seed_scenario.wad"}
    from envpool import _vizdoom  # the valid seeds really are valid: the installed reader parses them

    for name in sorted(good):
        assert _vizdoom.read_wad(str(seeds / name))["kind"] == "PWAD", name


def test_fuzz_runs_libfuzzer_with_the_bounds_and_keeps_a_crash(
    fakes: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FAKE_DRIVER", str(fakes["fuzzer"]))
    work = tmp_path / "work"
    argv = ["--engine", "libfuzzer", "--cxx", str(fakes["cxx"]), "--seconds", "3", "--keep", str(work)]
    assert fuzz.main(argv) == 0
    (cxx_argv,) = calls(fakes["log"], "cxx")
    assert "-DWAD_FUZZER" in cxx_argv and "-fsanitize=fuzzer" in cxx_argv
    (fuzzer_argv,) = calls(fakes["log"], "fuzzer")
    assert fuzzer_argv[:2] == [str(work / "corpus"), str(work / "seeds")]
    assert "-max_total_time=3" in fuzzer_argv and "-timeout=10" in fuzzer_argv
    assert not (tmp_path / "fuzz_wad_artifacts").exists()
    monkeypatch.setenv("FAKE_CRASH", "1")
    assert fuzz.main(argv) == 77
    assert (tmp_path / "fuzz_wad_artifacts" / "crash-0123").read_bytes() == b"PWAD"


def test_fuzz_names_the_fix_for_a_missing_engine(
    fakes: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep = ["--keep", str(tmp_path / "work")]
    with pytest.raises(SystemExit, match="no-clang not found: apt-get install clang, or use --engine atheris"):
        fuzz.main(["--engine", "libfuzzer", "--cxx", "no-clang", *keep])
    monkeypatch.setitem(sys.modules, "atheris", None)  # `import atheris` fails
    with pytest.raises(SystemExit, match=r"atheris is not installed: pip install atheris \(or install clang\+\+"):
        fuzz.main(["--cxx", "no-clang", *keep])  # auto: no clang++, so atheris
    monkeypatch.setenv("FAKE_CXX_FAIL", "1")
    with pytest.raises(SystemExit, match=r"could not build wad_fuzzer .*-fsanitize=fuzzer"):
        fuzz.main(["--engine", "libfuzzer", "--cxx", str(fakes["cxx"]), *keep])
