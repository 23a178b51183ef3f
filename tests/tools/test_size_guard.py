"""The size guard fails loudly on a budget breach, an unknown artifact, or PyPI's limit."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from tools.release import size_guard
from tools.release.release_set import ARCHES, MB, PYPI_FILE_LIMIT


def _wheel(directory: Path, name: str, payload: int) -> Path:
    path = directory / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("pkg/big.bin", os.urandom(payload))  # incompressible: the file is at least this big
        zf.writestr("pkg/__init__.py", "")
    return path


def test_within_budget_passes_and_writes_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _wheel(tmp_path, "envpool-0.0.1-py3-none-any.whl", 100_000)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert size_guard.check(tmp_path) == 0
    out = capsys.readouterr().out
    assert "envpool-0.0.1-py3-none-any.whl" in out and "big.bin" in out and "| ok |" in out
    assert "## Release set sizes" in summary.read_text()


def test_budget_breach_names_the_offender(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _wheel(tmp_path, "envpool-0.0.1-py3-none-any.whl", 3 * MB + 1)  # the core's budget is 3 MB
    _wheel(tmp_path, "envpool_assets_robotics-0.0.1-py3-none-any.whl", 1000)
    assert size_guard.check(tmp_path) == 1
    err = capsys.readouterr().err
    assert "envpool-0.0.1-py3-none-any.whl" in err and "exceeds its budget of 3,000,000" in err
    assert "robotics" not in err


def test_artifact_without_budget_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _wheel(tmp_path, "stranger-1.0-py3-none-any.whl", 10)
    assert size_guard.check(tmp_path) == 1
    assert "no budget declared" in capsys.readouterr().err


def test_pypi_limit_is_checked_even_within_budget() -> None:
    row = size_guard.Row("envpool_procgen_libs-0-py3-none-any.whl", PYPI_FILE_LIMIT, 200 * MB, [])
    assert any("not below PyPI's" in p for p in row.problems)


def test_empty_wheelhouse_is_an_error(tmp_path: Path) -> None:
    assert size_guard.check(tmp_path) == 1


def _two_arch_set(directory: Path) -> dict[str, Path]:
    """A core wheel and a library wheel per architecture, and a pure data wheel both share."""
    found = {"data": _wheel(directory, "envpool_assets_vizdoom-0.0.1-py3-none-any.whl", 3000)}
    for size, arch in enumerate(ARCHES, start=1):
        found[f"core-{arch.machine}"] = _wheel(
            directory, f"envpool-0.0.1-cp311-cp311-manylinux_2_28_{arch.machine}.whl", 1000 * size
        )
        found[f"lib-{arch.machine}"] = _wheel(
            directory, f"envpool_procgen_libs-0.0.1-py3-none-manylinux_2_28_{arch.machine}.whl", 100 * size
        )
    return found


def test_the_table_groups_by_architecture_and_totals_each(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wheels = _two_arch_set(tmp_path)
    assert size_guard.check(tmp_path) == 0
    out = capsys.readouterr().out
    rows = [ln for ln in out.splitlines() if ln.startswith("| ") and ".whl" in ln]
    assert [ln.split(" | ")[0].removeprefix("| ") for ln in rows] == ["x86_64", "x86_64", "aarch64", "aarch64", "any"]
    for arch in ARCHES:
        own = [wheels[f"core-{arch.machine}"], wheels[f"lib-{arch.machine}"]]
        download = sum(p.stat().st_size for p in [*own, wheels["data"]])
        line = next(ln for ln in out.splitlines() if ln.startswith(f"size guard: {arch.machine}: "))
        assert f"2 artifacts, {sum(p.stat().st_size for p in own):,} bytes" in line, line
        assert f'pip install "envpool[all]" downloads {download:,} bytes' in line, line
        assert "3 wheels" in line, line
    assert "size guard: any (shared by every architecture): 1 artifacts" in out


def test_an_aarch64_artifact_is_held_to_the_same_budget(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _two_arch_set(tmp_path)
    name = "envpool-0.0.1-cp312-abi3-manylinux_2_28_aarch64.whl"
    _wheel(tmp_path, name, 3 * MB + 1)  # the core's budget is 3 MB, on every architecture
    assert size_guard.check(tmp_path) == 1
    err = capsys.readouterr().err
    assert f"{name}: " in err and "exceeds its budget of 3,000,000" in err
    assert "x86_64.whl" not in err


def test_an_architecture_without_artifacts_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _wheel(tmp_path, "envpool-0.0.1-cp311-cp311-manylinux_2_28_x86_64.whl", 1000)
    assert size_guard.check(tmp_path) == 0
    out = capsys.readouterr().out
    assert "size guard: aarch64: no artifact in this wheelhouse" in out
