"""tools.release.emulated (nox -s tests_aarch64) before it touches a root: skip, fail with the fix, wheelhouse check."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tools.release import emulated, emulation, release_set

if TYPE_CHECKING:
    from pathlib import Path

V = release_set.version()
X86 = [
    f"envpool-{V}-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    f"envpool_procgen_libs-{V}-py3-none-manylinux_2_28_x86_64.whl",
]
ARM = [
    f"envpool-{V}-cp311-cp311-manylinux_2_28_aarch64.whl",
    f"envpool_procgen_libs-{V}-py3-none-manylinux_2_31_aarch64.whl",
]
PURE = [f"envpool_assets_vizdoom-{V}-py3-none-any.whl", f"envpool_assets_robotics-{V}-py3-none-any.whl"]


def _wheelhouse(tmp_path: Path, names: list[str]) -> Path:
    for name in names:
        (tmp_path / name).write_bytes(b"")
    return tmp_path


def test_both_sets_present(tmp_path: Path) -> None:
    emulated.check_wheelhouse(_wheelhouse(tmp_path, X86 + ARM + PURE), (3, 11))


def test_no_aarch64_set_names_the_build_command(tmp_path: Path) -> None:
    with pytest.raises(emulated.Failed, match=r"no envpool .* cp311 aarch64.*run nox -s build -- --arch aarch64 first"):
        emulated.check_wheelhouse(_wheelhouse(tmp_path, X86 + PURE), (3, 11))


def test_an_x86_64_library_wheel_does_not_count_for_aarch64(tmp_path: Path) -> None:
    missing = emulated.missing_wheels(_wheelhouse(tmp_path, [*X86, ARM[0], *PURE]), release_set.AARCH64, (3, 11))
    assert missing == [f"envpool-procgen-libs {V} (aarch64 or pure)"]


def test_only_an_abi3_core_for_cpython_311_is_missing(tmp_path: Path) -> None:
    abi3 = f"envpool-{V}-cp312-abi3-manylinux_2_28_aarch64.whl"
    missing = emulated.missing_wheels(_wheelhouse(tmp_path, [abi3, ARM[1], *PURE]), release_set.AARCH64, (3, 11))
    assert missing == [f"envpool {V} cp311 aarch64"]


def test_unavailable_emulation_skips_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def unavailable(*_: object) -> emulation.Emulation:
        raise emulation.EmulationUnavailable("this kernel has no binfmt_misc (/proc/sys/fs/binfmt_misc does not exist)")

    monkeypatch.setattr(emulation, "ensure", unavailable)
    skip = tmp_path / "skipped"
    assert emulated.main(["--skip-file", str(skip), "--wheelhouse", str(tmp_path)]) == 0
    assert (
        "SKIPPED: aarch64 emulation is unavailable on this machine: this kernel has no binfmt_misc"
        in capsys.readouterr().out
    )
    assert skip.read_text().endswith("(/proc/sys/fs/binfmt_misc does not exist)")


def test_a_missing_emulator_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def missing(*_: object) -> emulation.Emulation:
        raise emulation.EmulationError("qemu-aarch64-static is not installed: apt-get install qemu-user-static")

    monkeypatch.setattr(emulation, "ensure", missing)
    skip = tmp_path / "skipped"
    assert emulated.main(["--skip-file", str(skip), "--wheelhouse", str(tmp_path)]) == 1
    assert "apt-get install qemu-user-static" in capsys.readouterr().err and not skip.exists()


def test_a_wheelhouse_without_the_aarch64_set_fails_before_any_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(emulation, "ensure", lambda *_: emulation.Emulation(release_set.AARCH64, None, None, False))
    monkeypatch.setattr(emulated.minimal_root, "ensure_root", lambda *a, **k: pytest.fail("no root may be built"))
    assert emulated.main(["--wheelhouse", str(_wheelhouse(tmp_path, X86 + PURE))]) == 1
    assert "nox -s build -- --arch aarch64" in capsys.readouterr().out
