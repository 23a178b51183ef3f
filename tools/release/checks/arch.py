"""The architecture check: every ELF file of a wheel is built for the architecture its file name claims.

The set holds wheels of several architectures side by side (tools/release/release_set.py ``ARCHES``), all
built on one x86-64 machine: a cross build that silently falls back to the host compiler, or a lock that
names an x86-64 binary for aarch64, would give an aarch64 wheel an x86-64 ELF. The check reads the ELF
header of every member (not only ``*.so``: any file starting with the ELF magic) and compares its
``e_machine`` with the wheel's ``Arch.elf_machine``. A pure wheel (``py3-none-any``) holds no ELF at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tools.common.elf import HEADER_BYTES, header_machine, is_elf
from tools.release.checks.base import Context, Status, arch_of, fail, ok, skip
from tools.release.release_set import ARCHES

if TYPE_CHECKING:
    from tools.common.distfile import Artifact

_BY_ELF = {a.elf_machine: a.machine for a in ARCHES}


def _named(elf_machine: str) -> str:
    """``EM_X86_64 (x86_64)``: the e_machine and, for an architecture of the set, its machine name."""
    machine = _BY_ELF.get(elf_machine)
    return f"{elf_machine} ({machine})" if machine else elf_machine


def check_elf_arch(ctx: Context, a: Artifact) -> tuple[Status, str]:
    """Every ELF member's e_machine is the wheel's architecture; a pure wheel holds no ELF."""
    if a.kind != "wheel":
        return skip("not a wheel")
    elves = {m: head for m, head in a.heads(HEADER_BYTES).items() if is_elf(head)}
    if not a.is_platform_wheel:
        if elves:
            shown = ", ".join(sorted(elves)[:5]) + (f" and {len(elves) - 5} more" if len(elves) > 5 else "")
            return fail(f"a pure wheel ({'.'.join(a.platforms)}) holds ELF file(s) {shown}: no binary may be in it")
        return ok("pure: no ELF file")
    arch = arch_of(a)
    if arch is None:
        known = ", ".join(x.machine for x in ARCHES)
        return fail(f"platform tag {'.'.join(a.platforms)} names no architecture of the release set ({known})")
    problems = []
    for member, head in sorted(elves.items()):
        try:
            found = header_machine(head)
        except ValueError as exc:
            problems.append(f"{member}: {exc}")
            continue
        if found != arch.elf_machine:
            problems.append(
                f"{member} is {_named(found)}, expected {_named(arch.elf_machine)} for this {arch.machine} wheel"
            )
    if problems:
        shown = "; ".join(problems[:5]) + (f" and {len(problems) - 5} more" if len(problems) > 5 else "")
        return fail(f"{shown}: rebuild it with nox -s build (a cross build takes the target's compiler and binaries)")
    return ok(f"{len(elves)} ELF file(s), all {arch.elf_machine}")
