"""tools.release.abi_record: one library ABI record per architecture, each core wheel carries its own."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from tools.common.distfile import write_wheel
from tools.release import abi_record, release_set

if TYPE_CHECKING:
    from pathlib import Path

LIBRARY = release_set.package_of_kind("library")


def _library(out: Path, arch: release_set.Arch, fingerprint: str) -> Path:
    manifest = {"version": release_set.version(), "abi": {"fingerprint": fingerprint, "sonames": ["libQt5Core.so.5"]}}
    files = {f"{LIBRARY.import_name}/_manifest.json": json.dumps(manifest).encode()}
    meta = f"Metadata-Version: 2.1\nName: {LIBRARY.distribution}\nVersion: {release_set.version()}\n"
    tag = f"py3-none-manylinux_2_28_{arch.machine}"
    return write_wheel(out, LIBRARY.distribution, release_set.version(), files, metadata=meta, tag=tag)


def test_one_record_per_architecture(tmp_path: Path) -> None:
    out, core = tmp_path / "wheelhouse", tmp_path / "core"
    out.mkdir()
    core.mkdir()
    for n, arch in enumerate(release_set.ARCHES):
        _library(out, arch, f"sha256:{n}")
    abi_record.record(core, out, [a.machine for a in release_set.ARCHES])
    records = json.loads((core / abi_record.RECORD).read_text())
    assert sorted(records) == sorted(a.machine for a in release_set.ARCHES)
    for n, arch in enumerate(release_set.ARCHES):
        assert records[arch.machine]["fingerprint"] == f"sha256:{n}"
        assert records[arch.machine]["source"] == "wheel"


def test_a_missing_architecture_names_the_build(tmp_path: Path) -> None:
    out = tmp_path / "wheelhouse"
    out.mkdir()
    _library(out, release_set.X86_64, "sha256:x")
    with pytest.raises(abi_record.AbiRecordError, match="nox -s build -- packages/procgen-libs --arch aarch64"):
        abi_record.record(tmp_path, out, ["x86_64", "aarch64"])
    # the x86_64 core alone is fine
    abi_record.record(tmp_path, out, ["x86_64"])


def test_two_wheels_of_one_architecture_are_refused(tmp_path: Path) -> None:
    out = tmp_path / "wheelhouse"
    out.mkdir()
    first = _library(out, release_set.AARCH64, "sha256:a")
    first.rename(first.with_name(first.name.replace("manylinux_2_28", "manylinux_2_31")))
    _library(out, release_set.AARCH64, "sha256:b")
    with pytest.raises(abi_record.AbiRecordError, match=r"two .* wheels for aarch64: remove the stale one"):
        abi_record.record(tmp_path, out, ["aarch64"])
