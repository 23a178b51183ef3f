"""tools.lint_workflows: SHA pins, permissions, and the cibuildwheel identifiers of the real config."""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pytest

from tools import install_matrix, lint_workflows, release_set

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
    ok, detail = lint_workflows.check_pins(release_set.REPO)
    assert ok, detail


def test_core_cibuildwheel_identifiers() -> None:
    if lint_workflows._tool("cibuildwheel") is None and shutil.which("cibuildwheel") is None:
        pytest.skip("cibuildwheel is not installed in this venv (tests/requirements.txt)")
    ok, detail = lint_workflows.check_cibuildwheel(release_set.REPO)
    assert ok, detail


def test_install_matrix_combinations_follow_present_packages() -> None:
    core = [p for p in release_set.PACKAGES if p.extra is None]
    vizdoom = [p for p in release_set.PACKAGES if p.extra == "vizdoom"]
    assert install_matrix.combinations(core) == [None]
    assert install_matrix.combinations(core + vizdoom) == [None, "vizdoom"]
    every = install_matrix.combinations(release_set.PACKAGES)
    assert every[0] is None and every[-1] == "all"
    fams = {"classic_control": None, "vizdoom": "vizdoom", "robotics": "robotics"}
    assert install_matrix.families_for(None, fams) == {"classic_control"}
    assert install_matrix.families_for("vizdoom", fams) == {"classic_control", "vizdoom"}
    assert install_matrix.families_for("all", fams) == set(fams)
