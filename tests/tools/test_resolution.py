"""tools.release.resolution: which of the set's files pip takes for each architecture, and the rehearsal's proof row.

The proof row runs pip against a real local index (pypiserver, as the rehearsal does) holding a two-architecture
fixture set: the aarch64 download must hold exactly the aarch64 files, and a set whose aarch64 library wheel
is missing (or whose aarch64 core is missing) fails with a message naming what is wrong.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tools.common.distfile import write_wheel
from tools.release import rehearsal, release_set, resolution, thirdparty
from tools.release.local_index import index_server
from tools.release.release_set import AARCH64, ARCHES, X86_64

VERSION = release_set.version()
LIBRARY = release_set.package_of_kind("library")


def _meta(distribution: str, requires: list[str] | None = None) -> str:
    lines = [f"Metadata-Version: 2.4\nName: {distribution}\nVersion: {VERSION}"]
    lines += [f"Requires-Dist: {r}" for r in requires or []]
    return "\n".join(lines) + "\n\n"


def _core_requires() -> list[str]:
    out = []
    for extra, reqs in release_set.optional_dependencies(VERSION).items():
        out += [
            f'{r.split(";")[0]}; ({r.split(";")[1].strip()}) and extra == "{extra}"'
            if ";" in r
            else f'{r}; extra == "{extra}"'
            for r in reqs
        ]
    return out


def two_arch_set(directory: Path) -> dict[str, Path]:
    """Every package of the set: core cp311 + cp312-abi3 and a library wheel per architecture (at its floor),
    pure data wheels."""
    directory.mkdir(parents=True, exist_ok=True)
    found: dict[str, Path] = {}
    extras = [f"Provides-Extra: {e}" for e in release_set.optional_dependencies(VERSION)]
    for arch in ARCHES:
        for entry in arch.matrix:
            tag = entry.tag if entry.tag.endswith("abi3") else f"{entry.tag}-{entry.tag}"
            meta = _meta("envpool", _core_requires()).replace("\n\n", "\n" + "\n".join(extras) + "\n\n", 1)
            files = {"envpool/__init__.py": b""}
            found[f"core-{entry.tag}-{arch.machine}"] = write_wheel(
                directory, "envpool", VERSION, files, metadata=meta, tag=f"{tag}-manylinux_2_28_{arch.machine}"
            )
        glibc = arch.floor("library")
        tag = f"py3-none-manylinux_{glibc[0]}_{glibc[1]}_{arch.machine}"
        files = {f"{LIBRARY.normalized}/__init__.py": b""}
        found[f"lib-{arch.machine}"] = write_wheel(
            directory, LIBRARY.distribution, VERSION, files, metadata=_meta(LIBRARY.distribution), tag=tag
        )
    for p in release_set.PACKAGES:
        if p.kind == "data":
            files = {f"{p.normalized}/__init__.py": b""}
            found[p.distribution] = write_wheel(
                directory, p.distribution, VERSION, files, metadata=_meta(p.distribution)
            )
    return found


def test_expected_wheels_are_each_architectures_own(tmp_path: Path) -> None:
    found = two_arch_set(tmp_path / "wh")
    data = {found[p.distribution].name for p in release_set.PACKAGES if p.kind == "data"}
    for arch in ARCHES:
        want = {found[f"core-cp311-{arch.machine}"].name, found[f"lib-{arch.machine}"].name, *data}
        assert resolution.expected_wheels(tmp_path / "wh", arch, "3.11") == want
    # CPython 3.13 on aarch64 takes the stable-ABI core
    assert found["core-cp312-abi3-aarch64"].name in resolution.expected_wheels(tmp_path / "wh", AARCH64, "3.13")


def test_problems_name_a_wrong_or_missing_file() -> None:
    want = {f"envpool-{VERSION}-cp311-cp311-manylinux_2_28_aarch64.whl"}
    x86 = f"envpool-{VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl"
    found = resolution.problems([x86, "numpy-2.0.0-cp311-cp311-manylinux_2_17_aarch64.whl"], want, AARCH64)
    assert any("expected exactly" in p and x86 in p for p in found)
    assert any(f"not aarch64 wheels: ['{x86}']" in p for p in found)
    assert resolution.problems([*want, "numpy-2.0.0-py3-none-any.whl"], want, AARCH64) == []


needs_pypiserver = pytest.mark.skipif(
    importlib.util.find_spec("pypiserver") is None, reason="pypiserver is not installed"
)


def _third(directory: Path) -> Path:
    """The third-party wheels the fixture core requires, for both architectures."""
    directory.mkdir()
    write_wheel(
        directory,
        "numpy",
        "2.0.0",
        {"numpy/__init__.py": b""},
        metadata="Metadata-Version: 2.4\nName: numpy\nVersion: 2.0.0\n\n",
    )
    pin = release_set.MUJOCO_CORE
    for arch in ARCHES:
        meta = f"Metadata-Version: 2.4\nName: {pin.distribution}\nVersion: {pin.version}\n\n"
        write_wheel(
            directory,
            pin.distribution,
            pin.version,
            {"mujoco/__init__.py": b""},
            metadata=meta,
            tag=f"py3-none-manylinux_2_28_{arch.machine}",
        )
    directory.chmod(0o555)
    return directory


@needs_pypiserver
def test_the_rehearsal_index_resolves_each_architecture_to_its_own_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWINE_USERNAME", "rehearsal")  # the local index takes any credentials
    monkeypatch.setenv("TWINE_PASSWORD", "rehearsal")
    wheelhouse = tmp_path / "wh"
    found = two_arch_set(wheelhouse)
    third = _third(tmp_path / "third")
    try:
        with index_server(tmp_path, "resolve", third) as index:
            from tools.release import publish

            for stage in publish.upload_stages(wheelhouse):
                publish.twine_upload(stage, index.upload)
            rows = {a.machine: rehearsal.resolve_row(a, wheelhouse, index, VERSION, tmp_path) for a in ARCHES}
            for arch, row in rows.items():
                assert row.ok, row.detail
                assert found[f"lib-{arch}"].name in row.detail
                assert found[f"core-cp311-{arch}"].name in row.detail
            # the proof fails on an index whose aarch64 library wheel is not the set's
            found["lib-aarch64"].rename(tmp_path / found["lib-aarch64"].name)
            other = write_wheel(
                wheelhouse,
                LIBRARY.distribution,
                VERSION,
                {"x/__init__.py": b""},
                metadata=_meta(LIBRARY.distribution),
                tag="py3-none-manylinux_2_30_aarch64",
            )
            row = rehearsal.resolve_row(AARCH64, wheelhouse, index, VERSION, tmp_path)
            assert not row.ok
            assert "expected exactly" in row.detail and other.name in row.detail
    finally:
        third.chmod(0o755)


def test_a_missing_core_of_an_architecture_fails_the_row(tmp_path: Path) -> None:
    found = two_arch_set(tmp_path / "wh")
    found["core-cp311-aarch64"].unlink()
    row = rehearsal.resolve_row(AARCH64, tmp_path / "wh", None, VERSION, tmp_path)  # type: ignore[arg-type]
    assert not row.ok
    assert "no aarch64 core wheel for CPython 3.11" in row.detail
    assert X86_64.machine not in row.detail


def test_install_platforms_list_every_manylinux_tag_down_to_2014() -> None:
    """pip takes only the --platform values it is given: the list runs from the newest floor of the
    architecture (aarch64's library wheel) down to manylinux2014."""
    glibc = max(AARCH64.floor("library"), AARCH64.floor("extension"))
    platforms = thirdparty.install_platforms(AARCH64)
    assert platforms[0] == f"manylinux_{glibc[0]}_{glibc[1]}_aarch64"
    assert "manylinux_2_28_aarch64" in platforms and "manylinux_2_17_aarch64" in platforms
    assert platforms[-1] == "manylinux2014_aarch64"
    assert thirdparty.install_platforms(X86_64, release_set.GLIBC_FLOOR)[0] == f"{release_set.MANYLINUX_FLOOR}_x86_64"
