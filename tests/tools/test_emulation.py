"""tools.release.emulation with faked probes: every bad input gives its fix or its reason to skip.

The fake kernel is a directory: mounting creates ``register`` and ``status``; writing ``register``
creates the entry file the real kernel shows. Nothing touches /proc here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pytest

from tools.release import emulation
from tools.release.release_set import AARCH64

if TYPE_CHECKING:
    from pathlib import Path

#: Debian bookworm's /usr/share/binfmts/qemu-aarch64 (package qemu-user-static 7.2): the independent oracle.
DEBIAN_MAGIC = r"\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00"
DEBIAN_MASK = r"\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff"
#: qemu-arm's magic (32-bit ARM, e_machine 40): must not be taken for an aarch64 handler.
ARM_MAGIC = "7f454c4601010100000000000000000002002800"


def _entry(interpreter: str, flags: str, magic: str, mask: str, enabled: bool = True) -> str:
    state = "enabled" if enabled else "disabled"
    return f"{state}\ninterpreter {interpreter}\nflags: {flags}\noffset 0\nmagic {magic}\nmask {mask}\n"


@dataclass
class FakeKernel:
    """A binfmt_misc directory and the probes of a host around it."""

    binfmt: Path
    mountable: bool = True
    root: bool = True
    emulator: str | None = "/usr/bin/qemu-aarch64-static"
    machine: str = "x86_64"
    register_error: OSError | None = None
    registered: list[str] = field(default_factory=list)

    def mount(self, point: Path) -> tuple[bool, str]:
        if not self.mountable:
            return False, "mount: /proc/sys/fs/binfmt_misc: permission denied."
        (point / "register").write_text("")
        (point / "status").write_text("enabled\n")
        return True, ""

    def register(self, point: Path, line: str) -> None:
        if self.register_error:
            raise self.register_error
        self.registered.append(line)
        _, name, kind, _, magic, mask, interpreter, flags = line.split(":")
        assert kind == "M"

        def unescape(text: str) -> str:
            return bytes(int(h, 16) for h in re.findall(r"\\x([0-9a-f]{2})", text)).hex()

        (point / name).write_text(_entry(interpreter, flags, unescape(magic), unescape(mask)))

    def host(self) -> emulation.Host:
        return emulation.Host(
            binfmt=self.binfmt,
            which=lambda name: self.emulator if name == "qemu-aarch64-static" else None,
            is_root=lambda: self.root,
            machine=lambda: self.machine,
            mount=self.mount,
            register=self.register,
        )


@pytest.fixture
def kernel(tmp_path: Path) -> FakeKernel:
    binfmt = tmp_path / "binfmt_misc"
    binfmt.mkdir()
    return FakeKernel(binfmt)


def _mounted(kernel: FakeKernel) -> FakeKernel:
    kernel.mount(kernel.binfmt)
    return kernel


def test_registers_the_standard_handler_with_fix_binary(kernel: FakeKernel) -> None:
    emu = emulation.ensure(AARCH64, kernel.host())
    assert kernel.registered == [f":qemu-aarch64:M::{DEBIAN_MAGIC}:{DEBIAN_MASK}:/usr/bin/qemu-aarch64-static:F"]
    assert emu.registered and emu.handler is not None and "F" in emu.handler.flags
    assert emu.handler.name == "qemu-aarch64" and emu.handler.enabled
    assert "registered now" in emu.describe()


def test_an_enabled_handler_with_f_is_used_as_it_is(kernel: FakeKernel) -> None:
    _mounted(kernel)
    magic, mask = (bytes(int(h, 16) for h in re.findall(r"\\x(..)", s)).hex() for s in (DEBIAN_MAGIC, DEBIAN_MASK))
    (kernel.binfmt / "qemu-aarch64").write_text(
        _entry("/usr/libexec/qemu-binfmt/aarch64-binfmt-P", "POCF", magic, mask)
    )
    emu = emulation.ensure(AARCH64, kernel.host())
    assert not emu.registered and kernel.registered == []
    assert emu.handler is not None and emu.handler.interpreter.endswith("aarch64-binfmt-P")


def test_native_machine_needs_no_emulation(kernel: FakeKernel) -> None:
    kernel.machine = "aarch64"
    kernel.emulator = None
    emu = emulation.ensure(AARCH64, kernel.host())
    assert emu.handler is None and "native" in emu.describe()


def test_missing_emulator_names_the_package(kernel: FakeKernel) -> None:
    kernel.emulator = None
    with pytest.raises(
        emulation.EmulationError, match=r"qemu-aarch64-static is not installed.*apt-get install qemu-user-static"
    ):
        emulation.ensure(AARCH64, kernel.host())


def test_kernel_without_binfmt_misc_is_a_reason_to_skip(kernel: FakeKernel) -> None:
    kernel.binfmt.rmdir()
    with pytest.raises(emulation.EmulationUnavailable, match="this kernel has no binfmt_misc"):
        emulation.ensure(AARCH64, kernel.host())


def test_not_root_is_a_reason_to_skip(kernel: FakeKernel) -> None:
    kernel.root = False
    with pytest.raises(emulation.EmulationUnavailable, match="only root can mount it"):
        emulation.ensure(AARCH64, kernel.host())


def test_mount_refused_is_a_reason_to_skip_with_the_command(kernel: FakeKernel) -> None:
    kernel.mountable = False
    with pytest.raises(
        emulation.EmulationUnavailable,
        match=r"cannot be mounted on this machine: mount -t binfmt_misc binfmt_misc \S+ failed: .*permission denied",
    ):
        emulation.ensure(AARCH64, kernel.host())


def test_disabled_handler_names_how_to_enable_it(kernel: FakeKernel) -> None:
    emulation.ensure(AARCH64, kernel.host())  # registers it
    entry = kernel.binfmt / "qemu-aarch64"
    entry.write_text(entry.read_text().replace("enabled", "disabled", 1))
    with pytest.raises(
        emulation.EmulationError, match=r"registered but disabled.*echo 1 > /proc/sys/fs/binfmt_misc/qemu-aarch64"
    ):
        emulation.ensure(AARCH64, kernel.host())


def test_handler_without_fix_binary_names_how_to_replace_it(kernel: FakeKernel) -> None:
    emulation.ensure(AARCH64, kernel.host())
    entry = kernel.binfmt / "qemu-aarch64"
    entry.write_text(entry.read_text().replace("flags: F", "flags: P"))
    with pytest.raises(
        emulation.EmulationError, match=r"no F \(fix-binary\) flag.*echo -1 > /proc/sys/fs/binfmt_misc/qemu-aarch64"
    ):
        emulation.ensure(AARCH64, kernel.host())


def test_binfmt_misc_disabled_machine_wide(kernel: FakeKernel) -> None:
    _mounted(kernel)
    (kernel.binfmt / "status").write_text("disabled\n")
    with pytest.raises(emulation.EmulationError, match=r"echo 1 > /proc/sys/fs/binfmt_misc/status"):
        emulation.ensure(AARCH64, kernel.host())


def test_another_architectures_handler_is_not_taken(kernel: FakeKernel) -> None:
    _mounted(kernel)
    (kernel.binfmt / "qemu-arm").write_text(_entry("/usr/bin/qemu-arm-static", "F", ARM_MAGIC, "ff" * 20))
    emu = emulation.ensure(AARCH64, kernel.host())
    assert emu.registered and emu.handler is not None and emu.handler.name == "qemu-aarch64"


def test_a_refused_registration_names_the_line(kernel: FakeKernel) -> None:
    kernel.register_error = PermissionError(13, "Permission denied")
    with pytest.raises(
        emulation.EmulationError, match=r"registering qemu-aarch64 with binfmt_misc failed .*:qemu-aarch64:M::"
    ):
        emulation.ensure(AARCH64, kernel.host())


def test_main_exit_codes(
    kernel: FakeKernel, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    host = kernel.host()  # its probes read the kernel's fields when called
    monkeypatch.setattr(emulation, "Host", lambda: host)
    assert emulation.main(["aarch64"]) == 0
    kernel.emulator = None
    assert emulation.main(["aarch64"]) == 1
    kernel.emulator, kernel.root = "/usr/bin/qemu-aarch64-static", False
    (kernel.binfmt / "register").unlink()
    assert emulation.main(["aarch64"]) == 2
    assert "only root can mount it" in capsys.readouterr().err
