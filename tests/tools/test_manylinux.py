"""tools.release.manylinux: the tag read from ``auditwheel show``'s report, on both architectures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.release import manylinux

_HEAD = '{name} is consistent with the following platform tag: "{consistent}". '
_SYMBOLS = (
    "The wheel references external versioned symbols in these system-provided shared libraries: "
    "libm.so.6 with versions {{'GLIBC_2.17'}}, libc.so.6 with versions {{{versions}}} "
)


def _report(consistent: str, versions: str, constraint: str = "", *, tail: str = "") -> str:
    text = _HEAD.format(name="w.whl", consistent=consistent) + _SYMBOLS.format(versions=versions)
    if constraint:
        text += f'This constrains the platform tag to "{constraint}". In order to achieve a more compatible tag ... '
    return text + tail


@pytest.mark.parametrize(
    ("report", "tag"),
    [
        # x86_64: symbols above manylinux_2_5 print their constraint, which wins
        (_report("linux_x86_64", "'GLIBC_2.2.5', 'GLIBC_2.17'", "manylinux_2_17_x86_64"), "manylinux_2_17_x86_64"),
        # aarch64: GLIBC_2.17 is the baseline, auditwheel prints no constraint; the listed versions give it
        (
            _report("linux_aarch64", "'GLIBC_2.17'", tail="The following external shared libraries are required: {}"),
            "manylinux_2_17_aarch64",
        ),
        # a newer symbol on aarch64 is printed as a constraint again
        (_report("linux_aarch64", "'GLIBC_2.29'", "manylinux_2_31_aarch64"), "manylinux_2_31_aarch64"),
        # a wheel that needs no library outside the policy: its consistent tag
        ('w.whl is consistent with the following platform tag: "manylinux_2_17_aarch64".', "manylinux_2_17_aarch64"),
    ],
)
def test_tag_from_report(monkeypatch: pytest.MonkeyPatch, report: str, tag: str) -> None:
    class Done:
        returncode = 0
        stdout = report
        stderr = ""

    monkeypatch.setattr(manylinux.process, "run", lambda *a, **k: Done())
    assert manylinux.auditwheel_tag(Path("w.whl")) == tag


def test_baseline_needs_the_symbol_paragraph() -> None:
    assert manylinux._baseline('w.whl is consistent with the following platform tag: "linux_aarch64".') == ""
