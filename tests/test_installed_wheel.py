"""The installed core is the wheel of the release matrix for this interpreter, at the manylinux floor."""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

import envpool
from tools.release.release_set import GLIBC_FLOOR


def _wheel_tags() -> list[str]:
    text = metadata.distribution("envpool").read_text("WHEEL") or ""
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]


def test_extension_modules_match_the_interpreter_abi() -> None:
    modules = sorted(p.name for p in Path(envpool.__file__).parent.glob("_*.so"))
    assert modules, "no family extension module installed"
    if sys.version_info >= (3, 12):
        assert all(m.endswith(".abi3.so") for m in modules), modules
    else:
        tag = f".cpython-{sys.version_info[0]}{sys.version_info[1]}-x86_64-linux-gnu.so"
        assert all(m.endswith(tag) for m in modules), modules


def test_wheel_tag_is_abi3_from_312_and_at_most_manylinux_2_28() -> None:
    tags = _wheel_tags()
    assert tags, "the installed envpool has no WHEEL tags"
    for tag in tags:
        python, abi, platform = tag.split("-")
        if sys.version_info >= (3, 12):
            assert (python, abi) == ("cp312", "abi3"), tag
        else:
            assert (python, abi) == ("cp311", "cp311"), tag
        m = re.fullmatch(r"manylinux_(\d+)_(\d+)_x86_64|manylinux2014_x86_64", platform)
        assert m, tag
        if m[1]:
            assert (int(m[1]), int(m[2])) <= GLIBC_FLOOR, tag
