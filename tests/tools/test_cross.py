"""tools.release.cross: the aarch64 core's build inputs, and the errors that name the fix when they are wrong."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tools.release import cross, release_set

if TYPE_CHECKING:
    from pathlib import Path

AARCH64 = release_set.AARCH64


def _lock(tmp_path: Path, arch: str, filename: str) -> Path:
    entry = {
        "source": "debian",
        "suite": "bookworm",
        "name": "libpython3.11-dev",
        "version": "1",
        "path": f"pool/main/p/python3.11/{filename}",
        "sha256": "0" * 64,
        "size": 1,
        "license": "PSF-2.0",
    }
    lock = tmp_path / f"cross.{arch}.lock.json"
    lock.write_text(json.dumps({"arch": arch, "artifacts": [entry]}))
    return lock


def test_the_lock_of_another_architecture_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cross, "lock_path", lambda arch: _lock(tmp_path, "x86_64", "x_arm64.deb"))
    monkeypatch.setattr(cross, "SYSROOTS", tmp_path / "sysroots")
    with pytest.raises(cross.CrossError, match="is the lock of x86_64, not of aarch64: fix its 'arch' field"):
        cross.sysroot(AARCH64)


def test_a_package_of_another_architecture_in_the_lock_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cross, "lock_path", lambda arch: _lock(tmp_path, "aarch64", "libpython3.11-dev_1_amd64.deb"))
    monkeypatch.setattr(cross, "SYSROOTS", tmp_path / "sysroots")
    monkeypatch.setattr(cross, "fetch_upstream", lambda *a: pytest.fail("nothing may be fetched"))
    with pytest.raises(cross.CrossError, match="is not a Debian package for arm64; lock the arm64 build"):
        cross.sysroot(AARCH64)
    assert not list((tmp_path / "sysroots").rglob("*.h"))


def test_the_locked_headers_are_the_target_architectures() -> None:
    """The real lock: Debian arm64 packages only, of the interpreters of the aarch64 matrix and Qt."""
    locked, artifacts = cross.load_lock(cross.lock_path(AARCH64))
    assert locked == AARCH64.machine
    assert all(a.filename.endswith(f"_{AARCH64.debian}.deb") for a in artifacts)
    names = {a.name for a in artifacts}
    assert {f"libpython{e.python}-dev" for e in AARCH64.matrix} | {"qtbase5-dev"} <= names


def test_a_missing_library_wheel_names_the_build(tmp_path: Path) -> None:
    with pytest.raises(cross.CrossError, match="nox -s build -- --arch aarch64"):
        cross.library_wheel(tmp_path, AARCH64)


def test_qt_headers_of_another_release_than_the_library_wheel_stop_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cross, "sysroot", lambda arch: tmp_path)
    monkeypatch.setattr(cross, "python_include", lambda root, arch, python: tmp_path)
    monkeypatch.setattr(cross, "qt_include", lambda root, arch: (tmp_path, "5.15.2"))
    monkeypatch.setattr(cross, "qt_libraries", lambda out, arch, dest: (dest, "5.15.3"))
    with pytest.raises(
        cross.CrossError, match=r"Qt 5\.15\.2 headers, but the aarch64 library wheel carries Qt 5\.15\.3"
    ):
        cross.settings(AARCH64, AARCH64.matrix[0], tmp_path / "python", tmp_path, tmp_path / "work")


def test_extension_suffixes() -> None:
    cp311, abi3 = AARCH64.matrix
    assert cross.ext_suffix(AARCH64, cp311) == ".cpython-311-aarch64-linux-gnu.so"
    assert cross.ext_suffix(AARCH64, abi3) == ".abi3.so"
