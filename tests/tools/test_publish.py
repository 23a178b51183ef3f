"""tools.release.publish: the upload order (siblings, wait, core) and what it refuses to publish."""

from __future__ import annotations

import hashlib
import http.server
import itertools
import re
import threading
from typing import TYPE_CHECKING

import pytest

from tools.common.distfile import write_sdist, write_wheel
from tools.release import publish, release_set

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

VERSION = release_set.version()
CORE = next(p for p in release_set.PACKAGES if p.extra is None)
SIBLINGS = [p for p in release_set.PACKAGES if p.extra is not None]


def _metadata(distribution: str) -> str:
    return f"Metadata-Version: 2.4\nName: {distribution}\nVersion: {VERSION}\n\n"


def make_wheelhouse(directory: Path, order: Sequence[release_set.Package] = release_set.PACKAGES) -> Path:
    """A wheel and an sdist of each package, written in ``order`` (file times differ with the order)."""
    for p in order:
        files = {f"{p.normalized}/__init__.py": b""}
        tag = "cp311-cp311-manylinux_2_28_x86_64" if p.extra is None else "py3-none-any"
        write_wheel(directory, p.distribution, VERSION, files, metadata=_metadata(p.distribution), tag=tag)
        write_sdist(directory, p.distribution, VERSION, {"README.md": b"x"}, pkg_info=_metadata(p.distribution))
    return directory


def _is_core(path: Path) -> bool:
    package = release_set.package_of_artifact(path.name)
    assert package is not None, path.name
    return package.extra is None


@pytest.mark.parametrize("order", list(itertools.permutations(release_set.PACKAGES)))
def test_the_core_never_comes_before_a_sibling(tmp_path: Path, order: Sequence[release_set.Package]) -> None:
    wheelhouse = make_wheelhouse(tmp_path, order)
    # a second core wheel whose name sorts first, as a cp312-abi3 wheel does
    write_wheel(tmp_path, "envpool", VERSION, {}, metadata=_metadata("envpool"), tag="cp312-abi3-manylinux_2_28_x86_64")
    siblings, core = publish.upload_stages(wheelhouse)
    assert siblings and core
    assert not any(map(_is_core, siblings)) and all(map(_is_core, core))
    flat = [*siblings, *core]
    last_sibling = max(i for i, p in enumerate(flat) if not _is_core(p))
    first_core = min(i for i, p in enumerate(flat) if _is_core(p))
    assert last_sibling < first_core
    # every artifact is published, each once; plain name order would put the core first ('-' < '_')
    assert sorted(flat) == sorted(p for p in tmp_path.iterdir() if p.name.endswith((".whl", ".tar.gz")))
    assert _is_core(sorted(flat)[0])


@pytest.mark.parametrize(
    "name",
    ["notes.txt", "numpy-2.0.0-cp311-cp311-manylinux_2_28_x86_64.whl", f"envpool-{VERSION}.zip", "SHA256SUMS"],
)
def test_an_unknown_file_in_the_wheelhouse_is_refused(tmp_path: Path, name: str) -> None:
    make_wheelhouse(tmp_path)
    (tmp_path / name).write_bytes(b"x")
    with pytest.raises(publish.PublishError, match=rf"{re.escape(name)}: not a wheel or sdist"):
        publish.upload_stages(tmp_path)


def test_hidden_files_and_directories_are_ignored(tmp_path: Path) -> None:
    make_wheelhouse(tmp_path)
    (tmp_path / ".gitignore").write_text("*\n")
    (tmp_path / ".stamps").mkdir()
    (tmp_path / ".stamps" / "envpool.json").write_text("{}")
    siblings, core = publish.upload_stages(tmp_path)
    assert len(siblings) + len(core) == 2 * len(release_set.PACKAGES)


def test_another_version_is_refused(tmp_path: Path) -> None:
    make_wheelhouse(tmp_path)
    other = f"{VERSION}.post1"  # a wheel left over from another version
    meta = _metadata(SIBLINGS[0].distribution).replace(VERSION, other)
    write_wheel(tmp_path, SIBLINGS[0].distribution, other, {}, metadata=meta)
    with pytest.raises(publish.PublishError, match=rf"version {re.escape(other)}, VERSION says {re.escape(VERSION)}"):
        publish.upload_stages(tmp_path)


@pytest.mark.parametrize("missing", release_set.PACKAGES, ids=lambda p: p.distribution)
def test_a_present_package_without_a_wheel_is_refused(tmp_path: Path, missing: release_set.Package) -> None:
    make_wheelhouse(tmp_path, [p for p in release_set.PACKAGES if p != missing])
    with pytest.raises(publish.PublishError, match=f"no {missing.distribution} {VERSION} wheel"):
        publish.upload_stages(tmp_path, required=release_set.PACKAGES)


class FakeIndex:
    """An index that lists uploads after ``lag`` polls and fails a core upload while a sibling is not listed."""

    def __init__(self, lag: int = 0) -> None:
        self.files: dict[str, str] = {}  # listed: name -> sha256
        self.uploads: list[list[str]] = []
        self.lag = lag  # how many polls pass before an upload is listed
        self.pending: list[tuple[int, dict[str, str]]] = []
        self.polls = 0

    def upload(self, files: Sequence[Path], url: str) -> None:
        assert url == "https://upload.example/legacy/"
        names = [p.name for p in files]
        if any(release_set.package_of_artifact(n) == CORE for n in names):
            # the partial window: a core on the index while a sibling file is not listed yet
            unlisted = {n for batch in self.uploads for n in batch} - set(self.files)
            assert not unlisted, f"the core was uploaded while {unlisted} were not listed"
            for sibling in SIBLINGS:
                assert any(release_set.package_of_artifact(n) == sibling for n in self.files), sibling
        assert not set(names) & set(self.files), "a listed file was uploaded again"
        self.uploads.append(names)
        self.pending.append(
            (self.polls + self.lag, {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files})
        )

    def lister(self, index_url: str, distribution: str) -> dict[str, str | None]:
        assert index_url == "https://index.example/simple/"
        self.polls += 1
        for due, batch in list(self.pending):
            if self.polls >= due:
                self.files.update(batch)
                self.pending.remove((due, batch))
        package = next(p for p in release_set.PACKAGES if p.distribution == distribution)
        return {n: d for n, d in self.files.items() if release_set.package_of_artifact(n) == package}


def _publish(wheelhouse: Path, index: FakeIndex, **kwargs: object) -> None:
    publish.publish(
        wheelhouse,
        "https://upload.example/legacy/",
        "https://index.example/simple/",
        uploader=index.upload,
        lister=index.lister,
        sleep=lambda _s: None,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("lag", [0, 3])
def test_publish_uploads_siblings_waits_then_the_core(tmp_path: Path, lag: int) -> None:
    index = FakeIndex(lag=lag)
    _publish(make_wheelhouse(tmp_path), index)
    siblings, core = publish.upload_stages(tmp_path)
    assert index.uploads == [[p.name for p in siblings], [p.name for p in core]]
    # with a lagging index the core went up only once polling showed every sibling (FakeIndex.upload checks it)


def test_the_fake_index_catches_a_core_first_order(tmp_path: Path) -> None:
    siblings, core = publish.upload_stages(make_wheelhouse(tmp_path))
    with pytest.raises(AssertionError, match="while"):
        index = FakeIndex()
        index.upload(siblings, "https://upload.example/legacy/")
        index.upload(core, "https://upload.example/legacy/")  # no wait: the siblings are not listed yet


def test_stop_after_stage_1_uploads_the_siblings_only(tmp_path: Path) -> None:
    index = FakeIndex()
    _publish(make_wheelhouse(tmp_path), index, stop_after_stage=1)
    (only,) = index.uploads
    assert only and not any(release_set.package_of_artifact(n) == CORE for n in only)


def test_a_rerun_after_the_siblings_uploads_only_the_core(tmp_path: Path) -> None:
    index = FakeIndex()
    wheelhouse = make_wheelhouse(tmp_path)
    _publish(wheelhouse, index, stop_after_stage=1)
    _publish(wheelhouse, index)  # the same files again: the listed siblings are skipped, not re-uploaded
    _, core = publish.upload_stages(wheelhouse)
    assert len(index.uploads) == 2 and index.uploads[1] == [p.name for p in core]


def test_a_different_file_under_a_listed_name_stops_the_publish(tmp_path: Path) -> None:
    index = FakeIndex()
    wheelhouse = make_wheelhouse(tmp_path)
    _publish(wheelhouse, index, stop_after_stage=1)
    sibling_wheel = next(p for p in publish.upload_stages(wheelhouse)[0] if p.name.endswith(".whl"))
    sibling_wheel.write_bytes(sibling_wheel.read_bytes() + b"rebuilt")
    with pytest.raises(publish.PublishError, match=f"already has a different {re.escape(sibling_wheel.name)}"):
        _publish(wheelhouse, index)
    assert len(index.uploads) == 1


def test_the_core_is_not_uploaded_when_a_sibling_never_appears(tmp_path: Path) -> None:
    index = FakeIndex(lag=10**9)
    with pytest.raises(publish.PublishError, match="The core was NOT uploaded"):
        _publish(make_wheelhouse(tmp_path), index, wait_seconds=0)
    assert len(index.uploads) == 1


def test_wait_gives_up_after_wait_seconds(tmp_path: Path) -> None:
    siblings, _ = publish.upload_stages(make_wheelhouse(tmp_path))
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(publish.PublishError, match=r"after 12 s .* still does not list"):
        publish.wait_until_listed(
            "http://x/simple/", siblings, 12, lister=lambda *_: set(), sleep=sleep, clock=lambda: now[0]
        )


@pytest.fixture
def simple_index() -> Iterator[str]:
    """A static PEP 503 page for envpool-assets-vizdoom on 127.0.0.1."""
    page = (
        f'<html><body><a href="../../packages/envpool_assets_vizdoom-{VERSION}-py3-none-any.whl#sha256=ab">w</a>'
        f'<a href="https://files.example/x/envpool_assets_vizdoom-{VERSION}.tar.gz">s</a></body></html>'
    ).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            ok = self.path == "/simple/envpool-assets-vizdoom/"
            self.send_response(200 if ok else 404)
            self.end_headers()
            if ok:
                self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    server.shutdown()
    server.server_close()


def test_listed_files_reads_a_simple_index(simple_index: str) -> None:
    assert publish.listed_files(simple_index, "envpool_assets_vizdoom") == {
        f"envpool_assets_vizdoom-{VERSION}-py3-none-any.whl": "ab",
        f"envpool_assets_vizdoom-{VERSION}.tar.gz": None,
    }
    assert publish.listed_files(simple_index, "envpool") == {}


def test_pypi_without_a_password_needs_twine_6_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWINE_PASSWORD", raising=False)
    monkeypatch.setattr("importlib.metadata.version", lambda _name: "6.0.1")
    with pytest.raises(publish.PublishError, match=r"twine>=6\.1"):
        publish.check_twine_credentials("https://upload.pypi.org/legacy/")
    publish.check_twine_credentials("http://127.0.0.1:8080/")  # any other index: the usual TWINE_* variables


def test_a_tag_build_must_be_tagged_v_plus_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_REF_TYPE", "tag")
    monkeypatch.setenv("GITHUB_REF_NAME", f"v{VERSION}")
    publish.check_tag()
    monkeypatch.setenv("GITHUB_REF_NAME", f"v{VERSION}.post1")
    with pytest.raises(publish.PublishError, match="nox -s bump"):
        publish.check_tag()
    monkeypatch.setenv("GITHUB_REF_TYPE", "branch")  # branch builds (ci.yml) are not releases
    publish.check_tag()


def _two_arch_wheelhouse(directory: Path) -> Path:
    """The set of both architectures: a core and a library wheel per architecture, the rest pure."""
    for p in release_set.PACKAGES:
        tags = [f"cp311-cp311-manylinux_2_28_{a.machine}" for a in release_set.ARCHES] if p.extra is None else []
        tags += [f"py3-none-manylinux_2_28_{a.machine}" for a in release_set.ARCHES] if p.platforms else []
        for tag in tags or ["py3-none-any"]:
            files = {f"{p.normalized}/__init__.py": b""}
            write_wheel(directory, p.distribution, VERSION, files, metadata=_metadata(p.distribution), tag=tag)
    return directory


def test_both_architectures_are_published_siblings_first(tmp_path: Path) -> None:
    siblings, core = publish.upload_stages(_two_arch_wheelhouse(tmp_path))
    assert sorted([*siblings, *core]) == sorted(tmp_path.iterdir())
    for arch in release_set.ARCHES:
        assert any(p.name.endswith(f"_{arch.machine}.whl") and not _is_core(p) for p in siblings), arch
        assert any(p.name.endswith(f"_{arch.machine}.whl") for p in core), arch
    assert all(map(_is_core, core)) and not any(map(_is_core, siblings))


def test_a_core_without_its_architectures_library_wheel_is_refused(tmp_path: Path) -> None:
    _two_arch_wheelhouse(tmp_path)
    library = release_set.package_of_kind("library")
    (arm,) = tmp_path.glob(f"{library.normalized}-*_aarch64.whl")
    arm.unlink()
    with pytest.raises(publish.PublishError, match=rf"an aarch64 envpool wheel but no aarch64 {library.distribution}"):
        publish.upload_stages(tmp_path)
