"""Each fact of the release set's table is written in one place: a copy that reappears fails here.

The facts live in tools/release/release_set.py: the version of every third-party pin (mujoco-core),
the sonames the core's auditwheel repair excludes, each size budget, every distribution an extra
pins, the platforms the library wheel is published for (as a marker) and the third-party wheel
cache. Every tracked file (``git ls-files``) is searched; a fact may appear only in the table and in
the allow-list below, where quoting it is legitimate:

- ``README.md`` and ``docs/*.md``: prose that tells readers the values;
- ``tests/``: tests state their expectations independently of the code under test.

Everything else derives the facts from the table: tools import it, and the core's build reads the
``pins.json`` that tools.release.build writes from it (its backend adds the build requirement and
the extras, CMake takes the MuJoCo pin from it).
"""

from __future__ import annotations

import fnmatch
import json
import re
import subprocess
import tarfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from tools import REPO
from tools.common.distfile import artifact
from tools.release import release_set
from tools.release.release_set import MB, PACKAGES, PINS_FILE, excluded_libraries

if TYPE_CHECKING:
    from pathlib import Path

#: Where the facts are defined.
HOME = "tools/release/release_set.py"
LIBRARY_BUDGET_MB = release_set.package_of_kind("library").budget // MB
#: Files that may quote a fact (fnmatch patterns; ``*`` also matches ``/``).
ALLOWED = ("README.md", "docs/*.md", "tests/*")
#: Copies that another change of issue 12 removes: the runtime (packages/core/src/envpool) will read
#: the mujoco-core pin from the installed envpool's own Requires-Dist. Each entry must still match,
#: so it is deleted here as soon as its copy is gone. (path, fact name)


@dataclass(frozen=True)
class Fact:
    """One fact of the table and how a copy of it is spelled."""

    name: str
    pattern: re.Pattern[str]
    sample: str  # a spelling the pattern must find (so a pattern cannot silently match nothing)
    in_home: bool  # the table itself spells it this way


def _pins() -> list[release_set.Pin]:
    found = {pin for p in PACKAGES for pin in (*p.extra_pins, *p.build_pins)}
    return sorted(found, key=lambda pin: pin.distribution)


def _budget_pattern(n: int) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w.]){n}(?:\s*\*\s*(?:MB\b|1_?000_?000\b)|_000_000\b)")


def facts() -> list[Fact]:
    """Every fact the table declares, with the pattern of a copy."""
    out = []
    for pin in _pins():
        version = re.compile(rf"(?<![\w.]){re.escape(pin.version)}(?![\w]|\.\d)")
        out.append(Fact(f"the {pin.distribution} version {pin.version}", version, pin.requirement, True))
    for soname in sorted({s for p in PACKAGES for s in excluded_libraries(p)}):
        out.append(Fact(f"the excluded soname {soname}", re.compile(re.escape(soname)), soname, False))
    for p in PACKAGES:
        assert p.budget % MB == 0, f"{p.distribution}: budgets are whole MB; extend _budget_pattern"
        n = p.budget // MB
        out.append(Fact(f"the budget of {p.distribution} ({n} MB)", _budget_pattern(n), f"{n} * MB", True))
    pinned = [p.distribution for p in PACKAGES if p.extra] + [pin.distribution for pin in _pins()]
    for name in pinned:
        as_pin = re.compile(rf"(?<![\w-]){re.escape(name)}\s*(?:==|>=|<=|~=|!=)")
        out.append(Fact(f"{name} used as a pin", as_pin, f'"{name}==1.0"', False))
    for plat in {plat for p in PACKAGES for plat in p.platforms}:
        machine = re.compile(rf"""platform_machine\s*==\s*["']{re.escape(plat.machine)}["']""")
        out.append(Fact(f"the published platform {plat.machine} as a marker", machine, plat.marker, False))
    cache = re.compile(r"""["']\.cache["']\s*/\s*["']thirdparty["']|["']\.cache/thirdparty["']""")
    out.append(Fact("the third-party wheel cache .cache/thirdparty", cache, 'REPO / ".cache" / "thirdparty"', True))
    return out


def tracked_files() -> list[str]:
    """The repository's tracked files, relative to its root."""
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    return sorted(n for n in out.decode().split("\0") if n)


def _text(path: Path) -> str | None:
    if not path.is_file() or path.is_symlink():
        return None
    data = path.read_bytes()
    return None if b"\0" in data[:8192] else data.decode("utf-8", "replace")


def hits(name: str, text: str, fact: Fact) -> list[str]:
    """``name:line: text`` of every line of ``text`` that spells ``fact``."""
    return [
        f"{name}:{i}: {line.strip()[:140]}" for i, line in enumerate(text.splitlines(), 1) if fact.pattern.search(line)
    ]


def allowed(name: str) -> bool:
    """True when ``name`` may quote the facts (the table itself or the allow-list)."""
    return name == HOME or any(fnmatch.fnmatch(name, pattern) for pattern in ALLOWED)


@pytest.fixture(scope="module")
def sources() -> dict[str, str]:
    """Text of every tracked file outside the allow-list (the table itself included)."""
    texts = {n: _text(REPO / n) for n in tracked_files() if n == HOME or not allowed(n)}
    return {n: t for n, t in texts.items() if t is not None}


@pytest.mark.parametrize("fact", facts(), ids=lambda f: f.name)
def test_fact_is_written_only_in_the_table(fact: Fact, sources: dict[str, str]) -> None:
    assert fact.pattern.search(fact.sample), f"the pattern of {fact.name} does not even find {fact.sample!r}"
    if fact.in_home:
        assert hits(HOME, sources[HOME], fact), f"{HOME} no longer spells {fact.name}: update this test's patterns"
    copies = [h for name, text in sources.items() if name != HOME for h in hits(name, text, fact)]
    assert not copies, (
        f"{fact.name} is typed outside {HOME}; derive it from the table instead "
        f"(tools: import tools.release.release_set; the core's build: pins.json):\n  " + "\n  ".join(copies)
    )


def test_the_scan_finds_a_copy() -> None:
    """The patterns catch the copies this issue removed, as they were written."""
    old = {
        "packages/core/pyproject.toml": 'requires = ["scikit-build-core>=1.0", "nanobind>=2.4", "mujoco-core==4.0.0"]',
        "packages/core/CMakeLists.txt": "set(ENVPOOL_MUJOCO_VERSION 4.0.0)",
        "tools/release/build_procgen_libs.py": f"BUDGET = {LIBRARY_BUDGET_MB} * MB",
        "tools/release/install_matrix.py": 'CACHE = REPO / ".cache" / "thirdparty"',
        "noxfile.py": 'result = { procgen = ["envpool-procgen-libs=={project[version]}"] }',
    }
    found = {name for name, text in old.items() for fact in facts() if hits(name, text, fact)}
    assert found == set(old)
    assert not any(hits("x.py", "size = 103_000_000  # 4.0.0.1 and 14.0.0 are other numbers", f) for f in facts())


def test_all_is_the_union_of_the_extras() -> None:
    extras = release_set.optional_dependencies("1.0")
    assert list(extras)[-1] == release_set.ALL_EXTRA
    union = [r for extra, reqs in extras.items() if extra != release_set.ALL_EXTRA for r in reqs]
    assert extras[release_set.ALL_EXTRA] == list(dict.fromkeys(union))
    assert {p.extra for p in PACKAGES if p.extra} == set(extras) - {release_set.ALL_EXTRA}


def _with_extra(requirement: str, extra: str) -> str:
    """``requirement`` as Requires-Dist spells it under ``extra`` (its own marker, if any, and the extra's)."""
    spec, _, marker = requirement.partition("; ")
    if not marker:
        return f'{spec}; extra == "{extra}"'
    return (
        f'{spec}; ({marker}) and extra == "{extra}"' if " or " in marker else f'{spec}; {marker} and extra == "{extra}"'
    )


def test_the_library_requirement_names_its_platforms() -> None:
    """The library wheel's extra requirement carries the marker of exactly the platforms of its row."""
    library = release_set.package_of_kind("library")
    assert library.platforms, "the library wheel is published for some platforms only: its row must say which"
    extras = release_set.optional_dependencies("1.0")
    each = [f'platform_system == "{p.system}" and platform_machine == "{p.machine}"' for p in library.platforms]
    marker = each[0] if len(each) == 1 else " or ".join(f"({m})" for m in each)
    for extra in (library.extra, release_set.ALL_EXTRA):
        assert f"{library.distribution}==1.0; {marker}" in extras[str(extra)]
    platforms = release_set.core_pins("1.0")["procgen-libs"]
    assert platforms == {
        "distribution": library.distribution,
        "platforms": [{"system": p.system, "machine": p.machine} for p in library.platforms],
    }


def test_core_artifacts_carry_the_tables_pins(wheelhouse: Path) -> None:
    """The built core (sdist and wheels) says what the table says: the derivation works end to end."""
    version = release_set.version()
    core = release_set.package_of_kind("extension")
    sdists = sorted(wheelhouse.glob(f"{core.normalized}-{version}.tar.gz"))
    wheels = sorted(wheelhouse.glob(f"{core.normalized}-{version}-*.whl"))
    if not sdists or not wheels:
        pytest.skip(f"no {core.distribution} {version} sdist and wheel in {wheelhouse}: run nox -s build")
    with tarfile.open(sdists[0]) as tf:
        member = tf.getmember(f"{core.normalized}-{version}/{PINS_FILE}")
        assert member.isfile(), f"{PINS_FILE} must be a plain file in the sdist"
        f = tf.extractfile(member)
        assert f is not None
        assert json.load(f) == release_set.core_pins(version), f"{sdists[0].name}: stale {PINS_FILE}; rebuild"
    extras = release_set.optional_dependencies(version)
    expected = {_with_extra(req, extra) for extra, reqs in extras.items() for req in reqs}
    for wheel in wheels:
        meta = artifact(wheel).fields()
        assert set(meta.get("Provides-Extra", [])) == set(extras), wheel.name
        assert {r for r in meta.get("Requires-Dist", []) if "extra ==" in r} == expected, wheel.name
