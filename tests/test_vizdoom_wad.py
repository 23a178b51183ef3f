"""The WAD reader of the vizdoom family on malformed files (tests/fixtures/bad_wads/).

The reader is compiled into the core wheel (extension envpool._vizdoom), and these tests need no
asset file, so they run in every venv, with or without the vizdoom extra. Importing the
extension directly skips envpool.make()'s check for the asset wheel, which only tasks need.
"""

from __future__ import annotations

import importlib
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import pwad

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "bad_wads"
MANIFEST: dict[str, str] = json.loads((FIXTURES / "manifest.json").read_text())


def read_wad(path: Path) -> dict[str, Any]:
    module = importlib.import_module("envpool._vizdoom")  # in the core wheel, whatever the extras
    result: dict[str, Any] = module.read_wad(str(path))
    return result


def test_corpus_matches_its_generator(tmp_path: Path) -> None:
    from tools.wad.bad_wads import generate

    manifest = generate(tmp_path)
    assert manifest == MANIFEST
    for name in manifest:
        assert (tmp_path / name).read_bytes() == (FIXTURES / name).read_bytes(), f"{name} is stale: rerun the tool"


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_bad_wad_raises_value_error_naming_file_and_lump(name: str) -> None:
    path = FIXTURES / name
    with pytest.raises(ValueError) as info:
        read_wad(path)
    message = str(info.value)
    assert str(path) in message
    lump = MANIFEST[name]
    assert (f"lump '{lump}'" in message) if lump != "header" else (": header:" in message), message


def test_missing_file_is_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot open"):
        read_wad(tmp_path / "nope.wad")


def test_good_small_maps_parse(tmp_path: Path) -> None:
    """A valid Doom map and a valid UDMF map give the expected records (the reader is not just refusing)."""
    verts = struct.pack("<hhhhhh", 0, 0, 64, 0, 64, 64)
    doom = pwad(
        [
            ("MAP01", b""),
            ("THINGS", struct.pack("<hhhhh", 32, 16, 90, 1, 7)),
            ("LINEDEFS", struct.pack("<HHHHHHH", 0, 1, 1, 0, 0, 0, 0xFFFF)),
            ("SIDEDEFS", struct.pack("<hh8s8s8sH", 0, 0, b"-", b"-", b"STARTAN3", 0)),
            ("VERTEXES", verts),
            ("SECTORS", struct.pack("<hh8s8shhh", 0, 128, b"FLOOR4_8", b"CEIL3_5", 160, 0, 0)),
        ]
    )
    (tmp_path / "doom.wad").write_bytes(doom)
    info = read_wad(tmp_path / "doom.wad")
    assert info["kind"] == "PWAD"
    assert [name for name, _, _ in info["lumps"]][:3] == ["MAP01", "THINGS", "LINEDEFS"]
    m = info["maps"]["MAP01"]
    assert m["format"] == "doom"
    assert (m["things"], m["linedefs"], m["sidedefs"], m["vertexes"], m["sectors"]) == (1, 1, 1, 3, 1)
    assert m["vertex_xy"] == [(0.0, 0.0), (64.0, 0.0), (64.0, 64.0)]
    assert m["thing_xyt"] == [(32.0, 16.0, 1)]
    assert m["linedef_refs"] == [(0, 1, 0, -1, 0)]

    text = (
        'namespace = "zdoom"; // comment\n/* block\ncomment */\n'
        "vertex { x = 0.5; y = -2.0; }\nvertex { x = 64.0; y = 0.0; }\n"
        "linedef { v1 = 0; v2 = 1; sidefront = 0; blocking = true; }\n"
        'sidedef { sector = 0; texturemiddle = "GSTONE1"; }\n'
        'sector { heightceiling = 104; texturefloor = "NUKAGE1"; textureceiling = "CEIL4_1"; }\n'
        "thing { x = 8.0; y = 9.0; type = 1; }\nunknownblock { foo = 1; }\n"
    )
    (tmp_path / "udmf.wad").write_bytes(pwad([("MAP01", b""), ("TEXTMAP", text.encode()), ("ENDMAP", b"")]))
    u = read_wad(tmp_path / "udmf.wad")["maps"]["MAP01"]
    assert u["format"] == "udmf"
    assert u["vertex_xy"] == [(0.5, -2.0), (64.0, 0.0)]
    assert u["sector_heights"] == [(0.0, 104.0, 160)]
