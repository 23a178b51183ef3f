"""envpool-procgen-libs per architecture: one lock each, no binary of another architecture, the aarch64 wheel.

The aarch64 wheel is assembled on this x86_64 machine from Debian 11's arm64 packages
(packages/procgen-libs/upstream.aarch64.lock.json) by the project's own PEP 517 backend, with the
config setting ``machine=aarch64``. Its libraries cannot run here; the emulated aarch64 tests load them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tools.assets.paths import cache_dir
from tools.common.distfile import artifact
from tools.common.elf import elf_machine, is_elf
from tools.procgen_libs import upstream
from tools.release import build_procgen_libs, manylinux, release_set
from tools.release.release_set import AARCH64, ARCHES, X86_64

LIBRARY = release_set.package_of_kind("library")


def _lock(arch: release_set.Arch) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(upstream.lock_path(arch).read_text())
    return data


@pytest.mark.parametrize("arch", ARCHES, ids=lambda a: a.machine)
def test_each_architecture_has_its_own_lock(arch: release_set.Arch) -> None:
    path = upstream.lock_path(arch)
    assert path == LIBRARY.path / f"upstream.{arch.machine}.lock.json"
    machine, artifacts = upstream.load_lock(arch=arch)
    assert machine == arch.machine and artifacts
    for art in artifacts:
        assert art.arch == arch.machine
        if art.source == "debian":
            assert art.path.endswith(f"_{arch.debian}.deb"), art.path
            assert f"?arch={arch.debian}&" in art.purl
        else:
            assert art.filename.endswith(f"_{arch.machine}.whl"), art.filename


def test_a_lock_of_another_architecture_is_refused(tmp_path: Path) -> None:
    """The x86_64 lock read for an aarch64 build: refused before anything is fetched, naming both."""
    doctored = tmp_path / upstream.lock_path(AARCH64).name
    shutil.copyfile(upstream.lock_path(X86_64), doctored)
    expected = r"its arch field is 'x86_64', but the build is for aarch64: each architecture has its own lock"
    with pytest.raises(upstream.ArchitectureError, match=expected):
        upstream.load_lock(doctored, AARCH64)
    with pytest.raises(upstream.ArchitectureError, match=expected):
        upstream.unpack(tmp_path / "out", cache=tmp_path / "empty-cache", lock=doctored, arch=AARCH64)
    assert not (tmp_path / "empty-cache").exists()


def test_an_amd64_package_in_the_aarch64_lock_is_refused(tmp_path: Path) -> None:
    """One entry of the aarch64 lock points at the amd64 build of the same package (a real, hash-correct file)."""
    lock = _lock(AARCH64)
    amd64 = next(a for a in _lock(X86_64)["artifacts"] if a["name"] == "libxau6")
    (index,) = [i for i, a in enumerate(lock["artifacts"]) if a["name"] == "libxau6"]
    lock["artifacts"][index] = amd64
    doctored = tmp_path / "upstream.aarch64.lock.json"
    doctored.write_text(json.dumps(lock))
    filename = Path(amd64["path"]).name
    with pytest.raises(upstream.ArchitectureError) as info:
        upstream.unpack(tmp_path / "out", cache=cache_dir(), lock=doctored, arch=AARCH64)
    message = str(info.value)
    assert f"{filename} (libxau6 {amd64['version']}), locked in {doctored}" in message
    assert "an ELF file for EM_X86_64; the aarch64 lock must hold EM_AARCH64 binaries only" in message
    assert "Fix: pin the aarch64 build of libxau6 in upstream.aarch64.lock.json" in message
    assert "_arm64.deb" in message


def test_an_unknown_machine_is_refused_with_the_release_sets_architectures() -> None:
    with pytest.raises(
        ValueError, match=r"machine='riscv64' is not an architecture of the release set .*x86_64, aarch64"
    ):
        build_procgen_libs.target("riscv64")
    assert build_procgen_libs.target(None) is X86_64
    assert build_procgen_libs.target("aarch64") is AARCH64


def test_the_backend_passes_the_machine_setting(tmp_path: Path) -> None:
    """``--config-setting=machine=...`` reaches the build (an unknown one stops it before any work)."""
    spec = importlib.util.spec_from_file_location(
        "backend", LIBRARY.path / "backend" / "envpool_procgen_libs_backend.py"
    )
    assert spec is not None and spec.loader is not None
    backend = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(backend)
    with pytest.raises(ValueError, match=r"riscv64.*x86_64, aarch64"):
        backend.build_wheel(str(tmp_path), {"machine": "riscv64"})
    assert list(tmp_path.iterdir()) == []
    assert not any("ziglang" in r for r in backend.get_requires_for_build_wheel(None))
    assert any("ziglang" in r for r in backend.get_requires_for_build_wheel({"machine": "aarch64"}))


@pytest.fixture(scope="module")
def aarch64_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The aarch64 library wheel, built as the release does: ``uv build --wheel --config-setting=machine=aarch64``."""
    out = tmp_path_factory.mktemp("aarch64-wheel")
    env = {**os.environ, "ENVPOOL_ARTIFACT_CACHE": str(cache_dir())}  # the locked downloads, already verified
    cmd = [shutil.which("uv") or "uv", "build", "--wheel", "--config-setting=machine=aarch64", "--out-dir", str(out)]
    res = subprocess.run([*cmd, str(LIBRARY.path)], env=env, capture_output=True, text=True, timeout=1800, check=False)
    assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}"
    assert "aarch64 libraries cannot run on this machine" in res.stdout + res.stderr
    (wheel,) = out.glob("*.whl")
    return wheel


@pytest.mark.slow
def test_the_aarch64_wheel_is_tagged_at_the_aarch64_library_floor(aarch64_wheel: Path) -> None:
    floor = AARCH64.floor("library")
    tag = f"manylinux_{floor[0]}_{floor[1]}_{AARCH64.machine}"
    assert aarch64_wheel.name == f"{LIBRARY.normalized}-{release_set.version()}-py3-none-{tag}.whl"
    assert manylinux.auditwheel_tag(aarch64_wheel) == tag
    assert release_set.arch_of_wheel(aarch64_wheel.name) is AARCH64
    assert aarch64_wheel.stat().st_size <= LIBRARY.budget


@pytest.mark.slow
def test_every_elf_of_the_aarch64_wheel_is_aarch64(aarch64_wheel: Path) -> None:
    wheel = artifact(aarch64_wheel)
    machines = {name: elf_machine(data, name) for name in wheel.members() if is_elf(data := wheel.read(name))}
    assert len(machines) > 20
    assert set(machines.values()) == {AARCH64.elf_machine}, machines
    manifest = json.loads(wheel.read(f"{LIBRARY.import_name}/_manifest.json"))
    assert {f"{LIBRARY.import_name}/{e['file']}" for e in manifest["libraries"]} == set(machines)
    assert (manifest["qt_version"], manifest["icu_version"]) == ("5.15.2", "67.1")
    assert manifest["abi"]["library_versions"] == {"qt": "5.15.2", "icu": "67.1"}
    assert (len(manifest["icu_data"]["items"]), manifest["icu_data"]["upstream_items"]) == (29, 3815)
    (sbom_name,) = [n for n in wheel.members() if n.endswith(".cdx.json")]
    purls = [c["purl"] for c in json.loads(wheel.read(sbom_name))["components"]]
    assert purls and all("?arch=arm64&" in p for p in purls), purls


@pytest.mark.parametrize("arch", ARCHES, ids=lambda a: a.machine)
def test_the_lock_check_verifies_each_architecture(arch: release_set.Arch) -> None:
    """``python -m tools.procgen_libs.upstream``: fetched, hash-checked, every ELF for the arch, closure complete."""
    line = upstream.check(arch, cache_dir())
    assert line.startswith(f"upstream.{arch.machine}.lock.json: ") and line.endswith(f"all {arch.elf_machine}")
