"""The ``index`` fixture of the fetch tests: a local index on 127.0.0.1 (tests/fetch/index.py)."""

from __future__ import annotations

import http.server
import threading
from typing import TYPE_CHECKING

import pytest

from tests.fetch.index import IndexState, _Handler, build_asset_wheel

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def index(tmp_path: Path) -> Iterator[tuple[str, IndexState]]:
    """A simple index on 127.0.0.1 serving a freshly built vizdoom asset wheel."""
    state = IndexState()
    wheel = build_asset_wheel(tmp_path / "wheels")
    state.files[wheel.name] = wheel
    handler = type("Handler", (_Handler,), {"state": state})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
