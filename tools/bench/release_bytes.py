"""Release set per version: bytes of every artifact one release uploads across the build matrix.

Ours: computed from the built set (the wheelhouse) and the matrix (cibuildwheel's build selector in
packages/core/pyproject.toml when present, else the documented matrix). Sizes of platforms not built
here are estimated from the built wheel. The peer: PyPI's JSON API for envpool 1.2.5 and the
envpool-assets* releases it resolves to.
"""

from __future__ import annotations

import fnmatch
import json
import os
import ssl
import tomllib
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.bench.common import CACHE, WHEELS, show
from tools.release_set import PACKAGES, REPO, Package, package_of_artifact, version

PYTHONS = ("cp311", "cp312", "cp313", "cp314")
LINUX_PLATFORMS = ("manylinux_x86_64", "manylinux_aarch64", "musllinux_x86_64", "musllinux_aarch64")
DOCUMENTED_MATRIX = (
    "cp311-manylinux_x86_64",
    "cp311-manylinux_aarch64",
    "cp312-manylinux_x86_64",
    "cp312-manylinux_aarch64",
)


@dataclass(frozen=True)
class Artifact:
    """One file a release uploads."""

    package: str
    filename: str  # the file name, or the name it would have when only estimated
    size: int
    estimated_from: str | None = None  # the built file whose size stands in for it


def _words(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [w for v in value for w in str(v).split()]
    raise TypeError(f"unexpected cibuildwheel option value {value!r}")


def matrix_from_config(cibw: dict[str, Any] | None, host_arch: str = "x86_64") -> tuple[list[str], str]:
    """The cibuildwheel identifiers a config selects (Linux only) and where the matrix came from.

    Follows cibuildwheel's rules: ``build`` patterns (default ``*``), minus ``skip`` patterns, limited to
    ``[tool.cibuildwheel.linux] archs`` (default ``auto``: the host's architecture).
    """
    if cibw is None:
        return list(
            DOCUMENTED_MATRIX
        ), "the documented matrix, as packages/core/pyproject.toml has no [tool.cibuildwheel]"
    build = _words(cibw.get("build")) or ["*"]
    skip = _words(cibw.get("skip"))
    linux = cibw.get("linux", {}) if isinstance(cibw.get("linux"), dict) else {}
    archs = _words(linux.get("archs", cibw.get("archs"))) or ["auto"]
    arch_set: set[str] = set()
    for a in archs:
        if a in ("auto", "native", "auto64"):
            arch_set.add(host_arch)
        elif a == "all":
            arch_set.update(("x86_64", "aarch64"))
        else:
            arch_set.add(a)
    ids = [f"{py}-{plat}" for py in PYTHONS for plat in LINUX_PLATFORMS]
    chosen = [
        i
        for i in ids
        if any(fnmatch.fnmatch(i, b) for b in build)
        and not any(fnmatch.fnmatch(i, s) for s in skip)
        and i.split("_", 1)[1] in arch_set
    ]
    return chosen, "from [tool.cibuildwheel] in packages/core/pyproject.toml"


def collapse_abi3(identifiers: list[str], abi3_from: str | None) -> list[tuple[str, str]]:
    """(python tag, platform) of the distinct wheels: every CPython >= ``abi3_from`` shares one abi3 wheel."""
    out: list[tuple[str, str]] = []
    for ident in identifiers:
        py, plat = ident.split("-", 1)
        tag = f"{abi3_from}-abi3" if abi3_from and int(py[2:]) >= int(abi3_from[2:]) else py
        if (tag, plat) not in out:
            out.append((tag, plat))
    return out


def _wheel_tags(filename: str) -> tuple[str, str, str]:
    """(python tag, abi tag, platform tag) of a wheel file name."""
    parts = filename[: -len(".whl")].split("-")
    return parts[-3], parts[-2], parts[-1]


def _arch(platform_tag: str) -> str:
    for arch in ("x86_64", "aarch64"):
        if platform_tag.endswith(arch):
            return arch
    return platform_tag


def core_wheels(built: list[Path], wheels: list[tuple[str, str]], pkg: Package) -> list[Artifact]:
    """One artifact per matrix wheel, measured when built here, else estimated from the closest built one."""
    out: list[Artifact] = []
    for tag, plat in wheels:
        py = tag.split("-")[0]
        abi3 = tag.endswith("-abi3")
        exact = [
            f
            for f in built
            if _wheel_tags(f.name)[0] == py
            and (_wheel_tags(f.name)[1] == "abi3") == abi3
            and _arch(_wheel_tags(f.name)[2]) == _arch(plat)
            and ("musllinux" in _wheel_tags(f.name)[2]) == plat.startswith("musllinux")
        ]
        name = f"{pkg.normalized}-{version()}-{py}-{'abi3' if abi3 else py}-{plat}.whl"
        if exact:
            out.append(Artifact(pkg.distribution, exact[0].name, exact[0].stat().st_size))
            continue
        same_arch = [f for f in built if _arch(_wheel_tags(f.name)[2]) == _arch(plat)]
        donor = (same_arch or built)[0]
        out.append(Artifact(pkg.distribution, name, donor.stat().st_size, estimated_from=donor.name))
    return out


def ours(wheelhouse: Path) -> dict[str, Any]:
    """Our release set for the current version."""
    ver = version()
    pyproject = tomllib.loads((REPO / "packages/core/pyproject.toml").read_text(encoding="utf-8"))
    cibw = pyproject.get("tool", {}).get("cibuildwheel")
    identifiers, source = matrix_from_config(cibw)
    py_api = pyproject.get("tool", {}).get("scikit-build", {}).get("wheel", {}).get("py-api")
    abi3_from = py_api if isinstance(py_api, str) and py_api.startswith("cp3") else None
    wheels = collapse_abi3(identifiers, abi3_from)
    archs = sorted({_arch(p) for _, p in wheels if p.startswith("manylinux")})
    files = sorted(f for f in wheelhouse.iterdir() if f.is_file() and f"-{ver}" in f.name)
    artifacts: list[Artifact] = []
    missing: list[str] = []
    for pkg in PACKAGES:
        mine = [f for f in files if package_of_artifact(f.name) is pkg]
        built_wheels = [f for f in mine if f.name.endswith(".whl")]
        sdists = [f for f in mine if f.name.endswith(".tar.gz")]
        if not mine:
            missing.append(pkg.distribution)
            continue
        if built_wheels and pkg.kind == "extension":
            artifacts += core_wheels(built_wheels, wheels, pkg)
        elif built_wheels and pkg.kind == "library":
            fake = [(f"py3-{a}", f"manylinux_{a}") for a in archs]
            for _, plat in fake:
                same = [f for f in built_wheels if _arch(_wheel_tags(f.name)[2]) == _arch(plat)]
                donor = (same or built_wheels)[0]
                est = None if same else donor.name
                name = donor.name if same else f"{pkg.normalized}-{ver}-py3-none-{plat}.whl"
                artifacts.append(Artifact(pkg.distribution, name, donor.stat().st_size, est))
        elif built_wheels:
            artifacts.append(Artifact(pkg.distribution, built_wheels[0].name, built_wheels[0].stat().st_size))
        if sdists:
            artifacts.append(Artifact(pkg.distribution, sdists[0].name, sdists[0].stat().st_size))
        else:
            missing.append(f"{pkg.distribution} sdist")
    return {
        "version": ver,
        "matrix": identifiers,
        "matrix_source": source,
        "abi3_from": abi3_from,
        "wheelhouse": show(wheelhouse),
        "artifacts": [a.__dict__ for a in artifacts],
        "total_bytes": sum(a.size for a in artifacts),
        "estimated": sum(1 for a in artifacts if a.estimated_from),
        "missing": missing,
    }


def _ssl_context() -> ssl.SSLContext:
    for var in ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"):
        path = os.environ.get(var)
        if path and Path(path).is_file():
            return ssl.create_default_context(cafile=path)
    return ssl.create_default_context()


def _get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=30, context=_ssl_context()) as resp:
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
    """envpool 1.2.5's release set: its own files plus those of the envpool-assets* releases it pins."""
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
    """Both release sets; the peer's releases are taken from the footprint's resolution of envpool 1.2.5."""
    result: dict[str, Any] = {"ours": ours(wheelhouse)}
    subjects = (footprint or {}).get("subjects", [])
    resolved = next((s["files"] for s in subjects if s["key"] == "peer-envpool"), None)
    if resolved is None:
        result["peer"] = None
        result["peer_note"] = "not computed: the footprint section has not resolved envpool 1.2.5 yet"
    else:
        result["peer"] = peer(resolved)
    result["commands"] = [f"ls -l {show(wheelhouse)}"] + [
        f"GET {r['source']}  # urllib; tried https://pypi.org/pypi/{r['name']}/{r['version']}/json first"
        for r in (result["peer"] or {}).get("releases", [])
    ]
    return result
