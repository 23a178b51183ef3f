"""Shared fixtures. The suite runs inside a venv where envpool was installed from wheelhouse/.

It never imports envpool from the source tree: the repository root goes on sys.path only so
that tests of the release tools can import ``tools.*`` (and the fixtures below take the default
wheelhouse and third-party cache from tools.release.release_set).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.append(str(REPO_ROOT))

import envpool  # noqa: E402
from envpool.families import FAMILIES  # noqa: E402
from envpool.resolution import resolve  # noqa: E402
from tools.release.release_set import THIRDPARTY, WHEELHOUSE  # noqa: E402

SOURCE_TREE = REPO_ROOT / "packages"

# uv hardlinks installed files from its cache by default: a test that corrupts a file in a venv
# would corrupt the cache (and every later venv). Copies keep each venv independent.
os.environ["UV_LINK_MODE"] = "copy"


def family_installed(name: str) -> bool:
    """True when the family's siblings are installed at their pinned versions in this venv."""
    try:
        resolve(name, check_files=False)
    except ImportError:
        return False
    return True


def pytest_configure(config: pytest.Config) -> None:
    # A test that imports envpool from packages/ would prove nothing about the built wheels.
    if Path(envpool.__file__).resolve().is_relative_to(SOURCE_TREE):
        raise pytest.UsageError(f"envpool was imported from the source tree ({envpool.__file__}), not a wheel")


TOOLS_DIR = REPO_ROOT / "tests" / "tools"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The release-tool tests read the wheelhouse, not the venv: nox runs them in one extras
    # combination only (ENVPOOL_RUN_TOOL_TESTS=1), not once per combination.
    run_tools = os.environ.get("ENVPOOL_RUN_TOOL_TESTS", "1") == "1"
    for item in items:
        if not run_tools and Path(str(item.path)).is_relative_to(TOOLS_DIR):
            item.add_marker(pytest.mark.skip(reason="release-tool tests run in one extras combination only"))
        for mark in item.iter_markers("family"):
            name = mark.args[0]
            if name not in FAMILIES:
                raise pytest.UsageError(f"{item.nodeid}: unknown family {name!r}")
            if not family_installed(name):
                item.add_marker(pytest.mark.skip(reason=f"the {name} extra is not installed in this venv"))
        for mark in item.iter_markers("family_absent"):
            name = mark.args[0]
            if family_installed(name):
                item.add_marker(pytest.mark.skip(reason=f"the {name} extra is installed in this venv"))


def _dir_from_env(var: str, default: Path) -> Path:
    path = Path(os.environ.get(var, default))
    if not path.is_dir():
        pytest.skip(f"{var} ({path}) does not exist: run the suite with `nox -s tests`")
    return path


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root (for reading data such as lock files, never for importing envpool)."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def wheelhouse() -> Path:
    """The directory holding the release set under test."""
    return _dir_from_env("ENVPOOL_WHEELHOUSE", WHEELHOUSE)


@pytest.fixture(scope="session")
def thirdparty() -> Path:
    """The local cache of third-party wheels."""
    return _dir_from_env("ENVPOOL_THIRDPARTY", THIRDPARTY)


def _uv() -> str:
    return str(Path(sys.executable).parent / "uv")


MakeVenv = Callable[..., Path]


@pytest.fixture(scope="session")
def make_venv(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path, thirdparty: Path) -> Iterator[MakeVenv]:
    """A factory of fresh venvs: ``make_venv(["envpool[vizdoom]"], no_deps=False) -> python``.

    Packages come only from the wheelhouse and the third-party cache (offline).
    """

    def make(requirements: list[str], no_deps: bool = False) -> Path:
        root = tmp_path_factory.mktemp("venv")
        subprocess.run([_uv(), "venv", "--quiet", "--python", sys.executable, str(root)], check=True)
        python = root / "bin" / "python"
        if requirements:
            install(python, requirements, no_deps=no_deps)
        return python

    def install(python: Path, requirements: list[str], no_deps: bool = False) -> None:
        # --refresh: a rebuilt wheel keeps its file name; never take a stale copy from uv's cache.
        cmd = [_uv(), "pip", "install", "--quiet", "--refresh", "--python", str(python), "--no-index"]
        cmd += ["--find-links", str(wheelhouse), "--find-links", str(thirdparty)]
        if no_deps:
            cmd.append("--no-deps")
        subprocess.run([*cmd, *requirements], check=True)

    make.install = install  # type: ignore[attr-defined]
    yield make
