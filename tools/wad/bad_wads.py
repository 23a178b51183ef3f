"""Generate the malformed-WAD corpus in tests/fixtures/bad_wads/ (tiny files, one defect each).

Each file comes with the lump its error must name (``manifest.json``: file -> lump, "header"
for defects of the header/directory itself). The reader (envpool._vizdoom.read_wad) must raise
ValueError naming the file and that lump, never crash or hang. Run:

    python -m tools.wad.bad_wads [--out tests/fixtures/bad_wads]
"""

from __future__ import annotations

import argparse
import json
import struct
from pathlib import Path
from typing import TYPE_CHECKING

from tools import REPO

if TYPE_CHECKING:
    from collections.abc import Callable

DEFAULT_OUT = REPO / "tests" / "fixtures" / "bad_wads"

Lump = tuple[str, bytes]


def wad(lumps: list[Lump], kind: bytes = b"PWAD") -> bytes:
    """A well-formed WAD: header, lump data, then the directory."""
    data = b""
    entries = []
    offset = 12
    for name, body in lumps:
        entries.append((offset, len(body), name))
        data += body
        offset += len(body)
    directory = b"".join(struct.pack("<ii8s", o, s, n.encode()) for o, s, n in entries)
    return kind + struct.pack("<ii", len(lumps), 12 + len(data)) + data + directory


def raw_wad(entries: list[tuple[int, int, str]], data: bytes, count: int | None = None) -> bytes:
    """A WAD whose directory entries (offset, size, name) are given as is."""
    directory = b"".join(struct.pack("<ii8s", o, s, n.encode()) for o, s, n in entries)
    n = len(entries) if count is None else count
    return b"PWAD" + struct.pack("<ii", n, 12 + len(data)) + data + directory


def doom_map(
    *,
    vertexes: int = 4,
    line: tuple[int, int, int, int] = (0, 1, 0, 0xFFFF),
    side_sector: int = 0,
    sectors: int = 1,
    behavior: bool = False,
) -> list[Lump]:
    """A one-linedef Doom (or Hexen, with BEHAVIOR) map with the given references."""
    v1, v2, front, back = line
    if behavior:
        things = struct.pack("<hhhhhhh6B", 0, 0, 0, 0, 0, 1, 7, *[0] * 6)
    else:
        things = struct.pack("<hhhhh", 0, 0, 0, 1, 7)
    if behavior:
        linedefs = struct.pack("<HHH6BHH", v1, v2, 1, 0, 0, 0, 0, 0, 0, front, back)
    else:
        linedefs = struct.pack("<HHHHHHH", v1, v2, 1, 0, 0, front, back)
    sidedefs = struct.pack("<hh8s8s8sH", 0, 0, b"-", b"-", b"STARTAN3", side_sector)
    verts = b"".join(struct.pack("<hh", 64 * i, 64 * (i % 2)) for i in range(vertexes))
    secs = b"".join(struct.pack("<hh8s8shhh", 0, 128, b"FLOOR4_8", b"CEIL3_5", 160, 0, 0) for _ in range(sectors))
    lumps: list[Lump] = [
        ("MAP01", b""),
        ("THINGS", things),
        ("LINEDEFS", linedefs),
        ("SIDEDEFS", sidedefs),
        ("VERTEXES", verts),
        ("SECTORS", secs),
    ]
    if behavior:
        lumps.append(("BEHAVIOR", b"ACS\x00" + b"\x00" * 12))
    return lumps


def udmf(text: str) -> list[Lump]:
    return [("MAP01", b""), ("TEXTMAP", text.encode()), ("ENDMAP", b"")]


UDMF_OK_HEAD = 'namespace = "zdoom";\nvertex { x = 0.0; y = 0.0; }\nvertex { x = 64.0; y = 0.0; }\n'


def patch(width: int = 2, height: int = 2, column_offset: int | None = None) -> bytes:
    """A picture with one post per column; `column_offset` overrides every column pointer."""
    header = struct.pack("<hhhh", width, height, 0, 0)
    table_end = 8 + 4 * width
    post = bytes([0, height, 0]) + bytes(range(height)) + bytes([0, 0xFF])
    offsets = [column_offset if column_offset is not None else table_end + i * len(post) for i in range(width)]
    return header + b"".join(struct.pack("<I", o) for o in offsets) + post * width


def textures(patch_index: int = 0, count: int | None = None) -> bytes:
    """TEXTURE1 with one 2x2 texture made of one patch."""
    tex = struct.pack("<8sihhih", b"WALL", 0, 2, 2, 0, 1) + struct.pack("<hhhhh", 0, 0, patch_index, 1, 0)
    n = 1 if count is None else count
    return struct.pack("<i", n) + struct.pack("<i", 8) + tex


def pnames(*names: str, count: int | None = None) -> bytes:
    n = len(names) if count is None else count
    return struct.pack("<i", n) + b"".join(struct.pack("<8s", s.encode()) for s in names)


CASES: dict[str, tuple[str, Callable[[], bytes]]] = {
    # header and directory
    "truncated_header.wad": ("header", lambda: b"PWAD\x01\x00"),
    "bad_magic.wad": ("header", lambda: b"XWAD" + struct.pack("<ii", 0, 12)),
    "negative_count.wad": ("header", lambda: b"PWAD" + struct.pack("<ii", -1, 12)),
    "huge_count.wad": ("header", lambda: b"PWAD" + struct.pack("<ii", 0x7FFFFFFF, 12) + b"\x00" * 16),
    "directory_past_end.wad": ("header", lambda: b"PWAD" + struct.pack("<ii", 2, 4096) + b"\x00" * 32),
    "truncated_directory.wad": ("header", lambda: wad([("MAP01", b""), ("THINGS", b"\x00" * 10)])[:-8]),
    "lump_past_end.wad": ("THINGS", lambda: raw_wad([(12, 100000, "THINGS")], b"\x00" * 16)),
    "lump_overlaps_header.wad": ("PLAYPAL", lambda: raw_wad([(4, 8, "PLAYPAL")], b"\x00" * 16)),
    "negative_lump_size.wad": ("SECTORS", lambda: raw_wad([(12, -5, "SECTORS")], b"\x00" * 16)),
    "negative_lump_offset.wad": ("VERTEXES", lambda: raw_wad([(-100, 4, "VERTEXES")], b"\x00" * 16)),
    # classic Doom / Hexen map records
    "linedef_bad_vertex.wad": ("LINEDEFS", lambda: wad(doom_map(line=(0, 500, 0, 0xFFFF)))),
    "linedef_bad_sidedef.wad": ("LINEDEFS", lambda: wad(doom_map(line=(0, 1, 9, 0xFFFF)))),
    "linedef_bad_backside.wad": ("LINEDEFS", lambda: wad(doom_map(line=(0, 1, 0, 7)))),
    "sidedef_bad_sector.wad": ("SIDEDEFS", lambda: wad(doom_map(side_sector=3))),
    "missing_sectors.wad": ("SECTORS", lambda: wad(doom_map()[:-1])),
    "hexen_bad_vertex.wad": ("LINEDEFS", lambda: wad(doom_map(line=(7, 1, 0, 0xFFFF), behavior=True))),
    # UDMF
    "udmf_bad_sector.wad": (
        "TEXTMAP",
        lambda: wad(
            udmf(
                UDMF_OK_HEAD + "linedef { v1 = 0; v2 = 1; sidefront = 0; }\nsidedef { sector = 7; }\n"
                'sector { texturefloor = "F"; textureceiling = "C"; }\n'
            )
        ),
    ),
    "udmf_bad_vertex.wad": (
        "TEXTMAP",
        lambda: wad(
            udmf(
                UDMF_OK_HEAD + "linedef { v1 = 0; v2 = -3; sidefront = 0; }\nsidedef { sector = 0; }\n"
                'sector { texturefloor = "F"; textureceiling = "C"; }\n'
            )
        ),
    ),
    "udmf_unterminated_block.wad": ("TEXTMAP", lambda: wad(udmf(UDMF_OK_HEAD + "thing { x = 1.0; y = 2.0; "))),
    "udmf_unterminated_string.wad": ("TEXTMAP", lambda: wad(udmf('namespace = "zdoom'))),
    "udmf_missing_field.wad": ("TEXTMAP", lambda: wad(udmf(UDMF_OK_HEAD + "thing { x = 1.0; type = 1; }\n"))),
    "udmf_huge_number.wad": ("TEXTMAP", lambda: wad(udmf(UDMF_OK_HEAD + "thing { x = 1e300; y = 0; type = 1; }\n"))),
    # palette, textures, patches
    "short_palette.wad": ("PLAYPAL", lambda: wad([("PLAYPAL", b"\x00" * 100)])),
    "texture_missing_patch.wad": ("TEXTURE1", lambda: wad([("PNAMES", pnames("NOPATCH")), ("TEXTURE1", textures())])),
    "texture_bad_pnames_index.wad": (
        "TEXTURE1",
        lambda: wad([("PNAMES", pnames("P1")), ("P1", patch()), ("TEXTURE1", textures(patch_index=5))]),
    ),
    "texture_huge_count.wad": (
        "TEXTURE1",
        lambda: wad([("PNAMES", pnames("P1")), ("P1", patch()), ("TEXTURE1", textures(count=0x10000000))]),
    ),
    "pnames_huge_count.wad": (
        "PNAMES",
        lambda: wad([("PNAMES", pnames("P1", count=0x7FFFFFF0)), ("TEXTURE1", textures())]),
    ),
    "patch_column_past_end.wad": (
        "P1",
        lambda: wad([("PNAMES", pnames("P1")), ("P1", patch(column_offset=5000)), ("TEXTURE1", textures())]),
    ),
    "patch_huge_size.wad": (
        "P1",
        lambda: wad(
            [("PNAMES", pnames("P1")), ("P1", struct.pack("<hhhh", 32000, 32000, 0, 0)), ("TEXTURE1", textures())]
        ),
    ),
    "patch_truncated_post.wad": (
        "P1",
        lambda: wad([("PNAMES", pnames("P1")), ("P1", patch()[:-6]), ("TEXTURE1", textures())]),
    ),
}


def generate(out: Path) -> dict[str, str]:
    """Write every case into ``out``; return the manifest (file -> lump its error names)."""
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, str] = {}
    for name, (lump, make) in sorted(CASES.items()):
        (out / name).write_bytes(make())
        manifest[name] = lump
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    manifest = generate(args.out)
    print(f"wrote {len(manifest)} files to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
