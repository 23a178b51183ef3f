"""`import envpool` is light: no family extension, no NumPy, no gymnasium, no sibling needed."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from tests.helpers import run_python

# Run in a fresh interpreter: which modules a statement loads, and what it printed on stderr.
PROBE = (
    "import json, sys, envpool\n"
    "{statement}\n"
    "print(json.dumps({{'file': envpool.__file__, 'result': result, "
    "'modules': sorted(m for m in sys.modules if m.startswith(('envpool', 'numpy', 'gymnasium')))}}))"
)


def probe(statement: str) -> tuple[dict[str, Any], str]:
    """Execute ``statement`` (which sets ``result``) after ``import envpool`` in a new process."""
    proc = run_python(Path(sys.executable), PROBE.format(statement=statement))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc.stderr


def families_loaded(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith("envpool._") and m != "envpool._version"]


def test_import_loads_no_family_and_no_heavy_dependency() -> None:
    data, stderr = probe("result = None")
    assert stderr == ""  # no warnings on import
    assert not [m for m in data["modules"] if m.startswith(("numpy", "gymnasium"))], data["modules"]
    assert families_loaded(data["modules"]) == []
    assert "site-packages" in data["file"]


def test_version_is_the_release_set_version(repo_root: Path) -> None:
    import envpool

    assert envpool.__version__ == (repo_root / "VERSION").read_text().strip()


def test_list_all_envs_needs_no_extension() -> None:
    data, _ = probe("result = envpool.list_all_envs()")
    ids = data["result"]
    assert "CartPole-v1" in ids and len(ids) == len(set(ids))
    assert families_loaded(data["modules"]) == []


def test_make_loads_only_the_family_it_needs() -> None:
    data, stderr = probe("envpool.make('CartPole-v1', num_envs=2); result = None")
    assert families_loaded(data["modules"]) == ["envpool._classic_control"]
    assert stderr == ""
