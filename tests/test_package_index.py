"""The one package-index client (envpool.package_index): which index and certificates win, listing, checked downloads.

No network: pip configuration files under tmp_path, and HTTP(S) servers on 127.0.0.1 in a thread.
The tools load the same file (tests/tools/test_index_client.py).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from envpool import package_index

BODY = b"x" * 3_000_000
SHA = hashlib.sha256(BODY).hexdigest()
Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No index, certificate or pip configuration of the host; HOME and the XDG dirs under tmp_path."""
    for var in list(os.environ):
        if var.startswith(("PIP_", "UV_")) or var in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
            monkeypatch.delenv(var)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "xdg"))
    return home


def _conf(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_index_precedence_given_then_variables_then_pip_config_then_pypi(
    monkeypatch: pytest.MonkeyPatch, clean_env: Path
) -> None:
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    assert package_index.choose_index() == package_index.Setting("https://pypi.org/simple", "the default")
    monkeypatch.setenv(
        "PIP_CONFIG_FILE", str(_conf(clean_env / "pip.conf", "[global]\nindex-url = http://conf/simple/\n"))
    )
    assert package_index.choose_index().value == "http://conf/simple"
    assert package_index.choose_index().source == f"pip config {clean_env / 'pip.conf'} [global]"
    monkeypatch.setenv("UV_INDEX_URL", "http://uv-old/simple")
    assert package_index.choose_index() == package_index.Setting("http://uv-old/simple", "UV_INDEX_URL")
    monkeypatch.setenv("UV_DEFAULT_INDEX", "http://uv/simple")
    assert package_index.choose_index() == package_index.Setting("http://uv/simple", "UV_DEFAULT_INDEX")
    monkeypatch.setenv("PIP_INDEX_URL", "http://pip/simple/")
    assert package_index.choose_index() == package_index.Setting("http://pip/simple", "PIP_INDEX_URL")
    assert package_index.choose_index("http://given/simple/") == package_index.Setting(
        "http://given/simple", "--index-url"
    )


def test_pip_config_files_in_pip_order(monkeypatch: pytest.MonkeyPatch, clean_env: Path, tmp_path: Path) -> None:
    user = _conf(clean_env / ".config" / "pip" / "pip.conf", "[global]\nindex-url = http://user/simple\n")
    assert package_index.choose_index().value == "http://user/simple"
    # [install] beats [global], whichever file each is in; pip's underscore spelling is accepted
    _conf(tmp_path / "xdg" / "pip" / "pip.conf", "[install]\nindex_url = http://site-wide-install/simple\n")
    assert package_index.choose_index().value == "http://site-wide-install/simple"
    # PIP_CONFIG_FILE is read last (it wins) and, existing, turns the user's files off
    env_file = _conf(tmp_path / "env.conf", "[install]\nindex-url = http://env-file/simple\n")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(env_file))
    assert package_index.choose_index().value == "http://env-file/simple"
    assert user not in package_index.pip_config_files()
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    assert package_index.pip_config_files() == []
    assert package_index.choose_index().value == package_index.DEFAULT_INDEX


def test_certificate_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    files = {name: _conf(tmp_path / f"{name}.pem", "") for name in ("pip", "conf", "ssl", "requests")}
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    assert package_index.choose_certificates() is None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(files["requests"]))
    assert package_index.choose_certificates() == package_index.Setting(str(files["requests"]), "REQUESTS_CA_BUNDLE")
    monkeypatch.setenv("SSL_CERT_FILE", str(files["ssl"]))
    assert package_index.choose_certificates() == package_index.Setting(str(files["ssl"]), "SSL_CERT_FILE")
    monkeypatch.setenv("PIP_CONFIG_FILE", str(_conf(tmp_path / "pip.conf", f"[global]\ncert = {files['conf']}\n")))
    assert package_index.choose_certificates().value == str(files["conf"])  # type: ignore[union-attr]
    monkeypatch.setenv("PIP_CERT", str(files["pip"]))
    assert package_index.choose_certificates() == package_index.Setting(str(files["pip"]), "PIP_CERT")
    monkeypatch.setenv("PIP_CERT", str(tmp_path / "nowhere.pem"))
    with pytest.raises(package_index.IndexAccessError, match=r"nowhere\.pem \(from PIP_CERT\) do not exist"):
        package_index.choose_certificates()


def _serve(handle: Handler, context: ssl.SSLContext | None = None) -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            handle(self)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    scheme = "https" if context is not None else "http"
    try:
        yield f"{scheme}://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _answer(req: http.server.BaseHTTPRequestHandler, body: bytes, ctype: str, length: int | None = None) -> None:
    req.send_response(200)
    req.send_header("Content-Type", ctype)
    req.send_header("Content-Length", str(len(body) if length is None else length))
    req.end_headers()
    req.wfile.write(body)


def _index_page(req: http.server.BaseHTTPRequestHandler) -> None:
    if req.path == "/simple/demo-pkg/":  # PEP 691 JSON (the client asks for it first)
        files = [{"filename": "demo_pkg-1.0-py3-none-any.whl", "url": "../../f/w.whl", "hashes": {"sha256": SHA}}]
        _answer(req, json.dumps({"files": files}).encode(), "application/vnd.pypi.simple.v1+json")
    elif req.path == "/html/demo-pkg/":
        _answer(req, b'<a href="/f/demo_pkg-1.0.tar.gz#sha256=ab">other text</a>', "text/html")
    elif req.path == "/f/w.whl":
        _answer(req, BODY, "application/octet-stream")
    elif req.path == "/f/cut.whl":
        _answer(req, BODY[:1000], "application/octet-stream", length=len(BODY))
    else:
        req.send_response(404)
        req.end_headers()


@pytest.fixture
def server() -> Iterator[str]:
    yield from _serve(_index_page)


def test_list_files_json_html_and_missing_project(server: str) -> None:
    (json_file,) = package_index.list_files(package_index.Setting(f"{server}/simple/", "test"), "Demo_Pkg")
    assert json_file == package_index.IndexFile("demo_pkg-1.0-py3-none-any.whl", f"{server}/f/w.whl", SHA)
    (html_file,) = package_index.list_files(package_index.Setting(f"{server}/html", "test"), "demo.pkg")
    assert html_file == package_index.IndexFile("demo_pkg-1.0.tar.gz", f"{server}/f/demo_pkg-1.0.tar.gz", "ab")
    with pytest.raises(package_index.ProjectNotFound, match=r"has no project nothing-here .*HTTP 404"):
        package_index.list_files(package_index.Setting(f"{server}/simple", "test"), "nothing-here")
    with pytest.raises(
        package_index.IndexAccessError, match=r"cannot reach the index http://127\.0\.0\.1:9 \(from test\)"
    ):
        package_index.list_files(package_index.Setting("http://127.0.0.1:9", "test"), "demo-pkg")


def test_download_checks_sha256_and_length(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "w.whl"
    assert package_index.download(f"{server}/f/w.whl", dest, sha256=SHA, log=lambda _m: None) == SHA
    assert dest.read_bytes() == BODY
    bad = tmp_path / "bad.whl"
    with pytest.raises(package_index.DownloadError, match=r"sha256 mismatch for bad\.whl: expected 0{64}") as info:
        package_index.download(f"{server}/f/w.whl", bad, sha256="0" * 64, log=lambda _m: None)
    assert not info.value.transient
    with pytest.raises(package_index.DownloadError, match=r"was cut after 1000 ") as info:
        package_index.download(f"{server}/f/cut.whl", bad, log=lambda _m: None)
    assert info.value.transient
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "w.whl"]  # no partial file is left


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An https index on 127.0.0.1 with a self-signed certificate (made by openssl)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cmd = [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
    cmd += ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(cmd, check=True, capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    for url in _serve(_index_page, context):
        yield url, cert


@pytest.mark.parametrize("how", ["PIP_CERT", "pip config", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
def test_each_certificate_option_is_used(
    tls_server: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, how: str
) -> None:
    url, cert = tls_server
    index = package_index.Setting(f"{url}/simple", "test")
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    with pytest.raises(package_index.IndexAccessError, match="CERTIFICATE_VERIFY_FAILED"):
        package_index.list_files(index, "demo-pkg")  # the system's trust store does not know this certificate
    if how == "pip config":
        monkeypatch.setenv("PIP_CONFIG_FILE", str(_conf(tmp_path / "pip.conf", f"[global]\ncert = {cert}\n")))
    else:
        monkeypatch.setenv(how, str(cert))
    assert [f.filename for f in package_index.list_files(index, "demo-pkg")] == ["demo_pkg-1.0-py3-none-any.whl"]
    assert package_index.download(f"{url}/f/w.whl", tmp_path / "w.whl", sha256=SHA, log=lambda _m: None) == SHA
