"""The tools use the core's index client (envpool/package_index.py in the source tree): one rule for both."""

from __future__ import annotations

import http.server
import threading
from typing import TYPE_CHECKING

import pytest

from tools.assets import fetch
from tools.assets.tree import AssetError
from tools.common import index
from tools.release import publish

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def test_tools_load_the_core_client_from_the_source_tree(repo_root: Path) -> None:
    assert repo_root / "packages" / "core" / "src" / "envpool" / "package_index.py" == index.SOURCE
    assert index.client.__file__ == str(index.SOURCE)
    assert index.client.__name__ != "envpool.package_index"  # never an installed envpool standing in for the source


@pytest.fixture
def simple_index() -> Iterator[str]:
    """A PEP 503 page listing one wheel of demo-pkg on 127.0.0.1."""
    page = b'<a href="/files/demo_pkg-1.0-py3-none-any.whl#sha256=ab">demo_pkg-1.0-py3-none-any.whl</a>'

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ok = self.path == "/simple/demo-pkg/"
            self.send_response(200 if ok else 404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            if ok:
                self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("variable", ["PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_CONFIG_FILE"])
def test_the_build_follows_the_one_rule(
    simple_index: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str
) -> None:
    for var in ("PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", "/dev/null")
    if variable == "PIP_CONFIG_FILE":
        conf = tmp_path / "pip.conf"
        conf.write_text(f"[global]\nindex-url = {simple_index}\n")
        monkeypatch.setenv(variable, str(conf))
    else:
        monkeypatch.setenv(variable, simple_index)
    url, sha = fetch.find("demo-pkg", "demo_pkg-1.0-py3-none-any.whl")
    assert (url, sha) == (simple_index.replace("/simple", "/files/demo_pkg-1.0-py3-none-any.whl"), "ab")
    source = "pip config" if variable == "PIP_CONFIG_FILE" else variable
    with pytest.raises(AssetError, match=rf"\(from {source}.*has no project other-pkg"):
        fetch.find("other-pkg", "x.whl")
    # an explicit URL (publish --index-url, find's index) wins over every setting
    with pytest.raises(AssetError, match=r"cannot reach the index http://127\.0\.0\.1:9/simple \(from --index-url\)"):
        fetch.find("demo-pkg", "demo_pkg-1.0-py3-none-any.whl", "http://127.0.0.1:9/simple")
    assert publish.listed_files(simple_index + "/", "demo-pkg") == {"demo_pkg-1.0-py3-none-any.whl": "ab"}
