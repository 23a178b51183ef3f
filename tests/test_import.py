"""`import envpool` is light: no family extension, no NumPy, no gymnasium, no sibling needed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.helpers import run_python


def test_import_loads_no_family_and_no_heavy_dependency() -> None:
    code = (
        "import json, sys, envpool\n"
        "print(json.dumps({'file': envpool.__file__, 'version': envpool.__version__, "
        "'modules': sorted(m for m in sys.modules if m.startswith(('envpool', 'numpy', 'gymnasium')))}))"
    )
    result = run_python(Path(sys.executable), code)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no warnings on import
    data = json.loads(result.stdout)
    assert not [m for m in data["modules"] if m.startswith(("numpy", "gymnasium"))], data["modules"]
    assert not [m for m in data["modules"] if m.startswith("envpool._") and m != "envpool._version"], data["modules"]
    assert "site-packages" in data["file"]


def test_version_is_the_release_set_version(repo_root: Path) -> None:
    import envpool

    assert envpool.__version__ == (repo_root / "VERSION").read_text().strip()


def test_list_all_envs_needs_no_extension() -> None:
    code = (
        "import json, sys, envpool\n"
        "ids = envpool.list_all_envs()\n"
        "print(json.dumps([ids, [m for m in sys.modules if m.startswith('envpool._') and m != 'envpool._version']]))"
    )
    result = run_python(Path(sys.executable), code)
    assert result.returncode == 0, result.stderr
    ids, loaded = json.loads(result.stdout)
    assert "CartPole-v1" in ids and len(ids) == len(set(ids))
    assert loaded == []


def test_make_loads_only_the_family_it_needs() -> None:
    code = (
        "import json, sys, envpool\n"
        "env = envpool.make('CartPole-v1', num_envs=2)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('envpool._') and m != 'envpool._version')))"
    )
    result = run_python(Path(sys.executable), code)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["envpool._classic_control"]
    assert result.stderr == ""
