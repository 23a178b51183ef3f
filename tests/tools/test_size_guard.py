"""The size guard fails loudly on a budget breach, an unknown artifact, or PyPI's limit."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from tools.release import size_guard
from tools.release.release_set import MB, PYPI_FILE_LIMIT


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
