"""The library wheel's trimmed ICU data gives the same frames and Qt results as the full data, and is the data loaded.

The wheel's libicudata.so.56 keeps only the items of packages/procgen-libs/icu-data.txt. Each
comparison runs tests/procgen_icu_child.py twice, each time in a fresh process of this venv:

- once with the library wheel as installed;
- once with ICU's full upstream data package handed to ICU before its first use
  (``udata_setCommonData``, searched before the linked data).

The full package is cut from the locked PyQt5-Qt5 wheel in the artifact cache, as the build does.
The second process is therefore the untrimmed library wheel, and each run reports whether ICU can
open Shift_JIS, a converter the full data has and the list leaves out, to show which data it used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.family("procgen")

CHILD = Path(__file__).resolve().parent / "procgen_icu_child.py"


@pytest.fixture(scope="module")
def full_icu_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ICU 56's whole common data package, from the locked upstream wheel (fetched into the artifact cache)."""
    from tools.procgen_libs.icu_data import upstream_package

    work = tmp_path_factory.mktemp("icu-full")
    _, package = upstream_package(work)
    path = work / "icudt-full.dat"
    path.write_bytes(package)
    return path


def run_child(what: str, full_data: Path | None = None, env: dict[str, str] | None = None) -> dict[str, Any]:
    """The JSON the child prints: {"shift_jis": bool, "result": ...}."""
    cmd = [sys.executable, str(CHILD), what, *(["--full-data", str(full_data)] if full_data else [])]
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "ICU_"))}
    child_env.update(env or {})
    res = subprocess.run(cmd, capture_output=True, text=True, cwd="/", env=child_env, check=False, timeout=600)
    assert res.returncode == 0, f"{' '.join(cmd)} failed:\n{res.stdout}\n{res.stderr}"
    data: dict[str, Any] = json.loads(res.stdout.splitlines()[-1])
    return data


def trimmed_and_full(what: str, full_data: Path, env: dict[str, str] | None = None) -> tuple[Any, Any]:
    """The child's results with the installed (trimmed) data and with the full data; checks which data each used."""
    trimmed, full = run_child(what, env=env), run_child(what, full_data, env=env)
    assert trimmed["shift_jis"] is False, "the installed library wheel's ICU data has Shift_JIS: is it trimmed?"
    assert full["shift_jis"] is True, "ICU did not use the full data handed to it"
    return trimmed["result"], full["result"]


def test_frames_identical_with_full_icu_data(full_icu_data: Path) -> None:
    """Every procgen task, easy and hard, 200 steps of 4 envs: the same frames, by sha256, with either data."""
    trimmed, full = trimmed_and_full("frames", full_icu_data)
    assert trimmed == full
    assert {k.split("/")[0] for k in trimmed} == {"QtMaze-v0", "QtDodge-v0"}


@pytest.mark.parametrize("locale", ["C.UTF-8", "C"])
def test_qt_text_calls_match_full_icu_data(full_icu_data: Path, locale: str) -> None:
    """As with the full data: the codecs (the process's, every glibc locale's, every one offered) and case mapping."""
    env = {"LC_ALL": locale, "PYTHONCOERCECLOCALE": "0"}
    trimmed, full = trimmed_and_full("qt", full_icu_data, env)
    assert trimmed["locale_codec"] == full["locale_codec"] is not None
    assert trimmed["locale_codecs"] == full["locale_codecs"]
    # Qt has no codec for EUC-TW even with the full data; every other locale charset has one.
    assert [c for c, (_, result) in trimmed["locale_codecs"].items() if result is None] == ["EUC-TW"]
    assert trimmed["case"] == full["case"]
    assert trimmed["case"]["tr_TR"] != trimmed["case"]["en_US"]  # locale-specific case mapping is exercised
    # Fewer codecs are offered (the list keeps only the locale charsets), and each one offered is
    # the same codec as with the full data.
    assert set(trimmed["available"]) < set(full["available"])
    for name in trimmed["available"]:
        assert trimmed["codecs"][name] is not None, name
        assert trimmed["codecs"][name] == full["codecs"][name], name


def test_collation_falls_back_to_code_points(full_icu_data: Path) -> None:
    """Collation data is left out on purpose (icu-data.txt): QCollator then compares by code point, as for "C"."""
    trimmed, full = trimmed_and_full("qt", full_icu_data)
    code_points = trimmed["collation"]["C"]
    assert all(result == code_points for result in trimmed["collation"].values())
    assert full["collation"]["en_US"] != code_points  # with the full data ICU collates


def test_loaded_icu_data_is_the_reviewed_list() -> None:
    """load() reads the items back from the loaded libicudata: exactly the reviewed list, as the manifest says."""
    import envpool_procgen_libs

    from tools.procgen_libs.icu_data import read_list

    loaded = envpool_procgen_libs.load()
    entry = envpool_procgen_libs.manifest()["icu_data"]
    assert sorted(loaded.icu_data) == entry["items"] == sorted(read_list())
    assert entry["bytes"] < entry["upstream_bytes"] / 10
    assert len(loaded.icu_data) < entry["upstream_items"]
    path = loaded.files[Path(entry["file"]).name]
    assert path.parent == loaded.directory
    mapped = {line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines() if "libicudata" in line}
    assert mapped == {str(path)}
