"""Reproducible builds: each data wheel built twice from its sdist with `uv build` is byte-identical."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tools.release import release_set

DATA = [p for p in release_set.PACKAGES if p.kind == "data"]


def _uv() -> str:
    local = Path(sys.executable).parent / "uv"
    found = str(local) if local.is_file() else shutil.which("uv")
    if found is None:
        pytest.skip("uv is not installed in this venv (tests/requirements.txt)")
    return found


def build_from_sdist(sdist: Path, out: Path, thirdparty: Path) -> Path:
    """`uv build --wheel` from the sdist, offline (build requirements from the third-party cache)."""
    cmd = [_uv(), "build", "--wheel", "--no-index", "--find-links", str(thirdparty), "--out-dir", str(out), str(sdist)]
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}  # the build must not depend on it
    env["UV_NO_CACHE"] = "1"
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}"
    (wheel,) = out.glob("*.whl")
    return wheel


def _first_difference(a: Path, b: Path) -> str:
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        ia = {i.filename: i for i in za.infolist()}
        ib = {i.filename: i for i in zb.infolist()}
        if list(ia) != list(ib):
            return f"member lists differ: {sorted(set(ia) ^ set(ib))[:5]} (or their order)"
        for name, info in ia.items():
            other = ib[name]
            if (info.date_time, info.external_attr, info.compress_type) != (
                other.date_time,
                other.external_attr,
                other.compress_type,
            ):
                return f"{name}: zip headers differ ({info.date_time} vs {other.date_time})"
            if za.read(name) != zb.read(name):
                return f"{name}: contents differ"
    return "archive bytes differ outside the members (zip comment or compression)"


@pytest.mark.parametrize("package", DATA, ids=[p.distribution for p in DATA])
def test_data_wheel_builds_byte_identical_twice(
    package: release_set.Package, wheelhouse: Path, thirdparty: Path, tmp_path: Path
) -> None:
    if not (package.path / "pyproject.toml").is_file():
        pytest.skip(f"{package.directory} is absent from this checkout")
    sdists = sorted(wheelhouse.glob(f"{package.normalized}-{release_set.version()}.tar.gz"))
    if not sdists:
        pytest.skip(f"no {package.distribution} sdist in {wheelhouse}: run nox -s build")
    first = build_from_sdist(sdists[0], tmp_path / "one", thirdparty)
    second = build_from_sdist(sdists[0], tmp_path / "two", thirdparty)
    assert first.name == second.name
    digests = [hashlib.sha256(w.read_bytes()).hexdigest() for w in (first, second)]
    assert digests[0] == digests[1], f"{first.name} differs between two builds: {_first_difference(first, second)}"
