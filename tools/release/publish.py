"""Upload the release set in the one safe order: every sibling, wait until the index lists them, then the core.

    python -m tools.release.publish WHEELHOUSE --repository-url URL [--index-url SIMPLE_URL]
                            [--wait-seconds N] [--stop-after-stage N]

Stage 1 is every wheel and sdist of the sibling distributions (tools.release.release_set.PACKAGES with an
extra), of every architecture (tools.release.release_set.ARCHES), stage 2 the core's, of every
architecture. The core pins each sibling with ``==VERSION``, so a core on the index
before one of its siblings would make ``pip install "envpool[x]==VERSION"`` fail; the reverse
window (siblings there, core not yet) only shows files nothing pins yet. Between the stages the
simple index at ``--index-url`` is polled (at most ``--wait-seconds``) until it lists every file
of stage 1, the same index pip resolves against. A file the index already lists with the same
sha256 is not uploaded again (a failed publish is re-run as is); one listed with another sha256
stops the publish, since an index never replaces a file.

Uploads run ``python -m twine upload --non-interactive --repository-url URL``. Credentials come
from the usual ``TWINE_USERNAME``/``TWINE_PASSWORD`` variables; on GitHub Actions with
``id-token: write`` and no password set, twine >= 6.1 gets a PyPI token by trusted publishing
itself (only for upload.pypi.org and test.pypi.org). ``--stop-after-stage 1`` uploads the siblings
only: the partial-publish window, reproduced by tools/release/rehearsal.py. On a GitHub Actions tag build
the tag must be ``v`` + VERSION, checked before anything is uploaded.

The wheelhouse may hold hidden files and directories (``.gitignore``, the build's ``.stamps/``);
any other file that is not a wheel or sdist of the release set at VERSION is refused, and so is a core
wheel of an architecture for which a platform sibling (the library wheel) has no wheel: that core's extra
would pin a file no index holds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.error
from collections.abc import Callable, Sequence
from pathlib import Path

from packaging.version import InvalidVersion, Version

from tools.common import process
from tools.common.distfile import parse_artifact
from tools.common.hashing import sha256_file
from tools.common.index import client
from tools.release import release_set

#: Where each known upload endpoint's files are listed for installers (PEP 503 simple index).
KNOWN_INDEXES = {
    "https://upload.pypi.org/legacy/": "https://pypi.org/simple/",
    "https://test.pypi.org/legacy/": "https://test.pypi.org/simple/",
}
POLL_SECONDS = 5.0

Uploader = Callable[[Sequence[Path], str], None]
Lister = Callable[[str, str], dict[str, str | None]]


class PublishError(RuntimeError):
    """The release set cannot be published as it is."""


def _version_of(name: str) -> Version | None:
    try:
        return Version(name)
    except InvalidVersion:
        return None


def upload_stages(wheelhouse: Path, required: Sequence[release_set.Package] | None = None) -> list[list[Path]]:
    """The upload order: ``[sibling artifacts, core artifacts]``, each sorted by release-set order and file name.

    ``required`` (default: tools.release.release_set.present()) are the packages that must each have a
    wheel. Raises PublishError naming every unknown file, wrong version or missing package.
    """
    if not wheelhouse.is_dir():
        raise PublishError(f"{wheelhouse} is not a directory: build the release set with nox -s build")
    version = release_set.version()
    order = {p.distribution: i for i, p in enumerate(release_set.PACKAGES)}
    found: dict[str, list[Path]] = {}
    problems: list[str] = []
    for path in sorted(wheelhouse.iterdir()):
        if path.name.startswith(".") or path.is_dir():
            continue
        artifact = parse_artifact(path)
        package = release_set.package_of_artifact(path.name) if artifact else None
        if artifact is None or package is None:
            problems.append(f"{path.name}: not a wheel or sdist of tools/release/release_set.py PACKAGES; remove it")
        elif _version_of(artifact.version) != Version(version):
            problems.append(f"{path.name}: version {artifact.version}, VERSION says {version}; rebuild (nox -s build)")
        else:
            found.setdefault(package.distribution, []).append(path)
    packages = release_set.present() if required is None else required
    for package in packages:
        if not any(p.name.endswith(".whl") for p in found.get(package.distribution, [])):
            problems.append(f"no {package.distribution} {version} wheel in {wheelhouse}: run nox -s build")
    problems += _missing_for_arch(found, packages, version)
    if problems:
        raise PublishError(f"refusing to publish {wheelhouse}:\n  " + "\n  ".join(problems))
    stages: list[list[Path]] = [[], []]
    for distribution in sorted(found, key=order.__getitem__):
        is_core = next(p for p in release_set.PACKAGES if p.distribution == distribution).extra is None
        stages[1 if is_core else 0].extend(found[distribution])
    return stages


def _missing_for_arch(found: dict[str, list[Path]], packages: Sequence[release_set.Package], version: str) -> list[str]:
    """For each architecture with a core wheel: the platform siblings with no wheel that installs there."""

    def wheel_archs(distribution: str) -> set[release_set.Arch | None]:
        wheels = [p.name for p in found.get(distribution, []) if p.name.endswith(".whl")]
        return {release_set.arch_of_wheel(name) for name in wheels}

    core = release_set.package_of_kind("extension")
    problems = []
    for arch in release_set.ARCHES:
        if arch not in wheel_archs(core.distribution):
            continue
        for sibling in packages:
            here = wheel_archs(sibling.distribution)
            if arch.platform in sibling.platforms and here and not here & {None, arch}:
                problems.append(
                    f"an {arch.machine} {core.distribution} wheel but no {arch.machine} {sibling.distribution} "
                    f"{version} wheel: its [{sibling.extra}] extra would pin a file no index holds; run nox -s build"
                )
    return problems


def twine_upload(files: Sequence[Path], repository_url: str) -> None:
    """``python -m twine upload --non-interactive --repository-url URL FILES`` (raises PublishError on failure)."""
    cmd = [sys.executable, "-m", "twine", "upload", "--non-interactive", "--disable-progress-bar"]
    cmd += ["--repository-url", repository_url, *map(str, files)]
    if process.run(cmd, capture=False, echo=True).returncode != 0:
        raise PublishError(f"twine upload to {repository_url} failed (its output is above)")


def listed_files(index_url: str, distribution: str) -> dict[str, str | None]:
    """File name -> sha256 (None when the link carries none) of what the simple index lists for ``distribution``.

    Empty when the index does not know the project. (tools.common.index is the one index client.)
    """
    try:
        files = client.list_files(client.choose_index(index_url), distribution)
    except client.ProjectNotFound:
        return {}
    except client.IndexAccessError as exc:
        raise OSError(str(exc)) from None
    return {f.filename: f.sha256 for f in files}


def _by_distribution(files: Sequence[Path]) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for path in files:
        package = release_set.package_of_artifact(path.name)
        assert package is not None  # upload_stages() refused anything else
        out.setdefault(package.distribution, []).append(path)
    return out


def not_yet_on_index(files: Sequence[Path], index_url: str, lister: Lister = listed_files) -> list[Path]:
    """``files`` the index does not list yet; one it lists with the same sha256 is done (a re-run).

    A file listed with another sha256 raises PublishError: an index never replaces a file.
    """
    todo: list[Path] = []
    for distribution, paths in _by_distribution(files).items():
        listed = lister(index_url, distribution)
        for path in paths:
            if path.name not in listed:
                todo.append(path)
                continue
            ours = sha256_file(path)
            if listed[path.name] not in (None, ours):
                raise PublishError(
                    f"{index_url} already has a different {path.name} (sha256 {listed[path.name]}, ours {ours}): "
                    "a file name can never be reused; bump the version (nox -s bump -- X.Y.Z) and release again"
                )
            print(f"publish: {path.name} is already on {index_url} (same sha256): not uploaded again", flush=True)
    return todo


def wait_until_listed(
    index_url: str,
    files: Sequence[Path],
    wait_seconds: float,
    *,
    lister: Lister = listed_files,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Poll ``index_url`` until it lists every one of ``files``; PublishError after ``wait_seconds``."""
    missing = {d: {p.name for p in paths} for d, paths in _by_distribution(files).items()}
    start = clock()
    while True:
        for distribution, names in list(missing.items()):
            try:
                absent = names - set(lister(index_url, distribution))
            except (urllib.error.URLError, OSError) as exc:
                print(f"publish: {index_url} did not answer for {distribution} ({exc}); retrying", flush=True)
                continue
            if absent:
                missing[distribution] = absent
            else:
                print(f"publish: {distribution} listed at {index_url} ({len(names)} files)", flush=True)
                del missing[distribution]
        elapsed = clock() - start
        if not missing:
            return
        if elapsed >= wait_seconds:
            left = "; ".join(f"{d}: {', '.join(sorted(n))}" for d, n in sorted(missing.items()))
            raise PublishError(
                f"after {elapsed:.0f} s {index_url} still does not list {left}. The core was NOT uploaded. "
                "Re-run the publish job (files already listed are skipped) or raise --wait-seconds."
            )
        print(f"publish: waiting for {', '.join(sorted(missing))} ({elapsed:.0f}/{wait_seconds:.0f} s)", flush=True)
        sleep(min(POLL_SECONDS, max(0.0, wait_seconds - elapsed)))


def publish(
    wheelhouse: Path,
    repository_url: str,
    index_url: str,
    *,
    wait_seconds: float = 600,
    stop_after_stage: int | None = None,
    uploader: Uploader = twine_upload,
    lister: Lister = listed_files,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Upload stage 1 (siblings), wait until ``index_url`` lists it, then upload stage 2 (the core).

    Files the index already lists with the same sha256 are skipped, so a failed publish is re-run as is.
    """
    stages = upload_stages(wheelhouse)
    names = ("siblings", "core")
    for number, (name, files) in enumerate(zip(names, stages, strict=True), start=1):
        if number == 2 and stages[0]:
            print(f"publish: waiting until {index_url} lists every sibling (at most {wait_seconds:.0f} s)", flush=True)
            wait_until_listed(index_url, stages[0], wait_seconds, lister=lister, sleep=sleep)
        todo = not_yet_on_index(files, index_url, lister)
        print(f"publish: stage {number}/2 ({name}): {len(todo)} of {len(files)} files to {repository_url}", flush=True)
        for path in todo:
            print(f"    {path.name} ({path.stat().st_size:,} bytes)", flush=True)
        if todo:
            uploader(todo, repository_url)
        print(f"publish: stage {number}/2 ({name}) uploaded", flush=True)
        if stop_after_stage == number and number < len(stages):
            print(f"publish: stopping after stage {number} as asked (--stop-after-stage): the core is NOT uploaded")
            return
    print(f"publish: release {release_set.version()} complete ({sum(map(len, stages))} files)", flush=True)


def check_tag() -> None:
    """On a GitHub Actions tag build (GITHUB_REF_TYPE=tag) the tag must be ``v`` + VERSION; PublishError otherwise."""
    if os.environ.get("GITHUB_REF_TYPE") != "tag":
        return
    tag, want = os.environ.get("GITHUB_REF_NAME", ""), f"v{release_set.version()}"
    if tag != want:
        raise PublishError(
            f"tag {tag!r} does not match VERSION (expected {want!r}): set the version with nox -s bump -- X.Y.Z, "
            "commit, and tag v + VERSION"
        )


def check_twine_credentials(repository_url: str) -> None:
    """Trusted publishing (no TWINE_PASSWORD for PyPI) needs twine >= 6.1; raise PublishError otherwise."""
    if repository_url not in KNOWN_INDEXES or os.environ.get("TWINE_PASSWORD"):
        return
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        twine = dist_version("twine")
    except PackageNotFoundError:
        raise PublishError("twine is not installed: pip install 'twine>=6.1' (nox -s publish installs it)") from None
    if Version(twine) < Version("6.1"):
        raise PublishError(
            f"twine {twine} cannot do trusted publishing (no TWINE_PASSWORD is set): pip install 'twine>=6.1'"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m tools.release.publish", description=__doc__.splitlines()[0])
    parser.add_argument("wheelhouse", type=Path)
    parser.add_argument("--repository-url", required=True, help="upload endpoint, e.g. https://upload.pypi.org/legacy/")
    parser.add_argument("--index-url", help="simple index to wait on (default: the one of a known --repository-url)")
    parser.add_argument("--wait-seconds", type=float, default=600, help="longest wait for the siblings (default 600)")
    parser.add_argument("--stop-after-stage", type=int, choices=[1], help="upload the siblings only (rehearsal)")
    args = parser.parse_args(argv)
    index_url = args.index_url or KNOWN_INDEXES.get(args.repository_url)
    if index_url is None:
        parser.error(f"--index-url is required for {args.repository_url} (the simple index its uploads appear on)")
    try:
        check_tag()
        check_twine_credentials(args.repository_url)
        publish(
            args.wheelhouse,
            args.repository_url,
            index_url,
            wait_seconds=args.wait_seconds,
            stop_after_stage=args.stop_after_stage,
        )
    except PublishError as exc:
        print(f"publish: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
