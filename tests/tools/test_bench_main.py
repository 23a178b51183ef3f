"""``python -m tools.bench``'s outcome: a failed section is written and fails the run, the others still count.

The sections are replaced by fakes: nothing is built, installed or measured.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import tools.bench.__main__ as bench
from tools.bench import build_time, footprint, startup
from tools.release.release_set import version

if TYPE_CHECKING:
    from collections.abc import Callable

FOOTPRINT: dict[str, Any] = {"subjects": [], "skipped": [], "repeats": 1, "commands": []}


def _throughput(errors: list[str], family_error: str | None) -> dict[str, Any]:
    return {
        "rows": [],
        "errors": errors,
        "families": {
            "num_envs": 8,
            "mode": "sync",
            "rows": [{"family": "vizdoom", "task": "DoomNav-MyWayHome-v0", "sps": None, "error": family_error}],
        },
        "rounds": 1,
        "seconds": 0.1,
        "subjects": ["ours", "peer"],
        "commands": [],
    }


def _fail(exc: Exception) -> Callable[..., dict[str, Any]]:
    def section(*_: object) -> dict[str, Any]:
        raise exc

    return section


@pytest.fixture
def run_bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[int, str, Path]]:
    """Run ``main`` on fake sections: returns the exit code, stderr, and the written doc's path."""
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    (wheelhouse / f"envpool-{version()}-cp311-cp311-linux_x86_64.whl").write_bytes(b"")
    monkeypatch.setattr(bench, "RESULTS", tmp_path / "results.json")
    monkeypatch.setattr(bench.chart, "draw", lambda results, out: None)
    monkeypatch.setattr(bench, "_ours_venv", lambda args, fresh: Path("/nowhere/ours"))
    monkeypatch.setattr(bench, "_peer_venv", lambda args, fresh: Path("/nowhere/peer"))

    def run(capsys: pytest.CaptureFixture[str], **fakes: Callable[..., dict[str, Any]]) -> tuple[int, str, Path]:
        targets = {"build": build_time, "footprint": footprint, "startup": startup}
        for name, fake in fakes.items():
            if name == "throughput":
                monkeypatch.setattr(bench, "_throughput", fake)
            else:
                monkeypatch.setattr(targets[name], "run_section", fake)
        out = tmp_path / "benchmarks.md"
        argv = ["--wheelhouse", str(wheelhouse), "--sections", ",".join(fakes), "--out", str(out)]
        argv += ["--chart", str(tmp_path / "chart.png")]
        code = bench.main(argv)
        return code, capsys.readouterr().err, out

    return run


def test_a_failed_section_fails_the_run_after_writing_the_others(
    run_bench: Callable[..., tuple[int, str, Path]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, err, out = run_bench(
        capsys,
        build=_fail(RuntimeError("clean build broke")),
        footprint=lambda *_: dict(FOOTPRINT),
        throughput=lambda *_: _throughput(["ours sync-8: exit 1: Segmentation fault"], None),
    )
    assert code == 1
    assert "failed sections: build, throughput" in err
    assert "section throughput failed: ours sync-8: exit 1: Segmentation fault" in err
    doc = out.read_text(encoding="utf-8")
    assert "## 1. Footprint" in doc  # what succeeded is written
    assert "**Failed:** `RuntimeError: clean build broke`" in doc
    saved = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert set(saved["sections"]) == {"build", "footprint", "throughput"}


def test_any_exception_is_a_failed_section_not_a_crash(
    run_bench: Callable[..., tuple[int, str, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    code, err, out = run_bench(capsys, footprint=lambda *_: dict(FOOTPRINT), startup=_fail(TypeError("bug")))
    assert code == 1
    assert "failed sections: startup" in err
    assert "Traceback" in err  # the traceback names the bug
    assert "**Failed:** `TypeError: bug`" in out.read_text(encoding="utf-8")


def test_a_family_probe_failing_fails_the_run(
    run_bench: Callable[..., tuple[int, str, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    code, err, _ = run_bench(capsys, throughput=lambda *_: _throughput([], "exit -11: "))
    assert code == 1
    assert "section throughput failed: family vizdoom (`DoomNav-MyWayHome-v0`): exit -11" in err


def test_a_family_without_its_extra_is_a_skip_and_the_run_succeeds(
    run_bench: Callable[..., tuple[int, str, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    missing = "MissingExtraError: DoomNav-MyWayHome-v0 needs the vizdoom extra"
    code, err, out = run_bench(
        capsys, footprint=lambda *_: dict(FOOTPRINT), throughput=lambda *_: _throughput([], missing)
    )
    assert code == 0, err
    assert "failed" not in err
    assert "Skipped (extra not installed or failed): vizdoom" in out.read_text(encoding="utf-8")


def test_failures_per_section() -> None:
    sections = {
        "build": {"error": "RuntimeError: x", "machine": {}},
        "footprint": dict(FOOTPRINT),
        "throughput": _throughput(["a", "b"], "MissingExtraError: y"),
    }
    assert bench.failures(sections) == {"build": ["RuntimeError: x"], "throughput": ["a", "b"]}
