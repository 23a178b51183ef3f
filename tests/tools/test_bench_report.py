"""tools.bench's table rendering, ratios, verdicts and matrix arithmetic, on synthetic results."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pytest

from tools.bench import footprint, markdown, release_bytes, report, sections, throughput, verdicts
from tools.bench.common import cpu_model
from tools.bench.stats import fmt_bytes, summarize
from tools.bench.venvs import parse_report
from tools.release.release_set import CORE_MATRIX

if TYPE_CHECKING:
    from pathlib import Path


def _fp_subject(key: str, project: int, third: int, site: int, install: list[float]) -> dict[str, Any]:
    return {
        "key": key,
        "label": key,
        "requirements": [f"{key}==1"],
        "ours": key.startswith("ours"),
        "files": [
            {"name": "envpool", "version": "1", "file": f"{key}.whl", "bytes": project, "project": True},
            {"name": "numpy", "version": "2", "file": "numpy.whl", "bytes": third, "project": False},
        ],
        "download_bytes": project + third,
        "project_bytes": project,
        "thirdparty_bytes": third,
        "site_packages_bytes": site,
        "install_s": summarize(install).to_dict(),
        "venv": "/nowhere",
    }


def _throughput_row(n: int, mode: str, ours: list[float], peer: list[float]) -> dict[str, Any]:
    return {
        "num_envs": n,
        "mode": mode,
        "batch_size": n if mode == "sync" else n // 2,
        "sps": {"ours": summarize(ours).to_dict(), "peer": summarize(peer).to_dict()},
        "raw": {"ours": ours, "peer": peer},
        "ratios": {"peer": summarize([a / b for a, b in zip(ours, peer, strict=True)]).to_dict()},
    }


@pytest.fixture
def results() -> dict[str, Any]:
    machine = {"cores": 2, "cpu": "Test CPU", "kernel": "6.1", "machine": "x86_64", "python": "3.11", "date": "d"}
    return {
        "sections": {
            "footprint": {
                "machine": machine,
                "quick": True,
                "repeats": 1,
                "skipped": [],
                "commands": ["pip install envpool"],
                "subjects": [
                    _fp_subject("ours-core", 100_000, 17_000_000, 80_000_000, [5.0]),
                    _fp_subject("peer-envpool", 300_000_000, 40_000_000, 950_000_000, [30.0]),
                ],
            },
            "throughput": {
                "machine": machine,
                "quick": True,
                "rounds": 3,
                "seconds": 1.0,
                "subjects": ["ours", "peer"],
                "errors": [],
                "commands": [],
                "rows": [
                    _throughput_row(1, "sync", [20.0, 22.0, 24.0], [10.0, 10.0, 10.0]),
                    _throughput_row(8, "sync", [9.0, 11.0, 9.5], [10.0, 10.0, 10.0]),
                    _throughput_row(64, "sync", [5.0, 5.0, 5.0], [10.0, 10.0, 10.0]),
                ],
            },
        }
    }


def test_table_renders_and_escapes_pipes() -> None:
    out = markdown.table(["a", "b"], [["1", "x|y"]])
    assert out.splitlines() == ["| a | b |", "|---|---|", "| 1 | x\\|y |"]


def test_ratio_handles_missing_values() -> None:
    assert markdown.ratio(10.0, 4.0) == 2.5
    assert math.isnan(markdown.ratio(1.0, 0.0))
    assert math.isnan(markdown.ratio(None, 1.0))


def test_footprint_ratios(results: dict[str, Any]) -> None:
    r = sections.footprint_ratios(results["sections"]["footprint"])
    assert r["download"] == pytest.approx(340_000_000 / 17_100_000)
    assert r["project"] == pytest.approx(3000.0)
    assert r["install"] == pytest.approx(6.0)


def test_targets_give_verdicts_and_reasons(results: dict[str, Any]) -> None:
    rows = {row[0]: row for row in verdicts.targets(results)}
    total = rows["core-only download >= 100x smaller (all wheels)"]
    assert total[2] == "short"
    assert "numpy 17.0 MB" in total[3]
    assert rows["core-only download >= 100x smaller (envpool's own wheels)"][2] == "met"
    assert rows["CartPole sync 1 env: ours >= envpool 1.2.5 (ahead at 1 env)"][2] == "met"
    eight = rows["CartPole sync 8 envs: ours >= envpool 1.2.5"]
    assert eight[2] == "short"
    assert "noise" in eight[3]
    sixty_four = rows["CartPole sync 64 envs: ours >= envpool 1.2.5"]
    assert sixty_four[2:] == ["short", "slower in every round"]


@pytest.mark.parametrize(
    ("libs", "third", "expected"),
    [(11_300_000, 40_000_000, ["met", "met"]), (12_500_000, 43_000_000, ["short", "short"])],
)
def test_size_targets_of_issue_13(results: dict[str, Any], libs: int, third: int, expected: list[str]) -> None:
    everything = _fp_subject("ours-all", 1_200_000, third, 180_000_000, [4.0])
    everything["files"].append(
        {"name": "envpool_procgen_libs", "version": "1", "file": "libs.whl", "bytes": libs, "project": True}
    )
    everything["download_bytes"] += libs
    results["sections"]["footprint"]["subjects"].append(everything)
    rows = {row[0]: row for row in verdicts.targets(results)}
    assert rows["`envpool[all]` download < 55.0 MB"][2] == expected[0]
    assert rows["envpool-procgen-libs <= 12.0 MB"][1:3] == [fmt_bytes(libs), expected[1]]


def test_headlines_and_render(results: dict[str, Any]) -> None:
    heads = verdicts.headlines(results)
    assert any("19.9x smaller" in h for h in heads)
    assert any("1 env 2.20x, 8 envs 0.95x, 64 envs 0.50x" in h for h in heads)
    doc = report.render(results)
    assert "Quick run" in doc
    assert "Test CPU" in doc
    assert "## 3. Start-up" not in doc
    assert "python -m tools.bench --sections startup" in doc


def test_configs_are_sync_everywhere_and_async_above_one_env() -> None:
    keys = [(c.num_envs, c.mode, c.batch_size) for c in throughput.configs()]
    assert keys == [(1, "sync", 1), (8, "sync", 8), (64, "sync", 64), (8, "async", 4), (64, "async", 32)]


def test_cpu_model() -> None:
    assert cpu_model("processor\t: 0\nmodel name\t: AMD EPYC 7B13\n") == "AMD EPYC 7B13"
    assert cpu_model("") == "unknown"


def test_project_files_are_envpool_distributions() -> None:
    assert footprint.is_project_file("envpool")
    assert footprint.is_project_file("envpool_assets_mujoco_large")
    assert not footprint.is_project_file("envpoolx")
    assert not footprint.is_project_file("mujoco-core")


def test_parse_report_reads_local_files_and_refuses_remote() -> None:
    item = {"metadata": {"name": "numpy", "version": "2.4.6"}, "download_info": {"url": "file:///c/numpy%2B1.whl"}}
    (f,) = parse_report({"install": [item]})
    assert (f.name, f.version, str(f.path)) == ("numpy", "2.4.6", "/c/numpy+1.whl")
    item["download_info"] = {"url": "https://files.example/numpy.whl"}
    with pytest.raises(RuntimeError, match="not from the local cache"):
        parse_report({"install": [item]})


def test_our_release_set_is_the_wheelhouse_with_nothing_estimated(tmp_path: Path) -> None:
    ver = release_bytes.version()
    names = [f"envpool-{ver}-{e.tag.replace('cp311', 'cp311-cp311')}-manylinux_2_17_x86_64.whl" for e in CORE_MATRIX]
    for n in [*names, f"envpool-{ver}.tar.gz", "envpool-0.0.0.tar.gz"]:
        (tmp_path / n).write_bytes(b"x" * 10)
    data = release_bytes.ours(tmp_path)
    assert sorted(a["filename"] for a in data["artifacts"]) == sorted([*names, f"envpool-{ver}.tar.gz"])
    assert data["estimated"] == 0 and data["total_bytes"] == 30
    assert set(data["missing"]) == {p.distribution for p in release_bytes.PACKAGES if p.extra}


def test_linux_part_of_a_release() -> None:
    assert release_bytes.is_linux_matrix_file("envpool-1.2.5-cp311-cp311-manylinux_2_28_aarch64.whl")
    assert release_bytes.is_linux_matrix_file("envpool_assets-0.3.0-py3-none-any.whl")
    assert not release_bytes.is_linux_matrix_file("envpool-1.2.5-cp311-cp311-win_amd64.whl")
    assert not release_bytes.is_linux_matrix_file("envpool-1.2.5-cp311-cp311-macosx_11_0_arm64.whl")


def test_a_failed_section_is_reported_not_dropped(results: dict[str, Any]) -> None:
    results["sections"]["startup"] = {"error": "RuntimeError: probe crashed", "machine": {}, "quick": False}
    doc = report.render(results)
    assert "## startup" in doc
    assert "**Failed:** `RuntimeError: probe crashed`" in doc
    assert all("import" not in row[0] for row in verdicts.targets(results))


def test_command_line_overrides_the_quick_and_full_defaults() -> None:
    from tools.bench.__main__ import FULL, QUICK, parse_args, resolve_params

    assert resolve_params(parse_args(["--quick"])) == QUICK
    assert resolve_params(parse_args([])) == FULL
    p = resolve_params(parse_args(["--quick", "--rounds", "1", "--seconds", "0.2"]))
    assert (p.rounds, p.seconds, p.startup_rounds) == (1, 0.2, QUICK.startup_rounds)
