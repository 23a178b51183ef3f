"""The ABI fingerprint of the library wheel: what it provides, beyond its version number.

The fingerprint covers the sonames of every bundled library, the Qt and ICU versions they report,
and a hash of every exported dynamic symbol with its version (``soname<TAB>symbol<TAB>version``
lines, sorted). Two builds of the same version that differ in what a module can bind to get
different fingerprints. The wheel's manifest carries it; the core records the one it was built
against, and ``envpool.procgen_loader`` refuses a library wheel whose fingerprint differs.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from tools.common.elf import dynamic_info, dynamic_symbols
from tools.common.hashing import sha256_bytes

if TYPE_CHECKING:
    from pathlib import Path


def _sha256_text(text: str) -> str:
    return sha256_bytes(text.encode())


def abi_fingerprint(libdir: Path, library_versions: dict[str, str]) -> dict[str, object]:
    """The fingerprint block of the manifest for the libraries in ``libdir``."""
    sonames: list[str] = []
    lines: list[str] = []
    for lib in sorted(p for p in libdir.iterdir() if p.is_file()):
        soname = dynamic_info(lib).soname or lib.name
        sonames.append(soname)
        for name, versions in dynamic_symbols(lib).exports.items():
            lines += [f"{soname}\t{name}\t{v or ''}" for v in versions]
    body: dict[str, object] = {
        "sonames": sorted(sonames),
        "library_versions": dict(sorted(library_versions.items())),
        "exports_sha256": _sha256_text("\n".join(sorted(lines)) + "\n"),
        "exported_symbols": len(lines),
    }
    return {**body, "fingerprint": "sha256:" + _sha256_text(json.dumps(body, sort_keys=True))}
