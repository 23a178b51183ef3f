"""Release set per version: bytes of every artifact one release uploads.

Ours: the wheelhouse as ``nox -s build`` made it, which is exactly what a release uploads (the
release workflow publishes that build and nothing else): the core matrix of
tools/release_set.CORE_MATRIX on Linux x86_64, the data and library wheels, one sdist per package.
Nothing is estimated. The peer: PyPI's JSON API for envpool PEER_VERSION (tools.bench.common) and
the envpool-assets* releases it resolves to.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tools.bench.common import CACHE, PEER, WHEELS, show
from tools.common.index import client
from tools.release.release_set import CORE_MATRIX, PACKAGES, package_of_artifact, version

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True)
class Artifact:
    """One file a release uploads."""

    package: str
    filename: str
    size: int
    estimated_from: str | None = None  # kept for the report's column; our set is never estimated


def ours(wheelhouse: Path) -> dict[str, Any]:
    """Our release set for the current version: every artifact of this version in the wheelhouse."""
    ver = version()
    files = sorted(f for f in wheelhouse.iterdir() if f.is_file() and f"-{ver}" in f.name)
    artifacts: list[Artifact] = []
    missing: list[str] = []
    for pkg in PACKAGES:
        mine = [f for f in files if package_of_artifact(f.name) is pkg]
        if not mine:
            missing.append(pkg.distribution)
        artifacts += [Artifact(pkg.distribution, f.name, f.stat().st_size) for f in mine]
    return {
        "version": ver,
        "matrix": [f"{e.tag}-manylinux_x86_64" for e in CORE_MATRIX],
        "matrix_source": "tools/release_set.CORE_MATRIX, built by nox -s build",
        "abi3_from": None,
        "wheelhouse": show(wheelhouse),
        "artifacts": [a.__dict__ for a in artifacts],
        "total_bytes": sum(a.size for a in artifacts),
        "estimated": 0,
        "missing": missing,
    }


def _get_json(url: str) -> dict[str, Any]:
    # PyPI's JSON API (file sizes), trusting the certificates of the one index client's rule
    with urllib.request.urlopen(url, timeout=30, context=client.ssl_context()) as resp:
        data: dict[str, Any] = json.load(resp)
        return data


def pypi_files(name: str, ver: str) -> tuple[list[dict[str, Any]], str]:
    """(filename, size) records of one release from PyPI's JSON API, and the URL that answered.

    Tries ``/pypi/<name>/<version>/json`` first, then the project document's ``releases``; the answer is
    cached in .cache/bench/pypi/.
    """
    cache = CACHE / "pypi" / f"{name}-{ver}.json"
    if cache.is_file():
        doc = json.loads(cache.read_text(encoding="utf-8"))
        return doc["files"], doc["url"]
    errors: list[str] = []
    for url, path in (
        (f"https://pypi.org/pypi/{name}/{ver}/json", ("urls",)),
        (f"https://pypi.org/pypi/{name}/json", ("releases", ver)),
    ):
        try:
            raw: Any = _get_json(url)
            for key in path:
                raw = raw[key]
        except (urllib.error.URLError, OSError, KeyError, ValueError) as exc:
            errors.append(f"{url}: {exc}")
            continue
        files = [{"filename": f["filename"], "size": int(f["size"])} for f in raw]
        cache.parent.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"url": url, "files": files}), encoding="utf-8")
        return files, url
    raise RuntimeError("; ".join(errors))


def is_linux_matrix_file(filename: str) -> bool:
    """Whether a file belongs to the Linux x86_64/aarch64 part of a release (or is platform-independent)."""
    if filename.endswith((".tar.gz", ".zip", "-none-any.whl")):
        return True
    return "linux" in filename and ("x86_64" in filename or "aarch64" in filename)


def peer(resolved: list[dict[str, Any]]) -> dict[str, Any]:
    """The peer's release set: its own files plus those of the envpool-assets* releases it pins."""
    releases = [(r["name"], r["version"]) for r in resolved if r["project"]]
    out: list[dict[str, Any]] = []
    notes: list[str] = []
    for name, ver in releases:
        try:
            files, url = pypi_files(name, ver)
            source = url
        except RuntimeError as exc:
            local = [r for r in resolved if r["name"] == name]
            files = [{"filename": r["file"], "size": r["bytes"]} for r in local]
            source = f"{show(WHEELS)} (PyPI JSON unreachable: {exc}); only the wheels downloaded here"
            notes.append(f"{name} {ver}: computed from the downloaded wheels only")
        total = sum(f["size"] for f in files)
        linux = sum(f["size"] for f in files if is_linux_matrix_file(f["filename"]))
        out.append(
            {
                "name": name,
                "version": ver,
                "files": len(files),
                "total_bytes": total,
                "linux_bytes": linux,
                "linux_files": sum(1 for f in files if is_linux_matrix_file(f["filename"])),
                "source": source,
            }
        )
    return {
        "releases": out,
        "total_bytes": sum(r["total_bytes"] for r in out),
        "linux_bytes": sum(r["linux_bytes"] for r in out),
        "notes": notes,
    }


def run_section(wheelhouse: Path, footprint: dict[str, Any] | None) -> dict[str, Any]:
    """Both release sets; the peer's releases are taken from the footprint's resolution of the peer release."""
    result: dict[str, Any] = {"ours": ours(wheelhouse)}
    subjects = (footprint or {}).get("subjects", [])
    resolved = next((s["files"] for s in subjects if s["key"] == "peer-envpool"), None)
    if resolved is None:
        result["peer"] = None
        result["peer_note"] = f"not computed: the footprint section has not resolved {PEER} yet"
    else:
        result["peer"] = peer(resolved)
    result["commands"] = [f"ls -l {show(wheelhouse)}"] + [
        f"GET {r['source']}  # urllib; tried https://pypi.org/pypi/{r['name']}/{r['version']}/json first"
        for r in (result["peer"] or {}).get("releases", [])
    ]
    return result
