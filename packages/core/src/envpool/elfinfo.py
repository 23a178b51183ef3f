"""A small, bounds-checked ELF reader: a shared library's ``DT_SONAME`` and GNU build id.

Used by ``envpool doctor --all`` at run time, where pyelftools is not installed. Only the program
headers are read (``PT_NOTE`` for ``NT_GNU_BUILD_ID``, ``PT_DYNAMIC`` + ``PT_LOAD`` for the
soname), so stripped section headers do not matter. Every offset and size read from the file is
checked against the file's size before it is used; a malformed or truncated file raises
:class:`ElfError`, never another exception.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO

PT_LOAD, PT_DYNAMIC, PT_NOTE = 1, 2, 4
DT_NULL, DT_STRTAB, DT_SONAME = 0, 5, 14
NT_GNU_BUILD_ID = 3
_MAX_HEADERS = 4096  # program headers / dynamic entries / notes read at most (real files have tens)
_MAX_STRING = 4096


class ElfError(ValueError):
    """The file is not a well-formed ELF file (truncated, out-of-range offset, bad magic)."""


@dataclass(frozen=True)
class ElfFacts:
    """What ``read`` found: the soname and the GNU build id (hex), each None when absent."""

    soname: str | None
    build_id: str | None


@dataclass(frozen=True)
class _Segment:
    type: int
    offset: int
    vaddr: int
    filesz: int
    align: int


class _Reader:
    def __init__(self, fh: BinaryIO, size: int) -> None:
        self.fh, self.size = fh, size

    def bytes(self, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise ElfError(f"{length} bytes at offset {offset} lie outside the file ({self.size} bytes)")
        self.fh.seek(offset)
        data = self.fh.read(length)
        if len(data) != length:
            raise ElfError(f"short read at offset {offset}")
        return data

    def string(self, offset: int) -> str:
        length = min(_MAX_STRING, self.size - offset)
        data = self.bytes(offset, max(length, 0))
        end = data.find(b"\0")
        if end < 0:
            raise ElfError(f"unterminated string at offset {offset}")
        return data[:end].decode("utf-8", "replace")


def read(path: str) -> ElfFacts:
    """The soname and build id of the ELF file at ``path``; ElfError (or OSError) when unreadable."""
    with open(path, "rb") as fh:
        fh.seek(0, 2)
        reader = _Reader(fh, fh.tell())
        ident = reader.bytes(0, 16)
        if ident[:4] != b"\x7fELF" or ident[4] not in (1, 2) or ident[5] not in (1, 2):
            raise ElfError("not an ELF file")
        is64, order = ident[4] == 2, "<" if ident[5] == 1 else ">"
        segments = _segments(reader, is64, order)
        return ElfFacts(_soname(reader, segments, is64, order), _build_id(reader, segments, order))


def _segments(reader: _Reader, is64: bool, order: str) -> list[_Segment]:
    if is64:
        phoff = struct.unpack(order + "Q", reader.bytes(32, 8))[0]
        entsize, count = struct.unpack(order + "HH", reader.bytes(54, 4))
        fmt, need = order + "IIQQQQQQ", 56
    else:
        phoff = struct.unpack(order + "I", reader.bytes(28, 4))[0]
        entsize, count = struct.unpack(order + "HH", reader.bytes(42, 4))
        fmt, need = order + "IIIIIIII", 32
    if count == 0:
        return []
    if entsize < need or count > _MAX_HEADERS:
        raise ElfError(f"bad program header table ({count} entries of {entsize} bytes)")
    out = []
    for i in range(count):
        fields = struct.unpack(fmt, reader.bytes(phoff + i * entsize, need))
        if is64:
            ptype, _flags, offset, vaddr, _paddr, filesz, _memsz, align = fields
        else:
            ptype, offset, vaddr, _paddr, filesz, _memsz, _flags, align = fields
        out.append(_Segment(ptype, offset, vaddr, filesz, align))
    return out


def _build_id(reader: _Reader, segments: list[_Segment], order: str) -> str | None:
    for seg in segments:
        if seg.type != PT_NOTE:
            continue
        data = reader.bytes(seg.offset, seg.filesz)
        align = 8 if seg.align == 8 else 4
        pos = 0
        for _ in range(_MAX_HEADERS):
            if pos + 12 > len(data):
                break
            namesz, descsz, ntype = struct.unpack(order + "III", data[pos : pos + 12])
            name_at = pos + 12
            desc_at = _pad(name_at + namesz, align)
            end = _pad(desc_at + descsz, align)
            if desc_at + descsz > len(data):
                raise ElfError("a note runs past its segment")
            if ntype == NT_GNU_BUILD_ID and data[name_at : name_at + namesz] == b"GNU\0":
                return data[desc_at : desc_at + descsz].hex()
            pos = end
    return None


def _pad(n: int, align: int) -> int:
    return (n + align - 1) // align * align


def _soname(reader: _Reader, segments: list[_Segment], is64: bool, order: str) -> str | None:
    dynamic = next((s for s in segments if s.type == PT_DYNAMIC), None)
    if dynamic is None:
        return None
    entsize = 16 if is64 else 8
    fmt = order + ("qQ" if is64 else "iI")
    data = reader.bytes(dynamic.offset, dynamic.filesz)
    strtab = soname = None
    for i in range(min(len(data) // entsize, _MAX_HEADERS)):
        tag, value = struct.unpack(fmt, data[i * entsize : (i + 1) * entsize])
        if tag == DT_NULL:
            break
        if tag == DT_STRTAB:
            strtab = value
        elif tag == DT_SONAME:
            soname = value
    if strtab is None or soname is None:
        return None
    # DT_STRTAB is a virtual address: map it to a file offset through the PT_LOAD segment holding it.
    for seg in segments:
        if seg.type == PT_LOAD and seg.vaddr <= strtab < seg.vaddr + seg.filesz:
            return reader.string(strtab - seg.vaddr + seg.offset + soname)
    raise ElfError("DT_STRTAB lies in no loaded segment")
