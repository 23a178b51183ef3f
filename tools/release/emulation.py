"""Run another architecture's binaries on this machine: qemu user-mode emulation through binfmt_misc.

    python -m tools.release.emulation [MACHINE]    set up (or check) emulation of MACHINE (default aarch64)

:func:`ensure` makes ``chroot`` into a root of ``arch`` work without copying the emulator into it:

1. ``qemu-MACHINE-static`` (Debian: ``apt-get install qemu-user-static``) must be on PATH;
2. binfmt_misc is mounted at /proc/sys/fs/binfmt_misc (``mount -t binfmt_misc binfmt_misc ...``,
   which needs root and a kernel with binfmt_misc);
3. a handler for the architecture's ELF files is registered, enabled and has the F (fix-binary) flag:
   the kernel opens the emulator when it is registered, so a chroot does not need it inside. When none
   is registered, one is written to ``register`` with the ELF magic and mask derived from the
   architecture's ``e_machine`` (the same magic and mask as Debian's /usr/share/binfmts/qemu-aarch64).

A machine that cannot run binfmt_misc at all (no kernel support, not root, mount refused) raises
:class:`EmulationUnavailable`: the caller skips with its reason. Everything that has a fix on this
machine (no emulator, a disabled or F-less handler, binfmt_misc disabled) raises :class:`EmulationError`
naming the fix. The probes are a :class:`Host`, so tests fake them.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tools.common import process
from tools.release.release_set import AARCH64, Arch, arch_of

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

BINFMT = Path("/proc/sys/fs/binfmt_misc")
MOUNT = ("mount", "-t", "binfmt_misc", "binfmt_misc")
#: The flags a handler is registered with: F opens the emulator now, so a chroot runs without it inside.
FLAGS = "F"


class EmulationError(RuntimeError):
    """Emulation is not set up, and this machine can fix that: the message names how."""


class EmulationUnavailable(RuntimeError):
    """This machine cannot run binfmt_misc (no kernel support, not root, mount refused): skip, with the reason."""


def emulator_name(arch: Arch) -> str:
    """The qemu user-mode emulator of ``arch`` that Debian's qemu-user-static installs."""
    return f"qemu-{arch.machine}-static"


def handler_name(arch: Arch) -> str:
    """The binfmt_misc entry name (Debian's binfmt-support and systemd-binfmt use the same)."""
    return f"qemu-{arch.machine}"


def elf_magic(arch: Arch) -> tuple[bytes, bytes]:
    """The binfmt_misc magic and mask matching ``arch``'s 64-bit little-endian executables and shared objects.

    ELF ident (class 64, little endian, version 1; any OS ABI), then e_type EXEC or DYN (the mask
    clears the low bit) and e_machine.
    """
    from elftools.elf.enums import ENUM_E_MACHINE, ENUM_E_TYPE

    machine = int(ENUM_E_MACHINE[arch.elf_machine])
    exec_type = int(ENUM_E_TYPE["ET_EXEC"])
    ident = b"\x7fELF\x02\x01\x01" + bytes(9)
    magic = ident + exec_type.to_bytes(2, "little") + machine.to_bytes(2, "little")
    mask = b"\xff" * 7 + b"\x00" + b"\xff" * 8 + b"\xfe\xff" + b"\xff\xff"
    return magic, mask


def _escaped(data: bytes) -> str:
    return "".join(f"\\x{b:02x}" for b in data)


def register_line(arch: Arch, emulator: str) -> str:
    """The line written to binfmt_misc's ``register`` file for ``arch`` (``:name:M::magic:mask:interp:flags``)."""
    magic, mask = elf_magic(arch)
    return f":{handler_name(arch)}:M::{_escaped(magic)}:{_escaped(mask)}:{emulator}:{FLAGS}"


@dataclass(frozen=True)
class Handler:
    """One registered binfmt_misc entry, as its file under /proc/sys/fs/binfmt_misc reads."""

    name: str
    enabled: bool
    interpreter: str
    flags: str
    magic: bytes
    mask: bytes

    @classmethod
    def parse(cls, name: str, text: str) -> Handler:
        """Parse the entry file ``name`` (lines ``enabled``, ``interpreter X``, ``flags: F``, ``magic HEX``...)."""
        fields: dict[str, str] = {}
        enabled = False
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key in ("enabled", "disabled"):
                enabled = key == "enabled"
            else:
                fields[key.rstrip(":")] = value.strip()
        return cls(
            name,
            enabled,
            fields.get("interpreter", ""),
            fields.get("flags", ""),
            bytes.fromhex(fields.get("magic", "")),
            bytes.fromhex(fields.get("mask", "")),
        )

    def matches(self, arch: Arch) -> bool:
        """True when this entry catches ``arch``'s executables (its masked magic equals the architecture's)."""
        magic, mask = elf_magic(arch)
        if len(self.magic) < len(magic):
            return False
        own = self.mask or b"\xff" * len(self.magic)
        return all((self.magic[i] & own[i] & mask[i]) == (magic[i] & mask[i]) for i in range(len(magic)))


def _mount(point: Path) -> tuple[bool, str]:
    res = process.run([*MOUNT, point])
    return res.returncode == 0, process.output(res)


def _register(point: Path, line: str) -> None:
    (point / "register").write_text(line, encoding="ascii")


@dataclass(frozen=True)
class Host:
    """The machine's probes; tests replace them."""

    binfmt: Path = BINFMT
    which: Callable[[str], str | None] = shutil.which
    is_root: Callable[[], bool] = field(default=lambda: os.geteuid() == 0)
    machine: Callable[[], str] = platform.machine
    mount: Callable[[Path], tuple[bool, str]] = _mount
    register: Callable[[Path, str], None] = _register


@dataclass(frozen=True)
class Emulation:
    """What runs ``arch``'s binaries here: the emulator and the binfmt_misc handler (None when native)."""

    arch: Arch
    emulator: str | None
    handler: Handler | None
    registered: bool  # True when ensure() registered the handler itself

    def describe(self) -> str:
        """One line for the log."""
        if self.handler is None:
            return f"{self.arch.machine}: native, no emulation"
        how = "registered now" if self.registered else "already registered"
        return (
            f"{self.arch.machine}: {self.emulator} through binfmt_misc handler {self.handler.name} "
            f"({how}, flags {self.handler.flags or '-'})"
        )


def handlers(binfmt: Path) -> list[Handler]:
    """Every entry registered under ``binfmt`` (not ``register`` and ``status``)."""
    out = []
    for entry in sorted(binfmt.iterdir()):
        if entry.name not in ("register", "status") and entry.is_file():
            out.append(Handler.parse(entry.name, entry.read_text(encoding="utf-8", errors="replace")))
    return out


def _mounted(host: Host) -> None:
    """binfmt_misc mounted at host.binfmt, mounting it when it is not; EmulationUnavailable when impossible."""
    if (host.binfmt / "register").exists():
        return
    mount = f"{' '.join(MOUNT)} {host.binfmt}"
    if not host.binfmt.is_dir():
        raise EmulationUnavailable(f"this kernel has no binfmt_misc ({host.binfmt} does not exist)")
    if not host.is_root():
        raise EmulationUnavailable(f"binfmt_misc is not mounted and only root can mount it ({mount})")
    ok, detail = host.mount(host.binfmt)
    if not ok or not (host.binfmt / "register").exists():
        raise EmulationUnavailable(f"binfmt_misc cannot be mounted on this machine: {mount} failed: {detail}")


def _check_handler(handler: Handler, arch: Arch) -> None:
    path = BINFMT / handler.name  # the real path in the messages, whatever a test's host.binfmt is
    if not handler.enabled:
        raise EmulationError(
            f"the binfmt_misc handler {handler.name} for {arch.machine} is registered but disabled: "
            f"enable it with `echo 1 > {path}` (or `update-binfmts --enable {handler.name}`)"
        )
    if "F" not in handler.flags:
        raise EmulationError(
            f"the binfmt_misc handler {handler.name} for {arch.machine} has no F (fix-binary) flag (flags "
            f"{handler.flags or 'none'}), so chroot would look for {handler.interpreter} inside the root: "
            f"remove it with `echo -1 > {path}` and run again (it is then registered with F)"
        )


def ensure(arch: Arch = AARCH64, host: Host | None = None) -> Emulation:
    """Make ``arch``'s binaries run here (see the module docstring); raise with the fix or the reason to skip."""
    host = host or Host()
    if arch_of(host.machine()) == arch:
        return Emulation(arch, None, None, registered=False)
    emulator = host.which(emulator_name(arch))
    if emulator is None:
        raise EmulationError(
            f"{emulator_name(arch)} is not installed, so {arch.machine} binaries cannot run here: "
            "apt-get install qemu-user-static"
        )
    _mounted(host)
    status = host.binfmt / "status"
    if status.is_file() and status.read_text(encoding="utf-8").strip() == "disabled":
        raise EmulationError(f"binfmt_misc is disabled on this machine: enable it with `echo 1 > {BINFMT / 'status'}`")
    for handler in handlers(host.binfmt):
        if handler.matches(arch):
            _check_handler(handler, arch)
            return Emulation(arch, emulator, handler, registered=False)
    line = register_line(arch, str(Path(emulator).resolve()))
    try:
        host.register(host.binfmt, line)
    except OSError as exc:
        raise EmulationError(f"registering {handler_name(arch)} with binfmt_misc failed ({exc}): {line}") from exc
    found = [h for h in handlers(host.binfmt) if h.matches(arch)]
    if not found:
        raise EmulationError(f"binfmt_misc accepted {line!r} but lists no {arch.machine} handler afterwards")
    _check_handler(found[0], arch)
    return Emulation(arch, emulator, found[0], registered=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Set up emulation of the named architecture; exit 0 when ready, 1 with the fix, 2 when unavailable."""
    args = list(argv if argv is not None else sys.argv[1:])
    arch = arch_of(args[0]) if args else AARCH64
    try:
        print(ensure(arch).describe())
    except EmulationError as exc:
        print(f"emulation: {exc}", file=sys.stderr)
        return 1
    except EmulationUnavailable as exc:
        print(f"emulation unavailable: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
