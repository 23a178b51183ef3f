"""The verdicts of a run: the targets table and the headline lines the README quotes."""

from __future__ import annotations

import math
from typing import Any

from tools.bench.common import PEER
from tools.bench.sections import footprint_ratios, startup_ratios, subject, thirdparty_text
from tools.bench.stats import Summary, fmt_bytes, fmt_ratio, fmt_seconds, fmt_summary, stored
from tools.release.release_set import package_of_kind

#: Issue 13's size targets: the whole install of every family, and the Qt/ICU library wheel (compressed; its budget).
ALL_DOWNLOAD_TARGET = 55_000_000
LIBRARY = package_of_kind("library")


def _throughput_ratio(tp: dict[str, Any], n: int, mode: str = "sync", other: str = "peer") -> Summary:
    for row in tp.get("rows", []):
        if row["num_envs"] == n and row["mode"] == mode:
            return stored(row["ratios"].get(other))
    return Summary(math.nan, math.nan, math.nan, 0)


def _size_targets(fp: dict[str, Any]) -> list[list[str]]:
    """Issue 13's size targets: the download of every family, and the Qt/ICU library wheel (compressed)."""
    everything = subject(fp, "ours-all")
    if not everything:
        return []
    size = everything["download_bytes"]
    rows = [
        [
            f"`envpool[all]` download < {fmt_bytes(ALL_DOWNLOAD_TARGET)}",
            fmt_bytes(size),
            "met" if size < ALL_DOWNLOAD_TARGET else "short",
            "",
        ]
    ]
    libs = [f for f in everything["files"] if f["name"].lower().replace("_", "-") == LIBRARY.distribution]
    if libs:
        size = libs[0]["bytes"]
        met = size <= LIBRARY.budget
        why = "" if met else "the ICU data items kept (packages/procgen-libs/icu-data.txt) or Qt itself grew"
        rows.append(
            [
                f"{LIBRARY.distribution} <= {fmt_bytes(LIBRARY.budget)}",
                fmt_bytes(size),
                "met" if met else "short",
                why,
            ]
        )
    return rows


def targets(results: dict[str, Any]) -> list[list[str]]:
    """Target, measured value, verdict and, where short, the reason the data gives."""
    sec = {k: v for k, v in results.get("sections", {}).items() if "error" not in v}
    rows: list[list[str]] = []
    fp = sec.get("footprint")
    if fp:
        r = footprint_ratios(fp)
        core = subject(fp, "ours-core")
        met_total = r.get("download", math.nan) >= 100
        met_own = r.get("project", math.nan) >= 100
        why = ""
        if core and not met_total:
            why = (
                f"the core's own wheel is {fmt_bytes(core['project_bytes'])}; the third-party wheels it requires "
                f"({thirdparty_text(core)}) are {fmt_bytes(core['thirdparty_bytes'])} of the "
                f"{fmt_bytes(core['download_bytes'])}: envpool's own share is what packaging can shrink"
            )
        rows.append(
            [
                "core-only download >= 100x smaller (all wheels)",
                fmt_ratio(r.get("download")),
                "met" if met_total else "short",
                why,
            ]
        )
        rows.append(
            [
                "core-only download >= 100x smaller (envpool's own wheels)",
                fmt_ratio(r.get("project")),
                "met" if met_own else "short",
                "",
            ]
        )
        rows += _size_targets(fp)
    st = sec.get("startup")
    if st:
        imp = startup_ratios(st).get("import")
        if imp is not None:
            rows.append(
                [
                    "`import envpool` >= 10x faster",
                    fmt_summary(imp, "ratio"),
                    "met" if imp.median >= 10 else "short",
                    "" if imp.median >= 10 else "see section 3",
                ]
            )
    tp = sec.get("throughput")
    if tp:
        for n in (1, 8, 64):
            for mode in ("sync", "async"):
                s = _throughput_ratio(tp, n, mode)
                if s.n == 0:
                    continue
                need = 1.0
                label = f"CartPole {mode} {n} env{'s' if n > 1 else ''}: ours >= {PEER}" + (
                    " (ahead at 1 env)" if n == 1 else ""
                )
                met = s.median > need if n == 1 else s.median >= need
                why = ""
                if not met:
                    why = (
                        "within run-to-run noise (the range crosses 1.0)"
                        if s.low <= 1.0 <= s.high
                        else "slower in every round"
                    )
                rows.append([label, fmt_summary(s, "ratio"), "met" if met else "short", why])
    return rows


def headlines(results: dict[str, Any]) -> list[str]:
    """The 3-4 lines the README quotes."""
    sec = {k: v for k, v in results.get("sections", {}).items() if "error" not in v}
    lines: list[str] = []
    fp = sec.get("footprint")
    if fp:
        core, peer = subject(fp, "ours-core"), subject(fp, "peer-envpool")
        r = footprint_ratios(fp)
        if core and peer:
            lines.append(
                f"- `pip install envpool` downloads {fmt_bytes(core['download_bytes'])} "
                f"({fmt_bytes(core['project_bytes'])} of it our wheel; third-party: {thirdparty_text(core)}) "
                f"vs {fmt_bytes(peer['download_bytes'])} for {PEER}: {fmt_ratio(r['download'])} smaller "
                f"({fmt_ratio(r['project'])} smaller counting envpool's own wheels only); "
                f"{fmt_bytes(core['site_packages_bytes'])} vs {fmt_bytes(peer['site_packages_bytes'])} on disk."
            )
    st = sec.get("startup")
    if st and "ours" in st["subjects"] and "peer" in st["subjects"]:
        o, p = st["subjects"]["ours"], st["subjects"]["peer"]
        lines.append(
            f"- `import envpool`: {fmt_seconds(stored(o['import_s']).median)} vs "
            f"{fmt_seconds(stored(p['import_s']).median)} ({fmt_ratio(startup_ratios(st)['import'].median)} faster), "
            f"{stored(o['rss_import_mb']).median:.0f} MB vs {stored(p['rss_import_mb']).median:.0f} MB peak RSS."
        )
    tp = sec.get("throughput")
    if tp:
        parts = [f"{n} env{'s' if n > 1 else ''} {fmt_ratio(_throughput_ratio(tp, n).median)}" for n in (1, 8, 64)]
        lines.append(f"- CartPole-v1 steps/s, ours / {PEER} (sync): {', '.join(parts)}.")
    rel = sec.get("release")
    if rel and rel.get("peer"):
        lines.append(
            f"- One release uploads {fmt_bytes(rel['ours']['total_bytes'])} ({len(rel['ours']['artifacts'])} files) "
            f"vs {fmt_bytes(rel['peer']['total_bytes'])} for {PEER} with its asset releases."
        )
    return lines
