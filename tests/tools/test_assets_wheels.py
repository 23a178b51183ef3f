"""The built asset wheels (from $ENVPOOL_WHEELHOUSE): exact contents, licenses, reproducible offline builds."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from typing import TYPE_CHECKING

import pytest

from tools.assets.families import SPECS
from tools.assets.lockfile import load, lock_path
from tools.assets.paths import package_dir, repo_root
from tools.assets.tasks import assets_of

if TYPE_CHECKING:
    from pathlib import Path

FAMILIES = sorted(SPECS)


def version() -> str:
    return (repo_root() / "VERSION").read_text().strip()


def artifact(wheelhouse: Path, family: str, suffix: str) -> Path:
    path = wheelhouse / f"envpool_assets_{family}-{version()}{suffix}"
    if not path.is_file():
        pytest.skip(f"{path.name} is not in the wheelhouse: run `nox -s build`")
    return path


def expected_names(family: str) -> set[str]:
    """Every member the wheel must have: the module, the manifest, the computed files and the licenses."""
    lock = load(lock_path(package_dir(family)))
    pkg, dist = lock.import_name, f"{lock.import_name}-{version()}.dist-info"
    return {
        f"{pkg}/__init__.py",
        f"{pkg}/_version.py",
        f"{pkg}/py.typed",
        f"{pkg}/data/manifest.json",
        *(f"{pkg}/data/{p}" for p in lock.paths()),
        f"{dist}/METADATA",
        f"{dist}/WHEEL",
        f"{dist}/RECORD",
        *(f"{dist}/licenses/{lic.file}" for lic in lock.licenses),
    }


@pytest.mark.parametrize("family", FAMILIES)
def test_wheel_holds_exactly_manifest_licenses_and_the_computed_files(wheelhouse: Path, family: str) -> None:
    wheel = artifact(wheelhouse, family, "-py3-none-any.whl")
    lock = load(lock_path(package_dir(family)))
    roots = assets_of(family)
    if family == "vizdoom":
        assert lock.paths() == roots  # ViZDoom tasks list every file they read
    else:
        assert set(roots) <= set(lock.paths())  # robotics: the roots' closure (recomputed by `check`)
    with zipfile.ZipFile(wheel) as zf:
        assert set(zf.namelist()) == expected_names(family)
        manifest = json.loads(zf.read(f"{lock.import_name}/data/manifest.json"))
        assert manifest["family"] == family
        assert manifest["distribution"] == f"envpool-assets-{family}"
        assert manifest["version"] == version()
        assert sorted(manifest["files"]) == lock.paths()
        for path, entry in manifest["files"].items():
            data = zf.read(f"{lock.import_name}/data/{path}")
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], path
            assert len(data) == entry["size"], path
        meta = Parser().parsestr(zf.read(f"{lock.import_name}-{version()}.dist-info/METADATA").decode())
        license_files = sorted(meta.get_all("License-File") or [])
        assert license_files == sorted(lic.file for lic in lock.licenses)
        expression = meta["License-Expression"]
        for entry in manifest["files"].values():
            for spdx in entry["license"].split(" AND "):
                assert spdx in expression.split(" AND "), (spdx, expression)
        version_py = zf.read(f"{lock.import_name}/_version.py").decode()
        assert f'__version__ = "{version()}"' in version_py
        tag = zf.read(f"{lock.import_name}-{version()}.dist-info/WHEEL").decode()
        assert "Tag: py3-none-any" in tag


@pytest.mark.parametrize("family", FAMILIES)
def test_sdist_carries_the_staged_files_and_a_real_version_file(wheelhouse: Path, family: str) -> None:
    sdist = artifact(wheelhouse, family, ".tar.gz")
    lock = load(lock_path(package_dir(family)))
    top = f"envpool_assets_{family}-{version()}"
    with tarfile.open(sdist) as tf:
        members = {m.name: m for m in tf.getmembers()}
        staged = sorted(n.removeprefix(f"{top}/staged/") for n in members if n.startswith(f"{top}/staged/"))
        assert staged == sorted([*lock.paths(), "manifest.json"])
        version_member = members[f"{top}/VERSION"]
        assert version_member.isfile(), "the sdist must carry VERSION itself, not the repository's symlink"
        handle = tf.extractfile(version_member)
        assert handle is not None and handle.read().decode().strip() == version()


def build_wheel_offline(sdist: Path, workdir: Path) -> Path:
    """Unpack the sdist and run hatchling's PEP 517 build_wheel on it with no network and an empty cache."""
    workdir.mkdir(parents=True)
    with tarfile.open(sdist) as tf:
        tf.extractall(workdir, filter="data")
    (source,) = [p for p in workdir.iterdir() if p.is_dir()]
    out = workdir / "dist"
    out.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env.update(
        ENVPOOL_ARTIFACT_CACHE=str(workdir / "empty-cache"),  # a fetch attempt would find nothing cached
        PIP_INDEX_URL="http://127.0.0.1:9/simple",  # ...and could not reach an index
        PIP_NO_INDEX="1",
    )
    code = "import sys; from hatchling.build import build_wheel; print(build_wheel(sys.argv[1]))"
    result = subprocess.run(
        [sys.executable, "-c", code, str(out)], cwd=source, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = out.glob("*.whl")
    return wheel


# The two builds take ~10 s per family: run them in the venvs that have that family's extra.
@pytest.mark.parametrize("family", [pytest.param(f, marks=pytest.mark.family(f)) for f in FAMILIES])
def test_wheel_from_sdist_builds_offline_and_byte_identical_twice(
    wheelhouse: Path, tmp_path: Path, family: str
) -> None:
    pytest.importorskip("hatchling")
    sdist = artifact(wheelhouse, family, ".tar.gz")
    first = build_wheel_offline(sdist, tmp_path / "one")
    second = build_wheel_offline(sdist, tmp_path / "two")
    assert first.name == second.name
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as zf:
        assert set(zf.namelist()) == expected_names(family)
        assert not (tmp_path / "one" / "empty-cache").exists(), "building from the sdist must not fetch"
