"""tools.release.bump: validates, rewrites VERSION only, reports drift; the checker then fails on old wheels."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools import REPO
from tools.release import bump, check_release, release_set

_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def metadata_copy(tmp_path: Path) -> Path:
    """A temporary copy of the release metadata: VERSION and every package's pyproject + VERSION link."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy2(release_set.VERSION_FILE, root / "VERSION")
    for p in release_set.present():
        dst = root / p.directory
        dst.mkdir(parents=True)
        shutil.copy2(p.path / "pyproject.toml", dst / "pyproject.toml")
        (dst / "VERSION").symlink_to(Path("../../VERSION"))
    return root


def next_version(current: str) -> str:
    """A version newer than ``current`` in X.Y.Z form."""
    major, minor, *_ = current.split(".")
    return f"{major}.{int(minor) + 1}.0"


def test_bump_rewrites_version_only(metadata_copy: Path) -> None:
    old = (metadata_copy / "VERSION").read_text().strip()
    new = next_version(old)
    before = {p: p.read_bytes() for p in metadata_copy.rglob("pyproject.toml")}
    assert bump.main([new, "--root", str(metadata_copy)]) == 0
    assert (metadata_copy / "VERSION").read_text() == new + "\n"
    for p in release_set.present():
        assert (metadata_copy / p.directory / "VERSION").read_text().strip() == new  # the links follow
    assert {p: p.read_bytes() for p in metadata_copy.rglob("pyproject.toml")} == before


@pytest.mark.parametrize(
    ("bad", "why"),
    [("banana", "not a PEP 440"), ("0.2.0.0.0x", "not a PEP 440"), ("00.2.0", "canonical"), ("0.0.1", "not newer")],
)
def test_bump_rejects_bad_versions(metadata_copy: Path, bad: str, why: str, capsys: pytest.CaptureFixture[str]) -> None:
    old = (metadata_copy / "VERSION").read_text()
    assert bump.main([bad, "--root", str(metadata_copy)]) == 1
    assert why in capsys.readouterr().err
    assert (metadata_copy / "VERSION").read_text() == old


def test_bump_rejects_version_the_core_regex_cannot_read(metadata_copy: Path) -> None:
    if bump.version_regex(metadata_copy) is None:
        pytest.skip("packages/core/pyproject.toml has no metadata.version.regex")
    with pytest.raises(bump.BumpError, match=r"metadata\.version\.regex"):
        bump.validate("7!1.0.0", (metadata_copy / "VERSION").read_text().strip(), metadata_copy)  # epoch: dropped


def test_bump_reports_drift_and_changes_nothing(metadata_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = (metadata_copy / "VERSION").read_text().strip()
    stray = metadata_copy / "packages" / "core" / "src" / "envpool" / "_hardcoded.py"
    stray.parent.mkdir(parents=True, exist_ok=True)
    stray.write_text(f'__version__ = "{old}"\n')
    (metadata_copy / "notes.txt").write_text(f"libfoo.so.1{old} and 1{old} are other numbers\n")
    assert bump.main([next_version(old), "--root", str(metadata_copy)]) == 1
    err = capsys.readouterr().err
    assert "drift" in err
    assert f'packages/core/src/envpool/_hardcoded.py:1: __version__ = "{old}"' in err
    assert "notes.txt" not in err  # longer numbers that merely contain the version are not drift
    assert (metadata_copy / "VERSION").read_text().strip() == old


def test_repository_has_no_drift() -> None:
    hits = bump.find_drift(REPO, release_set.version())
    assert not hits, "\n".join(map(str, hits))


def test_checker_fails_on_old_wheels_after_bump(
    metadata_copy: Path,
    good_set,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    old = (metadata_copy / "VERSION").read_text().strip()
    assert good_set.version == old
    new = next_version(old)
    version_file = str(metadata_copy / "VERSION")
    only = ["--only", "version", "--only", "sibling-pins"]
    assert check_release.main([str(good_set.wheelhouse), "--version-file", version_file, *only]) == 0
    capsys.readouterr()
    assert bump.main([new, "--root", str(metadata_copy)]) == 0
    assert check_release.main([str(good_set.wheelhouse), "--version-file", version_file, *only]) == 1
    out = capsys.readouterr().out
    assert f"FAIL version {good_set.core_wheel.name}: file name says {old}" in out
    assert f"FAIL version {good_set.data_sdist.name}" in out
    assert f"FAIL sibling-pins {good_set.core_wheel.name}" in out
    assert f"expected '=={new}'" in out


def test_module_entry_point_dry_run(metadata_copy: Path) -> None:
    old = (metadata_copy / "VERSION").read_text()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.release.bump",
            next_version(old.strip()),
            "--root",
            str(metadata_copy),
            "--dry-run",
        ],
        cwd=_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "would bump" in proc.stdout
    assert (metadata_copy / "VERSION").read_text() == old
