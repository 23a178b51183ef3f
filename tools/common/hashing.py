"""The tools' one sha256 helper: hex digests of bytes, streams and files, and wheel RECORD digests."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

_CHUNK = 1 << 20


def sha256_stream(chunks: Iterable[bytes]) -> str:
    """The hex sha256 of the concatenated ``chunks``."""
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """The hex sha256 of ``data``."""
    return sha256_stream((data,))


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file, read in chunks."""
    with path.open("rb") as fh:
        return sha256_stream(iter(lambda: fh.read(_CHUNK), b""))


def record_digest(data: bytes) -> str:
    """The digest field of a wheel RECORD line: ``sha256=`` and the unpadded urlsafe base64 digest."""
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
