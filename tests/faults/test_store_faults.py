"""The asset store on a full disk, and every fix line the CLI and the errors print.

The full disk is a small tmpfs mounted in a private mount namespace (``unshare -m``, root), so it
disappears with the process that mounted it.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import envpool
from tests.faults.child import child_env

# Mount a tmpfs of $1 bytes on $2, run the rest, then list what the directory shows.
FULL_DISK = (
    'mount -t tmpfs -o size="$1" tmpfs "$2" || exit 99; dir="$2"; shift 2; "$@"; rc=$?; '
    'echo "LISTING:$(ls -A "$dir" | tr "\\n" " ")"; exit $rc'
)


def _on_full_disk(size: int, mountpoint: Path, cmd: list[str]) -> subprocess.CompletedProcess[str]:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare(1) to mount a small tmpfs")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("no mount namespaces here: cannot mount a small tmpfs")
    mountpoint.mkdir(parents=True, exist_ok=True)
    argv = ["unshare", "-m", "sh", "-c", FULL_DISK, "sh", str(size), str(mountpoint), *cmd]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd="/", env=child_env(), timeout=120, check=False)
    assert proc.returncode != 99, proc.stderr
    return proc


def _listing(proc: subprocess.CompletedProcess[str]) -> list[str]:
    line = [x for x in proc.stdout.splitlines() if x.startswith("LISTING:")][-1]
    return line[len("LISTING:") :].split()


def _nothing_visible(names: list[str], family: str) -> None:
    """Only the (empty, hidden) lock file may remain: no tree, no temporary directory."""
    assert names in ([], [f".{family}.lock"]), names


@pytest.mark.timeout(120, method="thread")
@pytest.mark.family("vizdoom")
def test_export_to_a_full_disk(tmp_path: Path) -> None:
    from envpool.manifest import read_manifest
    from envpool.resolution import locate

    source = locate("vizdoom")
    need = sum(f.size for f in read_manifest(source.root).files) + (source.root / "manifest.json").stat().st_size
    cmd = [sys.executable, "-m", "envpool", "assets", "export", "vizdoom", str(tmp_path / "small")]
    # Too small from the start: refused before anything is written.
    proc = _on_full_disk(1 << 20, tmp_path / "small", cmd)
    assert proc.returncode == 1, proc.stderr
    assert f"the vizdoom tree needs {need} bytes but its device has" in proc.stderr, proc.stderr
    assert "Nothing was changed" in proc.stderr and "envpool assets export vizdoom DIR" in proc.stderr
    assert "--dest" not in proc.stderr  # export has no --dest option
    _nothing_visible(_listing(proc), "vizdoom")
    # Enough free bytes for the files, not for their pages: the disk fills during the copy.
    cmd[-1] = str(tmp_path / "tight")
    proc = _on_full_disk(-(-need // 4096) * 4096, tmp_path / "tight", cmd)
    assert proc.returncode == 1, proc.stderr
    assert "no space left on the device" in proc.stderr and "the partial copy was removed" in proc.stderr, proc.stderr
    assert "--dest" not in proc.stderr
    _nothing_visible(_listing(proc), "vizdoom")


@pytest.mark.timeout(120, method="thread")
@pytest.mark.family("vizdoom")
def test_fetch_to_a_full_disk(tmp_path: Path, wheelhouse: Path) -> None:
    wheel = next(wheelhouse.glob(f"envpool_assets_vizdoom-{envpool.__version__}-*.whl"))
    project = tmp_path / "simple" / "envpool-assets-vizdoom"
    project.mkdir(parents=True)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    project.joinpath("index.html").write_text(f'<a href="{wheel.as_uri()}#sha256={digest}">{wheel.name}</a>\n')
    cmd = [sys.executable, "-m", "envpool", "assets", "fetch", "vizdoom", "--index-url", (tmp_path / "simple").as_uri()]
    proc = _on_full_disk(2 << 20, tmp_path / "full", [*cmd, "--dest", str(tmp_path / "full")])
    assert proc.returncode == 1, proc.stderr
    assert f"cannot write to {tmp_path / 'full'}: no space left on the device" in proc.stderr, proc.stderr
    assert "Nothing was changed" in proc.stderr and "--dest DIR" in proc.stderr
    _nothing_visible(_listing(proc), "vizdoom")


# ---- every documented fix line parses --------------------------------------------------------------

_COMMAND = re.compile(r"(envpool (?:doctor|assets)\b[^`;()\n]*|pip install [^`;()\n]*)")


def _fix_lines(text: str) -> list[str]:
    """The `envpool ...` and `pip install ...` commands in a message, without trailing prose."""
    out = []
    for match in _COMMAND.finditer(text):
        cmd = re.split(r"\s(?:then|and|or|to|with)\s|[,.]\s|\s{2,}", match.group(1))[0].rstrip(" .,:")
        out.append(cmd)
    return out


def _check_envpool(cmd: str) -> None:
    from envpool.cli import parser

    argv = shlex.split(cmd)[1:]
    try:
        parser().parse_args(argv)
    except SystemExit as exc:
        raise AssertionError(f"{cmd!r} does not parse (exit {exc.code})") from exc


def _check_pip(cmd: str) -> None:
    from packaging.requirements import Requirement
    from pip._internal.commands import create_command

    argv = shlex.split(cmd)[2:]
    try:
        _, args = create_command("install").parse_args(argv)
    except SystemExit as exc:
        raise AssertionError(f"{cmd!r} does not parse (exit {exc.code})") from exc
    assert args, cmd
    for arg in args:
        Requirement(arg)


def _options_of(command: str) -> set[str]:
    from envpool.cli import parser

    p = parser()
    sub = next(a for a in p._actions if a.dest == "command").choices["assets"]  # type: ignore[union-attr]
    action = next(a for a in sub._actions if a.dest == "assets_command").choices[command]  # type: ignore[union-attr]
    return {opt for a in action._actions for opt in a.option_strings}


def _cli(*args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "envpool", *args],
        capture_output=True,
        text=True,
        cwd="/",
        env={**child_env(), **(env or {})},
        timeout=120,
        check=False,
    )
    return proc.stdout + proc.stderr


@pytest.mark.timeout(180, method="thread")
def test_every_fix_line_names_options_that_exist(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from envpool import store
    from envpool.families import FAMILIES, asset_families
    from envpool.procgen_loader import _fix as procgen_fix
    from envpool.resolution import AssetSource, store_source
    from envpool.robotics_loader import _fix as robotics_fix

    messages: dict[str, list[str]] = {"fetch": [], "export": [], "any": []}
    for family in FAMILIES.values():
        messages["any"].append(family.pip_line())
    for name in asset_families():
        messages["any"].append(store.missing_hint(name))
    messages["any"] += [procgen_fix(), robotics_fix()]
    for origin in ("package", "store"):
        source = AssetSource("vizdoom", origin, tmp_path, envpool.__version__, "envpool-assets-vizdoom")  # type: ignore[arg-type]
        messages["any"].append(source.fix())
    messages["fetch"].append(store.FETCH_RETRY)
    messages["export"].append(store.export_retry("vizdoom"))
    # A store of another version.
    other = tmp_path / "other" / "vizdoom"
    other.mkdir(parents=True)
    other.joinpath("manifest.json").write_text('{"family": "vizdoom", "version": "0.0.1", "files": {}}')
    monkeypatch.setenv("ENVPOOL_ASSETS_PATH", str(tmp_path / "other"))
    vizdoom_assets = FAMILIES["vizdoom"].asset_sibling
    assert vizdoom_assets is not None
    with pytest.raises(envpool.VersionSkewError) as skew:
        store_source(FAMILIES["vizdoom"], vizdoom_assets)
    messages["any"].append(str(skew.value))
    monkeypatch.delenv("ENVPOOL_ASSETS_PATH")
    # Unwritable destinations and the doctor, through the CLI.
    blocker = tmp_path / "file"
    blocker.write_text("")
    messages["export"].append(_cli("assets", "export", "vizdoom", str(blocker / "x")))
    nowhere = "file:///nonexistent"
    messages["fetch"].append(_cli("assets", "fetch", "vizdoom", "--dest", str(blocker / "x"), "--index-url", nowhere))
    cache = {"ENVPOOL_CACHE_DIR": str(blocker / "c")}
    messages["fetch"].append(_cli("assets", "fetch", "vizdoom", "--index-url", nowhere, env=cache))
    messages["any"].append(_cli("doctor"))
    # A make() refused for its options names only make()'s arguments.
    with pytest.raises(TypeError) as info:
        envpool.make("CartPole-v1", frameskip=4)
    common = str(info.value).split("common arguments: ")[1].split(", ")
    params = inspect.signature(envpool.make_spec).parameters
    assert all(arg in params for arg in common), common

    checked = 0
    for command, texts in messages.items():
        for text in texts:
            if command != "any":  # bare options (`--dest DIR`) must belong to that command
                prose = re.sub(r"pip install [^\n]*", "", text)
                for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", prose):
                    assert option in _options_of(command), (
                        f"{option} is not an option of envpool assets {command}: {text}"
                    )
            for line in _fix_lines(text):
                (_check_pip if line.startswith("pip") else _check_envpool)(line)
                checked += 1
    assert checked >= 10
