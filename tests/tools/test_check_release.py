"""Each release check fails on a deliberately broken artifact and passes on the good one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tools.conftest import LIBRARY_MARKER
from tools.common.distfile import parse_artifact, rewrite_wheel, write_sdist, write_wheel
from tools.release import check_release, release_set
from tools.release.check_release import Result, run_checks

_ROOT = Path(__file__).resolve().parents[2]
CORE_AND_VIZDOOM = [p for p in release_set.PACKAGES if p.extra in (None, "vizdoom")]


def results_for(wheelhouse: Path, check: str, artifact: Path, **kw: object) -> list[Result]:
    """The results of one check on one artifact."""
    results = run_checks(wheelhouse, only=[check], present=CORE_AND_VIZDOOM, **kw)  # type: ignore[arg-type]
    return [r for r in results if r.artifact == artifact.name]


def assert_fails(wheelhouse: Path, check: str, artifact: Path, *needles: str, **kw: object) -> str:
    """Run one check, assert it FAILs on ``artifact`` and its line names the check, file and needles."""
    (result,) = results_for(wheelhouse, check, artifact, **kw)
    line = result.line()
    assert result.status == "FAIL", line
    assert line.startswith(f"FAIL {check} {artifact.name}"), line
    for needle in needles:
        assert needle in line, line
    return line


def assert_passes(wheelhouse: Path, check: str, artifact: Path, **kw: object) -> None:
    """Run one check and assert it PASSes on ``artifact``."""
    (result,) = results_for(wheelhouse, check, artifact, **kw)
    assert result.status == "PASS", result.line()


def edit_metadata(wheel: Path, change: dict[str, str | None]) -> None:
    """Rewrite the wheel's METADATA in place: replace lines (None drops them)."""
    art = parse_artifact(wheel)
    assert art is not None
    member = art.metadata_member()
    text = art.read(member).decode()
    for old, new in change.items():
        assert old in text, f"{old!r} not in METADATA"
        text = text.replace(old + "\n", "" if new is None else new + "\n")
    tmp = wheel.with_suffix(".tmp")
    rewrite_wheel(wheel, tmp, replace={member: text.encode()})
    tmp.replace(wheel)


def add_files(wheel: Path, files: dict[str, bytes]) -> None:
    """Add members to a wheel in place (RECORD regenerated)."""
    tmp = wheel.with_suffix(".tmp")
    rewrite_wheel(wheel, tmp, replace=dict(files))
    tmp.replace(wheel)


def test_good_set_passes_everything(good_set):  # type: ignore[no-untyped-def]
    # the fixture's core wheel is pure: no core matrix to complete
    results = run_checks(good_set.wheelhouse, present=CORE_AND_VIZDOOM, require_sdist=True, arches=())
    failed = [r.line() for r in results if r.status == "FAIL"]
    assert not failed, "\n".join(failed)
    checked = {(r.check, r.artifact) for r in results if r.status == "PASS"}
    # every check ran (passed) on at least one artifact, apart from those needing a platform wheel (auditwheel,
    # linkage), a graft, abi3 or a library wheel (abi-fingerprint): tests/tools/test_linkage.py covers the real set
    needs_binaries = {"auditwheel", "sbom", "abi3audit", "linkage", "abi-fingerprint"}
    assert {c for c, _ in checked} >= set(check_release.CHECKS) - needs_binaries


def test_unknown_distribution_fails(good_set):  # type: ignore[no-untyped-def]
    foreign = write_wheel(
        good_set.wheelhouse, "not-ours", "1.0", {"not_ours/__init__.py": b""}, metadata="Name: not-ours\n"
    )
    assert_fails(good_set.wheelhouse, "release-set", foreign, "not a distribution of tools/release/release_set.py")


def test_missing_wheel_of_present_package_fails(good_set):  # type: ignore[no-untyped-def]
    good_set.data_wheel.unlink()
    results = run_checks(good_set.wheelhouse, only=["release-set"], present=CORE_AND_VIZDOOM)
    line = next(r.line() for r in results if r.artifact == "envpool-assets-vizdoom")
    assert line.startswith("FAIL release-set envpool-assets-vizdoom: no wheel"), line


def test_version_drift_fails(good_set, tmp_path, release_set_factory):  # type: ignore[no-untyped-def]
    other = release_set_factory(tmp_path / "other", "9.9.9")
    shutil.copy2(other.data_wheel, good_set.wheelhouse)
    drifted = good_set.wheelhouse / other.data_wheel.name
    assert_fails(good_set.wheelhouse, "version", drifted, "file name says 9.9.9", f"VERSION is {good_set.version}")
    assert_passes(good_set.wheelhouse, "version", good_set.data_wheel)


def test_metadata_version_drift_fails(good_set):  # type: ignore[no-untyped-def]
    edit_metadata(good_set.data_wheel, {f"Version: {good_set.version}": "Version: 9.9.9"})
    assert_fails(good_set.wheelhouse, "version", good_set.data_wheel, "METADATA says Version: 9.9.9")


@pytest.mark.parametrize("bad_pin", [">=", "~="])
def test_sibling_pin_not_exact_fails(good_set, bad_pin):  # type: ignore[no-untyped-def]
    v = good_set.version
    line = "Requires-Dist: envpool-procgen-libs{}; " + LIBRARY_MARKER + ' and extra == "procgen"'
    edit_metadata(good_set.core_wheel, {line.format(f"=={v}"): line.format(f"{bad_pin}{v}")})
    assert_fails(good_set.wheelhouse, "sibling-pins", good_set.core_wheel, "envpool-procgen-libs is pinned", f"=={v}")


def test_sibling_missing_from_extra_fails(good_set):  # type: ignore[no-untyped-def]
    v = good_set.version
    edit_metadata(good_set.core_wheel, {f'Requires-Dist: envpool-assets-robotics=={v}; extra == "all"': None})
    assert_fails(
        good_set.wheelhouse, "sibling-pins", good_set.core_wheel, "extra 'all' does not require envpool-assets-robotics"
    )


def test_third_party_pin_is_not_ours(good_set):  # type: ignore[no-untyped-def]
    line = 'Requires-Dist: mujoco-core=={}; extra == "robotics"'
    edit_metadata(good_set.core_wheel, {line.format("4.0.0"): line.format("4.0.1")})
    assert_passes(good_set.wheelhouse, "sibling-pins", good_set.core_wheel)


def test_wheel_requires_differ_from_sdist_fails(good_set):  # type: ignore[no-untyped-def]
    edit_metadata(good_set.core_wheel, {"Requires-Dist: numpy>=1.26": "Requires-Dist: numpy>=2"})
    assert_fails(good_set.wheelhouse, "sdist-metadata", good_set.core_wheel, "numpy>=2", good_set.core_sdist.name)


@pytest.mark.parametrize("field", ["Requires-Dist", "Provides-Extra"])
def test_dynamic_requires_in_sdist_fails(good_set, core_metadata_text, field):  # type: ignore[no-untyped-def]
    good_set.core_sdist.unlink()
    write_sdist(
        good_set.wheelhouse,
        "envpool",
        good_set.version,
        {"README.md": b"# envpool\n"},
        pkg_info=core_metadata_text(good_set.version, dynamic=(field,)),
    )
    assert_fails(good_set.wheelhouse, "sdist-metadata", good_set.core_wheel, f"marks {field.lower()} as Dynamic")


def test_missing_sdist_fails_only_when_required(good_set):  # type: ignore[no-untyped-def]
    good_set.core_sdist.unlink()
    (skipped,) = results_for(good_set.wheelhouse, "sdist-metadata", good_set.core_wheel)
    assert skipped.status == "SKIP", skipped.line()
    assert_fails(good_set.wheelhouse, "sdist-metadata", good_set.core_wheel, "no sdist", require_sdist=True)


def test_sdist_link_fails(good_set, core_metadata_text):  # type: ignore[no-untyped-def]
    good_set.core_sdist.unlink()
    sdist = write_sdist(
        good_set.wheelhouse,
        "envpool",
        good_set.version,
        {"README.md": b"# envpool\n"},
        pkg_info=core_metadata_text(good_set.version),
        links={"VERSION": "../../VERSION"},
    )
    assert_fails(good_set.wheelhouse, "sdist-links", sdist, "VERSION -> ../../VERSION")


def test_file_shipped_twice_fails(good_set):  # type: ignore[no-untyped-def]
    add_files(good_set.data_wheel, {"envpool/registration.py": b'"""Shadowed."""\n'})
    assert_fails(
        good_set.wheelhouse, "file-overlap", good_set.data_wheel, "envpool/registration.py", good_set.core_wheel.name
    )
    assert_fails(
        good_set.wheelhouse, "file-overlap", good_set.core_wheel, "envpool/registration.py", good_set.data_wheel.name
    )


def test_data_scheme_overlap_fails(good_set):  # type: ignore[no-untyped-def]
    member = f"envpool_assets_vizdoom-{good_set.version}.data/purelib/envpool/registration.py"
    add_files(good_set.data_wheel, {member: b'"""Shadowed."""\n'})
    assert_fails(good_set.wheelhouse, "file-overlap", good_set.data_wheel, "envpool/registration.py")


@pytest.mark.parametrize(
    "member",
    [
        "envpool/freedoom2.wad",
        "envpool/lib/libQt5Core.so.5",
        "envpool.libs/libicudata-1a2b3c4d.so.72",
        "envpool/libmujoco.so.4.0.0",
        "envpool/assets/fetch/reach.xml",
        "envpool/meshes/base_link.stl",
        "envpool/textures/block.png",
    ],
)
def test_core_with_sibling_content_fails(good_set, member):  # type: ignore[no-untyped-def]
    add_files(good_set.core_wheel, {member: b"\x7fELF not really"})
    assert_fails(good_set.wheelhouse, "core-contents", good_set.core_wheel, member)


def test_core_contents_passes_on_code(good_set):  # type: ignore[no-untyped-def]
    add_files(good_set.core_wheel, {"envpool/spec.xml.py": b"", "envpool/_classic_control.abi3.so": b"\x7fELF"})
    assert_passes(good_set.wheelhouse, "core-contents", good_set.core_wheel)


def test_twine_strict_fails_without_description(good_set):  # type: ignore[no-untyped-def]
    art = parse_artifact(good_set.data_wheel)
    assert art is not None
    text = art.read(art.metadata_member()).decode().split("\n\n", 1)[0]
    text = text.replace("Description-Content-Type: text/markdown\n", "") + "\n"
    tmp = good_set.data_wheel.with_suffix(".tmp")
    rewrite_wheel(good_set.data_wheel, tmp, replace={art.metadata_member(): text.encode()})
    tmp.replace(good_set.data_wheel)
    assert_fails(good_set.wheelhouse, "twine", good_set.data_wheel, "long_description")


def test_check_wheel_contents_fails_on_bytecode(good_set):  # type: ignore[no-untyped-def]
    add_files(good_set.data_wheel, {"envpool_assets_vizdoom/__pycache__/__init__.cpython-311.pyc": b"\0" * 16})
    assert_fails(good_set.wheelhouse, "check-wheel-contents", good_set.data_wheel, "W001")


def test_pydistcheck_uses_release_set_budget(good_set):  # type: ignore[no-untyped-def]
    core = next(p for p in release_set.PACKAGES if p.extra is None)
    add_files(good_set.core_wheel, {"envpool/blob.bin": os.urandom(core.budget + 1000)})
    assert_fails(
        good_set.wheelhouse,
        "pydistcheck",
        good_set.core_wheel,
        "distro-too-large-compressed",
        f"budget {core.budget} B",
    )


# ---------------------------------------------------------------- auditwheel and SBOM


def _compiled_so(tmp_path: Path, source: str) -> bytes:
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler to build a shared object for the auditwheel checks")
    src = tmp_path / "ext.c"
    src.write_text(source)
    out = tmp_path / "ext.so"
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(out), str(src)], check=True)
    return out.read_bytes()


def _platform_core(good_set, tmp_path: Path, tag: str, source: str) -> Path:  # type: ignore[no-untyped-def]
    so = _compiled_so(tmp_path, source)
    v = good_set.version
    art = parse_artifact(good_set.core_wheel)
    assert art is not None
    meta = art.metadata().as_string()
    good_set.core_wheel.unlink()
    files = {
        "envpool/__init__.py": b'"""envpool."""\n',
        "envpool/_classic_control.abi3.so": so,
    }
    return write_wheel(good_set.wheelhouse, "envpool", v, files, metadata=meta, tag=f"cp312-abi3-{tag}")


PLAIN_C = "int envpool_answer(void) { return 42; }\n"
NEW_GLIBC_C = (
    "#include <sys/random.h>\n"
    "int envpool_random(void) { char b; return (int)getrandom(&b, 1, 0); }\n"  # getrandom: GLIBC_2.25
)


def test_auditwheel_fails_on_unrepaired_linux_tag(good_set, tmp_path):  # type: ignore[no-untyped-def]
    wheel = _platform_core(good_set, tmp_path, "linux_x86_64", PLAIN_C)
    assert_fails(good_set.wheelhouse, "auditwheel", wheel, "linux_x86_64 is not a manylinux tag")


def test_auditwheel_fails_when_tag_claims_too_old_glibc(good_set, tmp_path):  # type: ignore[no-untyped-def]
    wheel = _platform_core(good_set, tmp_path, "manylinux_2_17_x86_64", NEW_GLIBC_C)
    assert_fails(good_set.wheelhouse, "auditwheel", wheel, "manylinux_2_17_x86_64", "auditwheel show allows only")


def test_auditwheel_passes_on_consistent_tag(good_set, tmp_path):  # type: ignore[no-untyped-def]
    wheel = _platform_core(good_set, tmp_path, "manylinux_2_17_x86_64", PLAIN_C)
    assert_passes(good_set.wheelhouse, "auditwheel", wheel)


def test_grafted_library_without_sbom_fails(good_set, tmp_path):  # type: ignore[no-untyped-def]
    lib = "envpool_assets_vizdoom.libs/libz-0123abcd.so.1.2.13"
    add_files(good_set.data_wheel, {lib: b"\x7fELF"})
    assert_fails(good_set.wheelhouse, "sbom", good_set.data_wheel, "envpool_assets_vizdoom.libs/", "sboms/")
    sbom = f"envpool_assets_vizdoom-{good_set.version}.dist-info/sboms/auditwheel.cdx.json"
    add_files(good_set.data_wheel, {sbom: b'{"bomFormat": "CycloneDX", "components": []}'})
    assert_passes(good_set.wheelhouse, "sbom", good_set.data_wheel)
    add_files(good_set.data_wheel, {sbom: b"{not json"})
    assert_fails(good_set.wheelhouse, "sbom", good_set.data_wheel, "not valid JSON")


def test_library_wheel_without_sbom_fails(good_set):  # type: ignore[no-untyped-def]
    lib = next(p for p in release_set.PACKAGES if p.kind == "library")
    v = good_set.version
    name = lib.normalized
    meta = (
        f"Metadata-Version: 2.4\nName: {lib.distribution}\nVersion: {v}\nSummary: libs\n"
        "Description-Content-Type: text/markdown\n\n# libs\n"
    )
    wheel = write_wheel(good_set.wheelhouse, lib.distribution, v, {f"{name}/__init__.py": b""}, metadata=meta)
    assert_fails(good_set.wheelhouse, "sbom", wheel, "a library wheel", "sboms/")


# ---------------------------------------------------------------- the command line


def test_main_prints_one_line_per_check_and_exits_nonzero(good_set, capsys, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(release_set, "present", lambda: CORE_AND_VIZDOOM)
    assert check_release.main([str(good_set.wheelhouse)]) == 0
    out = capsys.readouterr().out.splitlines()
    for art in (good_set.core_wheel, good_set.data_wheel, good_set.core_sdist, good_set.data_sdist):
        for check in check_release.CHECKS:
            assert (
                sum(
                    ln.split(" ")[1:3] == [check, art.name] or ln.split(" ")[1:3] == [check, art.name + ":"]
                    for ln in out
                )
                == 1
            ), (check, art.name)
    add_files(good_set.core_wheel, {"envpool/freedoom2.wad": b"IWAD"})
    assert check_release.main([str(good_set.wheelhouse)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL core-contents {good_set.core_wheel.name}: envpool/freedoom2.wad" in out


def test_module_entry_point_runs(good_set):  # type: ignore[no-untyped-def]
    proc = subprocess.run(
        [sys.executable, "-m", "tools.release.check_release", str(good_set.wheelhouse), "--only", "version"],
        cwd=_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"PASS version {good_set.core_wheel.name}" in proc.stdout


def test_a_release_needs_every_wheel_of_the_core_matrix(good_set):  # type: ignore[no-untyped-def]
    results = run_checks(good_set.wheelhouse, present=CORE_AND_VIZDOOM, require_sdist=True, only=["release-set"])
    (core,) = [r for r in results if r.check == "release-set" and r.artifact == "envpool"]
    assert core.status == "FAIL"
    for arch in release_set.ARCHES:
        for entry in arch.matrix:
            assert f"{entry.tag} {arch.machine} wheel" in core.message


# --- the library sibling's platform marker (issue 13, item 6) --------------------------------------------


def _library_wheel(good_set, machine: str = "x86_64") -> Path:  # type: ignore[no-untyped-def]
    v = good_set.version
    meta = f"Metadata-Version: 2.4\nName: envpool-procgen-libs\nVersion: {v}\n"
    files = {"envpool_procgen_libs/__init__.py": b'"""Qt."""\n'}
    tag = f"py3-none-manylinux_2_28_{machine}"
    return write_wheel(good_set.wheelhouse, "envpool-procgen-libs", v, files, metadata=meta, tag=tag)


def _library_lines(v: str, marker: str) -> dict[str, str | None]:
    lib = f"Requires-Dist: envpool-procgen-libs=={v}; "
    return {lib + f'{LIBRARY_MARKER} and extra == "{e}"': lib + f'{marker}extra == "{e}"' for e in ("procgen", "all")}


def test_marker_naming_the_library_wheels_platforms_passes(good_set):  # type: ignore[no-untyped-def]
    _library_wheel(good_set)
    assert_passes(good_set.wheelhouse, "sibling-pins", good_set.core_wheel)
    assert_passes(good_set.wheelhouse, "sibling-pins", good_set.core_sdist)


def test_library_wheel_on_a_platform_the_marker_omits_fails(good_set):  # type: ignore[no-untyped-def]
    _library_wheel(good_set)
    _library_wheel(good_set, "aarch64")
    assert_fails(
        good_set.wheelhouse, "sibling-pins", good_set.core_wheel, "[procgen]", "[all]", "for ['Linux aarch64']"
    )


def test_marker_naming_a_platform_without_library_wheel_fails(good_set):  # type: ignore[no-untyped-def]
    _library_wheel(good_set)
    darwin = f'({LIBRARY_MARKER} or platform_system == "Darwin" and platform_machine == "arm64") and '
    edit_metadata(good_set.core_wheel, _library_lines(good_set.version, darwin))
    assert_fails(good_set.wheelhouse, "sibling-pins", good_set.core_wheel, "names ['Darwin arm64']", "release_set.py")


def test_library_requirement_without_marker_fails(good_set):  # type: ignore[no-untyped-def]
    _library_wheel(good_set)
    edit_metadata(good_set.core_wheel, _library_lines(good_set.version, ""))
    assert_fails(
        good_set.wheelhouse, "sibling-pins", good_set.core_wheel, "applies on every platform", "['Linux x86_64']"
    )


def test_sdist_marker_differing_from_the_wheel_fails(good_set):  # type: ignore[no-untyped-def]
    edit_metadata(good_set.core_wheel, _library_lines(good_set.version, ""))
    sdist = good_set.core_sdist.name
    assert_fails(good_set.wheelhouse, "sdist-metadata", good_set.core_wheel, "platform_machine", sdist)


def test_core_wheel_recording_the_system_qt_fails(good_set):  # type: ignore[no-untyped-def]
    record = b'{"library": "/usr/lib/x86_64-linux-gnu/libQt5Core.so.5.15.2", "source": "system"}\n'
    add_files(good_set.core_wheel, {"envpool/_procgen_abi.json": record})
    assert_fails(good_set.wheelhouse, "abi-fingerprint", good_set.core_wheel, "system's Qt", "ENVPOOL_QT=system")
