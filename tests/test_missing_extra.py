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
    from importlib import metadata

    for sib in FAMILIES[family].siblings:
        assert metadata.version(sib.distribution) == (sib.version or envpool.__version__)
