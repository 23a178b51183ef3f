"""The fault-injection suite runs in one extras combination only, like the release-tool tests.

``nox -s tests`` sets ENVPOOL_RUN_TOOL_TESTS=1 only in the CPython 3.11 ``[all]`` venv; unset (a
plain ``pytest tests/faults``) counts as 1. Cases that need a family carry ``@pytest.mark.family``.
Every test has a hard timeout (pytest-timeout, ``method="thread"``: a hang inside C++ that never
returns to Python still ends the run with every thread's stack, instead of stalling it).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("ENVPOOL_RUN_TOOL_TESTS", "1") == "1":
        return
    skip = pytest.mark.skip(reason="the fault-injection suite runs in one extras combination only")
    for item in items:
        if Path(str(item.path)).is_relative_to(HERE):
            item.add_marker(skip)
