"""A task whose family needs an extra that is not installed is listed, and make() names the pip line."""

from __future__ import annotations

import pytest

import envpool
from envpool.families import FAMILIES
from envpool.tasks import TASKS

OPTIONAL = [name for name, family in FAMILIES.items() if family.extra is not None]


@pytest.mark.parametrize("family", [pytest.param(f, marks=pytest.mark.family_absent(f)) for f in OPTIONAL])
def test_make_names_the_pip_line(family: str) -> None:
    tasks = [t.task_id for t in TASKS if t.family == family]
    assert tasks, f"no task registered for {family}"
    for task_id in tasks:
        assert task_id in envpool.list_all_envs()
        with pytest.raises(envpool.MissingExtraError) as info:
            envpool.make(task_id)
        assert f'pip install "envpool[{FAMILIES[family].extra}]=={envpool.__version__}"' in str(info.value)
        with pytest.raises(envpool.MissingExtraError):
            envpool.make_spec(task_id)


@pytest.mark.parametrize("family", [pytest.param(f, marks=pytest.mark.family(f)) for f in OPTIONAL])
def test_installed_extra_has_its_siblings_at_the_pinned_versions(family: str) -> None:
    """The wheel's Requires-Dist for the extra pins exactly the family's siblings, at the installed versions.

    The skip condition reads the runtime's table (FAMILIES); this reads the installed wheel's metadata.
    """
    from importlib import metadata

    from packaging.requirements import Requirement

    extra = FAMILIES[family].extra
    pins = {}
    for line in metadata.requires("envpool") or []:
        req = Requirement(line)
        if req.marker is not None and req.marker.evaluate({"extra": extra}):
            (spec,) = req.specifier
            assert spec.operator == "==", f"{line}: the extra must pin its sibling exactly"
            pins[req.name] = spec.version
    assert pins == {s.distribution: s.version or envpool.__version__ for s in FAMILIES[family].siblings}
    for distribution, version in pins.items():
        assert metadata.version(distribution) == version
