"""tools.release.build's own logic with fake builders: artifacts swapped in whole, --reuse stamps,
the order of the packages, the core matrix, the inputs a digest covers.

Nothing is compiled: each test replaces the builder of one kind (and the input preparation, which
writes into the package directory) and watches what build() does with the wheelhouse.
"""

from __future__ import annotations

import json
import subprocess
from typing import TYPE_CHECKING

import pytest

from tools import REPO
from tools.release import build, release_set

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path


def _package(kind: str) -> release_set.Package:
    return next(p for p in release_set.present() if p.kind == kind)


@pytest.fixture
def data() -> release_set.Package:
    return _package("data")


@pytest.fixture
def out(tmp_path: Path) -> Path:
    d = tmp_path / "wheelhouse"
    d.mkdir()
    return d


class FakeBuilder:
    """Writes ``names`` into the temporary directory (then raises ``error`` if given); counts its calls."""

    def __init__(self, names: list[str], error: BaseException | None = None) -> None:
        self.names = names
        self.error = error
        self.calls: list[tuple[build.Targets]] = []

    def __call__(self, package: release_set.Package, tmp: Path, out: Path, targets: build.Targets) -> None:
        assert tmp.parent == out and tmp.name.startswith(f".partial-{package.normalized}-")
        self.calls.append((targets,))
        for name in self.names:
            (tmp / name).write_bytes(f"{name} #{len(self.calls)}".encode())
        (tmp / "build.log").write_text("not an artifact")
        if self.error is not None:
            raise self.error


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, data: release_set.Package) -> Callable[..., FakeBuilder]:
    """Install a fake builder for the data kind; input preparation and the digest become controllable."""
    monkeypatch.setattr(build, "prepare", lambda package: None)
    digest = {"value": "inputs-1"}
    monkeypatch.setattr(build, "input_digest", lambda package: digest["value"])

    def install(names: list[str], error: BaseException | None = None) -> FakeBuilder:
        builder = FakeBuilder(names, error)
        monkeypatch.setitem(build.BUILDERS, data.kind, builder)
        return builder

    install.digest = digest  # type: ignore[attr-defined]
    return install


def _names(package: release_set.Package, version: str) -> list[str]:
    return [f"{package.normalized}-{version}-py3-none-any.whl", f"{package.normalized}-{version}.tar.gz"]


def test_new_artifacts_replace_the_old_ones_and_are_stamped(
    fake: Callable[..., FakeBuilder], data: release_set.Package, out: Path
) -> None:
    old = out / f"{data.normalized}-0.0.1-py3-none-any.whl"
    old.write_bytes(b"old")
    other = out / "envpool-0.0.1-cp311-cp311-manylinux_2_17_x86_64.whl"  # another package's artifact
    other.write_bytes(b"other")
    names = _names(data, "9.9.9")
    fake(names)
    assert build.build(data, out, reuse=False) == sorted(names)
    assert not old.exists()
    assert other.read_bytes() == b"other"
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == sorted([*names, other.name])
    assert not [p for p in out.iterdir() if p.name.startswith(".partial-")]
    stamp = json.loads((out / ".stamps" / f"{data.normalized}.json").read_text())
    assert stamp == {"digest": "inputs-1", "artifacts": sorted(names)}


def test_reuse_skips_only_an_unchanged_complete_build(
    fake: Callable[..., FakeBuilder], data: release_set.Package, out: Path
) -> None:
    names = _names(data, "9.9.9")
    builder = fake(names)
    build.build(data, out, reuse=True)
    build.build(data, out, reuse=True)
    assert len(builder.calls) == 1  # same inputs, artifacts present: up to date
    build.build(data, out, reuse=False)
    assert len(builder.calls) == 2  # without --reuse it always builds
    fake.digest["value"] = "inputs-2"  # type: ignore[attr-defined]
    build.build(data, out, reuse=True)
    assert len(builder.calls) == 3  # an input changed
    (out / names[0]).unlink()
    build.build(data, out, reuse=True)
    assert len(builder.calls) == 4  # an artifact went missing
    assert (out / names[0]).read_bytes() == f"{names[0]} #4".encode()


@pytest.mark.parametrize(
    "error",
    [subprocess.CalledProcessError(1, ["uv", "build"]), KeyboardInterrupt()],
    ids=["failed-step", "interrupted"],
)
def test_a_failed_build_keeps_the_previous_artifacts_and_stamp(
    fake: Callable[..., FakeBuilder], data: release_set.Package, out: Path, error: BaseException
) -> None:
    names = _names(data, "9.9.9")
    fake(names)
    build.build(data, out, reuse=False)
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    fake(_names(data, "9.9.10"), error=error)
    with pytest.raises(type(error)):
        build.build(data, out, reuse=False)
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert not [p for p in out.iterdir() if p.name.startswith(".partial-")]
    # ... and the next build works: it replaces the previous artifacts with its own
    fake(_names(data, "9.9.11"))
    assert build.build(data, out, reuse=False) == _names(data, "9.9.11")
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == sorted(_names(data, "9.9.11"))


def test_a_build_without_artifacts_is_an_error(
    fake: Callable[..., FakeBuilder], data: release_set.Package, out: Path
) -> None:
    fake([])
    with pytest.raises(build.BuildError, match=f"build of {data.distribution} produced no artifact"):
        build.build(data, out, reuse=False)


def test_the_core_stamp_covers_the_matrix(monkeypatch: pytest.MonkeyPatch, out: Path) -> None:
    """A core built for one matrix entry or architecture is not up to date for another (or for all)."""
    core = _package("extension")
    monkeypatch.setattr(build, "prepare", lambda package: None)
    monkeypatch.setattr(build, "input_digest", lambda package: "same")
    monkeypatch.setattr(build.abi_record, "record", lambda core_dir, out_, machines: "sha256:same-library")
    builder = FakeBuilder([f"envpool-{release_set.version()}.tar.gz"])
    monkeypatch.setitem(build.BUILDERS, core.kind, builder)
    native = release_set.X86_64
    first, *rest = native.matrix
    one: build.Targets = ((native, (first,)),)
    build.build(core, out, reuse=True, targets=one)
    build.build(core, out, reuse=True, targets=one)
    assert builder.calls == [(one,)]
    build.build(core, out, reuse=True)
    assert builder.calls == [(one,), (build.ALL_TARGETS,)]
    if rest:
        other: build.Targets = ((native, (rest[0],)),)
        build.build(core, out, reuse=True, targets=other)
        assert builder.calls[-1] == (other,)
    cross: build.Targets = ((release_set.AARCH64, (first,)),)
    build.build(core, out, reuse=True, targets=cross)
    assert builder.calls[-1] == (cross,)


def test_main_builds_the_library_then_data_then_the_core(
    monkeypatch: pytest.MonkeyPatch, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    order: list[str] = []

    def record(package: release_set.Package, out_: Path, *, reuse: bool, targets: object) -> list[str]:
        order.append(package.kind)
        return []

    monkeypatch.setattr(build, "build", record)
    dirs = [p.directory for p in release_set.present()]
    assert build.main(["--out", str(out), *reversed(dirs)]) == 0
    assert order == sorted(order, key=build.KIND_ORDER.__getitem__)
    assert len(order) == len(dirs)
    order.clear()
    assert build.main(["--out", str(out), f"{_package('data').directory}/"]) == 0  # a trailing slash is fine
    assert order == ["data"]


def test_main_refuses_an_unknown_package_and_a_missing_uv(
    monkeypatch: pytest.MonkeyPatch, out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(build, "build", lambda *a, **k: pytest.fail("nothing may be built"))
    assert build.main(["--out", str(out), "packages/nope"]) == 2
    assert "no package matches ['packages/nope']; known: [" in capsys.readouterr().out
    monkeypatch.setenv("PATH", str(out))  # no uv here
    assert build.main(["--out", str(out)]) == 2
    assert "needs uv on PATH: pip install uv" in capsys.readouterr().err


def test_select_targets() -> None:
    assert build.select_targets([], []) == build.ALL_TARGETS
    assert [a for a, _ in build.ALL_TARGETS] == list(release_set.ARCHES)
    last = release_set.CORE_MATRIX[-1]
    assert build.select_targets(["x86_64"], [last.tag]) == ((release_set.X86_64, (last,)),)
    cross = release_set.AARCH64
    assert build.select_targets(["aarch64"], []) == ((cross, cross.matrix),)
    with pytest.raises(
        build.BuildError, match=r"--arch arm64: not an architecture of the release set; choose from x86_64, aarch64"
    ):
        build.select_targets(["arm64"], [])


def test_inputs_of_a_data_package_include_the_task_registry_and_version() -> None:
    """The data wheels' members follow tasks.py: a change there must rebuild them, not the core."""
    data_inputs = build.input_files(_package("data"))
    core_inputs = build.input_files(_package("extension"))
    assert REPO / build.TASKS_FILE in data_inputs
    assert REPO / "VERSION" in data_inputs and REPO / "VERSION" in core_inputs
    assert any(p.is_relative_to(REPO / "tools") for p in data_inputs)
    assert all(p.is_file() for p in data_inputs)


def test_a_new_library_build_rebuilds_the_core(monkeypatch: pytest.MonkeyPatch, out: Path) -> None:
    """The core records the library wheel's ABI fingerprint, so a library with another one makes it stale."""
    core = _package("extension")
    monkeypatch.setattr(build, "prepare", lambda package: None)
    monkeypatch.setattr(build, "input_digest", lambda package: "same")
    fingerprint = ["sha256:first"]
    monkeypatch.setattr(build.abi_record, "record", lambda core_dir, out_, machines: fingerprint[0])
    builder = FakeBuilder([f"envpool-{release_set.version()}.tar.gz"])
    monkeypatch.setitem(build.BUILDERS, core.kind, builder)
    build.build(core, out, reuse=True)
    build.build(core, out, reuse=True)
    assert len(builder.calls) == 1
    fingerprint[0] = "sha256:second"
    build.build(core, out, reuse=True)
    assert len(builder.calls) == 2
