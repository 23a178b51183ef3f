"""The robotics family in real installs: libmujoco found wherever pip put mujoco-core, and the errors
for a missing, skewed or damaged mujoco-core or asset wheel. Venvs come from the wheelhouse only."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import envpool
from tests.helpers import run_python, wheel_for_this_python
from tools.common.distfile import with_version

pytestmark = pytest.mark.family("robotics")

VERSION = envpool.__version__
PIP_LINE = f'pip install "envpool[robotics]=={VERSION}"'
MakeVenv = Callable[..., Path]

RUN = (
    "import numpy as np, envpool\n"
    "from envpool import robotics_loader\n"
    "env = envpool.make('FetchReach-v4', num_envs=2, seed=3)\n"
    "obs, info = env.reset()\n"
    "for _ in range(5):\n"
    "    obs, rew, term, trunc, info = env.step(np.full((2, 4), 0.5, np.float32))\n"
    "assert obs['observation'].shape == (2, 10) and np.isfinite(obs['observation']).all()\n"
    "print('STEPPED', rew.tolist())\n"
    "print('LOADED', robotics_loader.loaded_path())\n"
)


def _wheel(directory: Path, pattern: str) -> Path:
    wheels = sorted(directory.glob(pattern))
    if not wheels:
        pytest.skip(f"no {pattern} in {directory}")
    return wheels[0]


def _library_in(python: Path) -> Path:
    proc = run_python(python, "from envpool import robotics_loader; print(robotics_loader.library_path())")
    assert proc.returncode == 0, proc.stderr
    return Path(proc.stdout.strip())


def test_missing_then_skewed_mujoco_core(make_venv: MakeVenv, thirdparty: Path, tmp_path: Path) -> None:
    python = make_venv([f"envpool=={VERSION}", f"envpool-assets-robotics=={VERSION}"])
    proc = run_python(python, RUN)
    assert proc.returncode != 0
    assert "MissingExtraError" in proc.stderr and "needs mujoco-core, which is not installed" in proc.stderr
    assert PIP_LINE in proc.stderr
    # mujoco-core at another version (a copy of the real wheel, renumbered)
    skewed = with_version(wheel_for_this_python(thirdparty, "mujoco_core"), "3.3.7", tmp_path)
    make_venv.install(python, [str(skewed)], no_deps=True)  # type: ignore[attr-defined]
    proc = run_python(python, RUN)
    assert proc.returncode != 0 and "VersionSkewError" in proc.stderr, proc.stderr
    assert "needs mujoco-core==4.0.0" in proc.stderr and "mujoco-core 3.3.7 is installed" in proc.stderr
    assert PIP_LINE in proc.stderr


def test_full_install_then_damaged_libmujoco_then_skewed_assets(
    make_venv: MakeVenv, wheelhouse: Path, tmp_path: Path
) -> None:
    python = make_venv([f"envpool[robotics]=={VERSION}"])
    proc = run_python(python, RUN)
    assert proc.returncode == 0, proc.stderr
    library = _library_in(python)
    assert f"LOADED {library}" in proc.stdout
    # a truncated libmujoco is reported (not loaded, no crash)
    data = library.read_bytes()
    library.unlink()  # never write through the file: uv hardlinks it from its shared cache
    library.write_bytes(data[: len(data) // 3])
    proc = run_python(python, RUN)
    assert proc.returncode == 1 and "BrokenInstallError" in proc.stderr, proc.stderr
    assert str(library) in proc.stderr and "damaged" in proc.stderr
    assert f'pip install --force-reinstall "envpool[robotics]=={VERSION}"' in proc.stderr
    library.unlink()
    proc = run_python(python, RUN)
    assert proc.returncode == 1 and "BrokenInstallError" in proc.stderr and "cannot be read" in proc.stderr
    # the asset wheel at another version
    assets = _wheel(wheelhouse, f"envpool_assets_robotics-{VERSION}-*.whl")
    make_venv.install(python, [str(with_version(assets, "0.0.9", tmp_path))], no_deps=True)  # type: ignore[attr-defined]
    proc = run_python(python, RUN)
    assert proc.returncode == 1 and "VersionSkewError" in proc.stderr, proc.stderr
    assert f"needs envpool-assets-robotics=={VERSION}" in proc.stderr and "0.0.9 is installed" in proc.stderr
    assert PIP_LINE in proc.stderr


def test_envpool_and_mujoco_core_in_separate_target_dirs(
    make_venv: MakeVenv, wheelhouse: Path, thirdparty: Path, tmp_path: Path
) -> None:
    python = make_venv([])
    uv = str(Path(sys.executable).parent / "uv")
    dirs = {name: tmp_path / name for name in ("core", "mujoco", "assets")}
    requirements = {
        "core": [f"envpool=={VERSION}"],
        "mujoco": ["mujoco-core==4.0.0"],
        "assets": ["--no-deps", f"envpool-assets-robotics=={VERSION}"],
    }
    for name, target in dirs.items():
        cmd = [uv, "pip", "install", "--quiet", "--python", str(python), "--no-index"]
        cmd += ["--find-links", str(wheelhouse), "--find-links", str(thirdparty), "--target", str(target)]
        subprocess.run([*cmd, *requirements[name]], check=True)
    assert not list(dirs["core"].rglob("libmujoco*"))  # envpool's target has no MuJoCo of its own
    libraries = list(dirs["mujoco"].rglob("libmujoco.so.4.0.0"))
    assert len(libraries) == 1
    path = ":".join(str(d) for d in dirs.values())
    proc = run_python(python, RUN, env={"PYTHONPATH": path})
    assert proc.returncode == 0, proc.stderr
    assert "STEPPED" in proc.stdout
    loaded = proc.stdout.split("LOADED ", 1)[1].strip()
    assert Path(loaded).resolve() == libraries[0].resolve()


def test_platlib_and_purelib_differ(make_venv: MakeVenv, wheelhouse: Path, thirdparty: Path) -> None:
    """As on distributions whose platlib is lib64: platform wheels in one site dir, pure ones in another."""
    python = make_venv(["numpy", "gymnasium", "platformdirs", "filelock", f"envpool-assets-robotics=={VERSION}"])
    venv = python.parent.parent
    (purelib,) = venv.glob("lib/python3.*/site-packages")
    lib64 = venv / "lib64"
    if lib64.is_symlink():
        lib64.unlink()
    platlib = lib64 / purelib.parent.name / "site-packages"
    platlib.mkdir(parents=True)
    # site.py adds a platlib that differs from purelib as a site dir of its own; so does this .pth.
    (purelib / "zz_platlib.pth").write_text(f"import site; site.addsitedir({str(platlib)!r})\n")
    uv = str(Path(sys.executable).parent / "uv")
    cmd = [uv, "pip", "install", "--quiet", "--python", str(python), "--no-index", "--no-deps"]
    cmd += ["--find-links", str(wheelhouse), "--find-links", str(thirdparty), "--target", str(platlib)]
    subprocess.run([*cmd, f"envpool=={VERSION}", "mujoco-core==4.0.0"], check=True)
    assert not list(purelib.glob("envpool/")) and not list(purelib.rglob("libmujoco*"))
    proc = run_python(python, RUN)
    assert proc.returncode == 0, proc.stderr
    assert "STEPPED" in proc.stdout
    loaded = Path(proc.stdout.split("LOADED ", 1)[1].strip())
    assert loaded.resolve().is_relative_to(platlib.resolve())
