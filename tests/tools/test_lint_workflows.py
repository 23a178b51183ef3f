"""tools.release.lint_workflows: SHA pins, permissions, and the build-steps rule (workflows build only through nox)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tools import REPO
from tools.release import install_matrix, lint_workflows, release_set

if TYPE_CHECKING:
    from pathlib import Path

SHA = "08c6903cd8c0fde910a37f88322edcfb5dd907a8"


def write_workflow(root: Path, body: str) -> Path:
    """Write .github/workflows/w.yml under ``root``."""
    wf = root / ".github" / "workflows"
    wf.mkdir(parents=True, exist_ok=True)
    path = wf / "w.yml"
    path.write_text(body)
    return path


def test_pins_accept_sha_with_version_comment(tmp_path: Path) -> None:
    path = write_workflow(
        tmp_path,
        f"name: w\non: push\npermissions: {{}}\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        f"      - uses: actions/checkout@{SHA} # v5.0.0\n      - uses: ./local-action\n",
    )
    assert lint_workflows.pin_problems(path) == []


@pytest.mark.parametrize(
    ("uses", "why"),
    [
        ("actions/checkout@v5", "not pinned to a full commit SHA"),
        (f"actions/checkout@{SHA[:12]} # v5.0.0", "not pinned to a full commit SHA"),
        (f"actions/checkout@{SHA}", "no '# vX.Y.Z' version comment"),
    ],
)
def test_pins_reject_tags_short_shas_and_missing_comments(tmp_path: Path, uses: str, why: str) -> None:
    path = write_workflow(
        tmp_path,
        "name: w\non: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
        f"      - uses: {uses}\n",
    )
    (problem,) = lint_workflows.pin_problems(path)
    assert why in problem
    assert "w.yml:8" in problem


def test_pins_require_empty_top_level_permissions(tmp_path: Path) -> None:
    path = write_workflow(tmp_path, "name: w\non: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps: []\n")
    (problem,) = lint_workflows.pin_problems(path)
    assert "permissions: {}" in problem


def test_repository_workflows_are_pinned() -> None:
    ok, detail = lint_workflows.check_pins(REPO)
    assert ok, detail


HEADER = "name: w\non: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n"
#: line 8 of every workflow below is its first step
GOOD_STEPS = [
    "      - run: nox -s lint\n",
    "      - run: python -m pip install nox uv\n",
    "      - run: sudo apt-get update && sudo apt-get install -y debootstrap\n",
    '      - run: sudo -E env "PATH=$PATH" nox -s tests\n',
    "      - name: publish\n        run: >-\n          nox -s publish -- wheelhouse\n          --repository-url URL\n",
    "      - run: |\n          # comments are not commands\n          nox -s build -- --only cp312-abi3\n",
]


@pytest.mark.parametrize("step", GOOD_STEPS)
def test_build_steps_accept_setup_and_nox(tmp_path: Path, step: str) -> None:
    write_workflow(tmp_path, HEADER + step)
    ok, detail = lint_workflows.check_build_steps(tmp_path)
    assert ok, detail


@pytest.mark.parametrize(
    ("step", "line", "why"),
    [
        ("      - run: uv build --out-dir wheelhouse packages/core\n", 8, "uv build"),
        ("      - run: python -m pip wheel -w wheelhouse packages/core\n", 8, "pip wheel"),
        ("      - run: |\n          nox -s lint\n          python -m build packages/core\n", 10, "python -m build"),
        (
            "      - run: >-\n          docker run --rm quay.io/pypa/manylinux_2_28_x86_64\n          bash -c 'x'\n",
            9,
            "docker run",
        ),
        (f"      - uses: pypa/cibuildwheel@{SHA} # v4.1.0\n", 8, "cibuildwheel"),
        ("      - run: python -m pip install cibuildwheel\n", 8, "cibuildwheel"),
        ("      - run: auditwheel repair -w wheelhouse dist/*.whl\n", 8, "auditwheel repair"),
        ("      - run: python -m twine upload wheelhouse/*\n", 8, "twine upload"),
        (f"      - uses: pypa/gh-action-pypi-publish@{SHA} # v1.13.0\n", 8, "gh-action-pypi-publish"),
        ("      - run: mkdir dist && mv wheelhouse/envpool_* dist/\n", 8, "mv/cp of wheelhouse/ files"),
        (
            "      - run: |\n          nox -s build\n          cp wheelhouse/envpool-* dist/\n",
            10,
            "mv/cp of wheelhouse/ files",
        ),
        ("      - run: python -m tools.release.size_guard wheelhouse\n", 8, "a run: step may only set up the runner"),
        (
            "      - run: |\n          nox -s build \\\n            && ls wheelhouse\n",
            9,
            "a run: step may only set up the runner",
        ),
        ("      - run: nox -s build\n          && ls wheelhouse\n", 8, "a run: step may only set up the runner"),
        ('      - run: "echo hi"\n', 8, "a run: step may only set up the runner"),
    ],
)
def test_build_steps_fail_on_builds_uploads_and_other_commands(tmp_path: Path, step: str, line: int, why: str) -> None:
    write_workflow(tmp_path, HEADER + step)
    ok, detail = lint_workflows.check_build_steps(tmp_path)
    assert not ok
    assert f"w.yml:{line}: {why}" in detail


def test_repository_workflows_build_only_through_nox() -> None:
    ok, detail = lint_workflows.check_build_steps(REPO)
    assert ok, detail


def test_install_matrix_combinations_follow_present_packages() -> None:
    core = [p for p in release_set.PACKAGES if p.extra is None]
    vizdoom = [p for p in release_set.PACKAGES if p.extra == "vizdoom"]
    assert release_set.combinations(core) == [None]
    assert release_set.combinations(core + vizdoom) == [None, "vizdoom"]
    every = release_set.combinations(release_set.PACKAGES)
    assert every[0] is None and every[-1] == "all"
    fams = {"classic_control": None, "vizdoom": "vizdoom", "robotics": "robotics"}
    assert install_matrix.families_for(None, fams) == {"classic_control"}
    assert install_matrix.families_for("vizdoom", fams) == {"classic_control", "vizdoom"}
    assert install_matrix.families_for("all", fams) == set(fams)


# --- aarch64 is built here, never on an Arm runner (issue 15) ----------------------------------------------

JOB = "name: w\non: push\npermissions: {}\njobs:\n  build:\n"


@pytest.mark.parametrize(
    "runs_on",
    [
        "    runs-on: ubuntu-24.04-arm",
        "    runs-on: ubuntu-22.04-arm # an Arm runner",
        "    runs-on: [self-hosted, linux, ARM64]",
        "    runs-on:\n      - self-hosted\n      - aarch64",
        "    runs-on: ${{ matrix.os }}\n    strategy:\n      matrix:\n        os: [ubuntu-24.04, ubuntu-24.04-arm]",
        (
            "    runs-on: ${{ matrix.runner }}\n    strategy:\n      matrix:\n        include:\n"
            "          - runner: linux-arm64"
        ),
    ],
)
def test_a_job_on_an_arm_runner_fails(tmp_path: Path, runs_on: str) -> None:
    write_workflow(tmp_path, f"{JOB}{runs_on}\n    steps:\n      - run: nox -s build\n")
    ok, detail = lint_workflows.check_build_steps(tmp_path)
    assert not ok
    assert "Arm runner" in detail and "w.yml:" in detail and "nox -s build" in detail


@pytest.mark.parametrize(
    "uses",
    [f"docker/setup-qemu-action@{SHA} # v3.6.0", "docker://tonistiigi/binfmt:latest"],
)
def test_a_qemu_setup_for_an_emulated_build_fails(tmp_path: Path, uses: str) -> None:
    write_workflow(tmp_path, f"{JOB}    runs-on: ubuntu-24.04\n    steps:\n      - uses: {uses}\n")
    ok, detail = lint_workflows.check_build_steps(tmp_path)
    assert not ok
    assert "QEMU setup for an emulated build" in detail


def test_pip_installing_cibuildwheel_fails(tmp_path: Path) -> None:
    body = f"{JOB}    runs-on: ubuntu-24.04\n    steps:\n      - run: python -m pip install cibuildwheel\n"
    write_workflow(tmp_path, body)
    ok, detail = lint_workflows.check_build_steps(tmp_path)
    assert not ok
    assert "cibuildwheel" in detail


def test_x86_runners_and_the_emulators_apt_package_pass(tmp_path: Path) -> None:
    """The emulated tests run the built aarch64 wheels under qemu-user-static on the x86-64 runner: allowed."""
    body = (
        f"{JOB}    name: tests (aarch64 under emulation)\n    runs-on: ${{{{ matrix.os }}}}\n    strategy:\n"
        "      matrix:\n        os: [ubuntu-24.04]\n    steps:\n"
        "      - run: sudo apt-get install -y qemu-user-static # runs the aarch64 wheels\n"
        "      - run: nox -s tests_aarch64\n"
    )
    write_workflow(tmp_path, body)
    assert lint_workflows.check_build_steps(tmp_path) == (True, "1 workflow(s) build only through nox")


def test_the_repositorys_workflows_use_no_arm_runner() -> None:
    for path in lint_workflows.workflow_files(REPO):
        assert lint_workflows.runner_problems(path) == [], path
