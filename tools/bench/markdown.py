"""Markdown building blocks of docs/benchmarks.md: tables, ratios, the machine line, the commands."""

from __future__ import annotations

import math
from typing import Any

from tools.bench.common import PEER

#: How the tables name each subject.
SUBJECT_LABELS = {"ours": "ours", "peer": PEER, "gymnasium": "gymnasium SyncVectorEnv"}


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub markdown table; ``|`` inside cells is escaped."""

    def cell(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def ratio(a: float | None, b: float | None) -> float:
    """``a / b``, NaN when either is missing or ``b`` is zero."""
    if a is None or b is None or b == 0 or math.isnan(a) or math.isnan(b):
        return math.nan
    return a / b


def machine_line(section: dict[str, Any]) -> str:
    """The machine and date a table was measured on."""
    m = section.get("machine", {})
    quick = " **Quick run (few rounds, short measurements): noisy, not for quoting.**" if section.get("quick") else ""
    return (
        f"Measured {m.get('date', '?')} on {m.get('cores', '?')} cores (`nproc`), CPU `{m.get('cpu', '?')}`, "
        f"Linux {m.get('kernel', '?')} {m.get('machine', '')}, CPython {m.get('python', '?')}.{quick}"
    )


def commands_block(section: dict[str, Any]) -> str:
    """The exact commands of a section, folded."""
    cmds = section.get("commands", [])
    if not cmds:
        return ""
    body = "\n".join(cmds)
    return f"<details><summary>Exact commands ({len(cmds)})</summary>\n\n```sh\n{body}\n```\n\n</details>\n"
