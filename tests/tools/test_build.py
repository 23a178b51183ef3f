"""tools.release.build on bad input: each failure names the fix, leaves nothing half-written, the next build works."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tools import REPO
from tools.assets.paths import cache_dir
from tools.common.distfile import write_wheel
from tools.common.elf import dynamic_info
from tools.procgen_libs import upstream
from tools.release import build, manylinux, release_set
from tools.release.toolchain import ToolchainError, find_python


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith(".partial-"))


def _package(kind: str) -> release_set.Package:
    return next(p for p in release_set.present() if p.kind == kind)


def test_hash_lock_mismatch_stops_the_library_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A cached upstream file that is not the locked one: the build names it, both digests and the fix.

    The library wheel is built by its PEP 517 backend in a ``uv build`` subprocess, which reads the
    real lock and the cache that ``ENVPOOL_ARTIFACT_CACHE`` names: every other locked file is linked
    from the verified cache (no download), one Debian package is replaced by other bytes.
    """
    _arch, artifacts = upstream.load_lock()
    art = next(a for a in artifacts if a.source == "debian")
    verified = cache_dir()
    cache = tmp_path / "cache"
    cache.mkdir()
    for other in artifacts:
        if other is not art and (verified / other.filename).is_file():
            (cache / other.filename).symlink_to(verified / other.filename)
    (cache / art.filename).write_bytes(b"not the locked package")
    monkeypatch.setenv("ENVPOOL_ARTIFACT_CACHE", str(cache))
    out = tmp_path / "wheelhouse"
    out.mkdir()
    (out / "envpool_procgen_libs-0.0.1-py3-none-manylinux_2_28_x86_64.whl").write_bytes(b"previous build")
    rc = build.main(["--out", str(out), _package("library").directory])
    captured = capfd.readouterr()
    err = captured.out + captured.err
    assert rc == 1
    assert f"upstream artifact {art.filename}" in err and "sha256 mismatch" in err and art.sha256 in err
    assert "Delete the cached file" in err
    assert _leftovers(out) == []
    assert (out / "envpool_procgen_libs-0.0.1-py3-none-manylinux_2_28_x86_64.whl").read_bytes() == b"previous build"


def test_missing_interpreter_names_the_install_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.delenv("ENVPOOL_PYTHON_3_99", raising=False)
    with pytest.raises(ToolchainError, match=r"CPython 3\.99 was not found.*pyenv install 3\.99.*ENVPOOL_PYTHON_3_99="):
        find_python("3.99")


def test_missing_interpreter_for_one_matrix_entry_fails_the_build_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = release_set.CORE_MATRIX[-1]
    missing = release_set.CoreBuild("3.99", entry.tag)
    native = dataclasses.replace(release_set.X86_64, matrix=(*release_set.CORE_MATRIX[:-1], missing))
    monkeypatch.setattr(build, "ARCHES", (native,))
    out = tmp_path / "wheelhouse"
    out.mkdir()
    # The core's build excludes what the library wheel provides: a wheelhouse without it fails first,
    # so give it the real one.
    for lib in release_set.WHEELHOUSE.glob("envpool_procgen_libs-*.whl"):
        (out / lib.name).write_bytes(lib.read_bytes())
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    rc = build.main(["--out", str(out), "--only", entry.tag, "--arch", "x86_64", _package("extension").directory])
    err = capsys.readouterr().err
    assert rc == 1
    assert "CPython 3.99 was not found" in err and "pyenv install 3.99" in err
    assert _leftovers(out) == []
    assert not list(out.glob("envpool-*"))


def test_unknown_matrix_entry_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert build.main(["--only", "cp27"]) == 1
    assert "choose from " + ", ".join(sorted(e.tag for e in release_set.CORE_MATRIX)) in capsys.readouterr().err


def test_interrupted_build_leaves_the_wheelhouse_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "wheelhouse"
    out.mkdir()
    previous = out / "envpool_assets_robotics-0.0.1-py3-none-any.whl"
    previous.write_bytes(b"previous build")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "tools.release.build", "--out", str(out), _package("data").directory]
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    for line in proc.stdout:
        if ": building" in line or time.monotonic() > deadline:
            break
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode != 0, stderr
    assert "interrupted while building" in stderr or "exited" in stderr, stderr
    assert _leftovers(out) == []
    assert previous.read_bytes() == b"previous build"


def _newer_than_floor() -> Path:
    """A host shared library whose symbols need a newer glibc than the release set's floor."""
    for d in (Path("/usr/lib/x86_64-linux-gnu"), Path("/usr/lib64")):
        for path in sorted(d.glob("lib*.so.*"))[:400]:
            try:
                if path.is_file() and not path.is_symlink() and dynamic_info(path).glibc > release_set.GLIBC_FLOOR:
                    return path
            except (ValueError, OSError):
                continue
    pytest.skip("no host library needs a glibc newer than the floor")


def test_wheel_whose_symbols_exceed_its_tag_is_refused(tmp_path: Path) -> None:
    lib = _newer_than_floor()
    wheel = write_wheel(
        tmp_path,
        "envpool",
        "0.0.1",
        {"envpool/_fake.cpython-311-x86_64-linux-gnu.so": lib.read_bytes()},
        metadata="Metadata-Version: 2.4\nName: envpool\nVersion: 0.0.1\n",
        tag="cp311-cp311-manylinux_2_17_x86_64",
    )
    with pytest.raises(manylinux.TagError, match=r"newer than the release set's manylinux_2_28"):
        manylinux.check_wheel(wheel)


def test_missing_compiler_names_the_install_line(tmp_path: Path) -> None:
    """An interpreter without the zig compiler (this test venv has none): the error gives the pip line."""
    from tools.release import toolchain

    if subprocess.run([sys.executable, "-m", "ziglang", "version"], capture_output=True, check=False).returncode == 0:
        pytest.skip("this venv has ziglang installed")
    with pytest.raises(
        ToolchainError, match=rf"zig compiler is not installed in .* -m pip install {toolchain.ZIGLANG}"
    ):
        toolchain.zig_wrappers(Path(sys.executable))


def test_missing_qt_headers_name_the_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tools.release import toolchain

    monkeypatch.setattr(toolchain, "QT5_CMAKE_DIRS", (tmp_path / "no-qt",))
    with pytest.raises(ToolchainError, match=r"apt-get install -y qtbase5-dev"):
        toolchain.qt5_dir()
