"""Render docs/benchmarks.md from the results document (pure functions of the JSON)."""

from __future__ import annotations

import math
from typing import Any

from tools.bench.stats import (
    Summary,
    fmt_bytes,
    fmt_ratio,
    fmt_seconds,
    fmt_summary,
    ratio_summary,
)

#: Issue 13's size targets: the whole install of every family, and the Qt/ICU library wheel (compressed).
ALL_DOWNLOAD_TARGET = 55_000_000
LIBRARY_WHEEL_TARGET = 12_000_000
SUBJECT_LABELS = {"ours": "ours", "peer": "envpool 1.2.5", "gymnasium": "gymnasium SyncVectorEnv"}


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


def _summary(d: dict[str, Any] | None) -> Summary:
    return Summary.from_dict(d) if d else Summary(math.nan, math.nan, math.nan, 0)


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


# ---- footprint -------------------------------------------------------------------------------------
def _subject(fp: dict[str, Any], key: str) -> dict[str, Any] | None:
    return next((s for s in fp.get("subjects", []) if s["key"] == key), None)


def thirdparty_text(subject: dict[str, Any]) -> str:
    """``numpy 16.9 MB + 6 more 0.9 MB``: the largest third-party wheel of an install and the rest."""
    third = sorted((f for f in subject["files"] if not f["project"]), key=lambda f: -f["bytes"])
    if not third:
        return "none"
    top, rest = third[0], third[1:]
    tail = f" + {len(rest)} more {fmt_bytes(sum(f['bytes'] for f in rest))}" if rest else ""
    return f"{top['name']} {fmt_bytes(top['bytes'])}{tail}"


def footprint_ratios(fp: dict[str, Any]) -> dict[str, float]:
    """envpool 1.2.5 over our core: total download, envpool's own files, site-packages, install time."""
    core, peer = _subject(fp, "ours-core"), _subject(fp, "peer-envpool")
    if core is None or peer is None:
        return {}
    return {
        "download": ratio(peer["download_bytes"], core["download_bytes"]),
        "project": ratio(peer["project_bytes"], core["project_bytes"]),
        "site_packages": ratio(peer["site_packages_bytes"], core["site_packages_bytes"]),
        "install": ratio(_summary(peer["install_s"]).median, _summary(core["install_s"]).median),
    }


def footprint_md(fp: dict[str, Any]) -> str:
    """Section 1."""
    rows = []
    for s in fp["subjects"]:
        rows.append(
            [
                f"`pip install {' '.join(s['requirements'])}`",
                fmt_bytes(s["download_bytes"]),
                f"{fmt_bytes(s['project_bytes'])} ({sum(1 for f in s['files'] if f['project'])} files)",
                f"{fmt_bytes(s['thirdparty_bytes'])} ({sum(1 for f in s['files'] if not f['project'])} files)",
                fmt_bytes(s["site_packages_bytes"]),
                fmt_summary(_summary(s["install_s"]), "seconds"),
            ]
        )
    out = [
        "## 1. Footprint\n",
        machine_line(fp) + "\n",
        (
            "Downloaded = every wheel the install uses (ours and third-party), as `pip install --dry-run --report` "
            "resolves it from the local cache. On disk = `du` of site-packages after the install, minus the empty "
            "venv's. Install = wall time of `pip install --no-index` from local files into a fresh venv "
            f"(median [min-max] of {fp.get('repeats', 1)} installs).\n"
        ),
        table(
            [
                "install line",
                "downloaded",
                "envpool's own wheels",
                "third-party wheels",
                "on disk",
                "install (local files)",
            ],
            rows,
        ),
        "",
    ]
    r = footprint_ratios(fp)
    if r:
        out.append(
            f"envpool 1.2.5 / our core: **{fmt_ratio(r['download'])}** the download "
            f"(**{fmt_ratio(r['project'])}** counting envpool's own wheels only), {fmt_ratio(r['site_packages'])} "
            f"the disk, {fmt_ratio(r['install'])} the install time.\n"
        )
    if fp.get("skipped"):
        out.append("Not measured: " + "; ".join(fp["skipped"]) + ".\n")
    details = []
    for s in fp["subjects"]:
        files = sorted(s["files"], key=lambda f: -f["bytes"])
        details.append(
            f"**{s['label']}**\n\n"
            + table(
                ["file", "bytes", "whose"],
                [[f["file"], fmt_bytes(f["bytes"]), "envpool" if f["project"] else "third-party"] for f in files],
            )
        )
    out.append(
        "<details><summary>Every wheel of every install</summary>\n\n" + "\n\n".join(details) + "\n\n</details>\n"
    )
    out.append(commands_block(fp))
    return "\n".join(out)


# ---- release set -------------------------------------------------------------------------------------
def release_md(rel: dict[str, Any]) -> str:
    """Section 2."""
    ours = rel["ours"]
    rows = [
        [
            a["package"],
            f"`{a['filename']}`",
            fmt_bytes(a["size"]),
            f"estimated from `{a['estimated_from']}`" if a["estimated_from"] else "built here",
        ]
        for a in ours["artifacts"]
    ]
    abi3 = (
        f"; CPython >= {ours['abi3_from'][2]}.{ours['abi3_from'][3:]} share one abi3 wheel"
        if ours.get("abi3_from")
        else ""
    )
    out = [
        "## 2. Release set per version\n",
        machine_line(rel) + "\n",
        (
            f"Ours, version {ours['version']}. Matrix, {ours['matrix_source']}: "
            f"{', '.join(f'`{i}`' for i in ours['matrix'])}{abi3}. Data wheels are `py3-none-any` "
            "(one each), the library wheel one per platform, one sdist per package"
            + (
                f"; **{ours['estimated']} of {len(ours['artifacts'])} sizes estimated** from the built wheel.\n"
                if ours.get("estimated")
                else "; every file was built here.\n"
            )
        ),
        table(["distribution", "file", "bytes", "size from"], rows),
        "",
        f"**Total: {fmt_bytes(ours['total_bytes'])} in {len(ours['artifacts'])} files.**",
    ]
    if ours.get("missing"):
        out.append(f"Not in the wheelhouse `{ours['wheelhouse']}` (not counted): {', '.join(ours['missing'])}.")
    out.append("")
    peer = rel.get("peer")
    if peer:
        prow = [
            [
                f"{r['name']} {r['version']}",
                str(r["files"]),
                fmt_bytes(r["total_bytes"]),
                f"{fmt_bytes(r['linux_bytes'])} ({r['linux_files']} files)",
                r["source"],
            ]
            for r in peer["releases"]
        ]
        out += [
            (
                "envpool 1.2.5 and the envpool-assets* releases its install pulls in (one release of the old system "
                "uploads the envpool wheels; the asset wheels are released separately but every install needs them):\n"
            ),
            table(["release", "files", "bytes", "Linux x86_64 + aarch64 (+ any)", "source"], prow),
            "",
            (
                f"**Total: {fmt_bytes(peer['total_bytes'])}; "
                f"Linux x86_64 + aarch64 part {fmt_bytes(peer['linux_bytes'])}.** "
                f"envpool 1.2.5 / ours: {fmt_ratio(ratio(peer['total_bytes'], ours['total_bytes']))} "
                f"(Linux part: {fmt_ratio(ratio(peer['linux_bytes'], ours['total_bytes']))})."
            ),
        ]
        if peer.get("notes"):
            out.append("Note: " + "; ".join(peer["notes"]) + ".")
    else:
        out.append(f"envpool 1.2.5: {rel.get('peer_note', 'not computed')}.")
    out.append("")
    out.append(commands_block(rel))
    return "\n".join(out)


# ---- start-up ------------------------------------------------------------------------------------------
def startup_ratios(st: dict[str, Any]) -> dict[str, Summary]:
    """Round-by-round envpool 1.2.5 / ours import-time ratio, and the ratio of the first-step medians."""
    subj = st["subjects"]
    if "ours" not in subj or "peer" not in subj:
        return {}
    imp = ratio_summary(subj["peer"]["raw_import_s"], subj["ours"]["raw_import_s"])
    first = ratio(_summary(subj["peer"]["first_step_s"]).median, _summary(subj["ours"]["first_step_s"]).median)
    return {"import": imp, "first_step": Summary(first, first, first, 1)}


def startup_md(st: dict[str, Any]) -> str:
    """Section 3."""
    rows = []
    for name, s in st["subjects"].items():
        rows.append(
            [
                f"{SUBJECT_LABELS.get(name, name)} ({s['version']})",
                fmt_summary(_summary(s["import_s"])),
                fmt_summary(_summary(s["import_process_s"])),
                f"{_summary(s['rss_import_mb']).median:.0f} MB",
                fmt_summary(_summary(s["first_step_s"])),
                f"{_summary(s['rss_first_step_mb']).median:.0f} MB",
                f"{s['import_stderr_lines']} / {s.get('first_step_stderr_lines', 'n/a')}",
            ]
        )
    empty_rss = _summary(next(iter(st["subjects"].values()))["rss_interpreter_mb"]).median
    out = [
        "## 3. Start-up\n",
        machine_line(st) + "\n",
        (
            f"{st['rounds']} rounds; each measurement is a fresh process, subjects alternate within a round. "
            "`import envpool` is timed inside the process (interpreter start excluded); the process column is the "
            "wall time of the whole `python probe.py import` process. Peak RSS is the process's `VmHWM` "
            f"(an empty interpreter: {empty_rss:.0f} MB). "
            "First step = import + `envpool.make('CartPole-v1', num_envs=1)` + `reset()` + one `step()`. "
            "Median [min-max].\n"
        ),
        table(
            [
                "subject",
                "`import envpool`",
                "process (import)",
                "peak RSS after import",
                "to first CartPole step",
                "peak RSS at first step",
                "stderr lines (import / first step)",
            ],
            rows,
        ),
        "",
    ]
    r = startup_ratios(st)
    if r:
        out.append(
            f"envpool 1.2.5 / ours: import **{fmt_summary(r['import'], 'ratio')}** (round-by-round ratios), "
            f"time to first step {fmt_ratio(r['first_step'].median)}.\n"
        )
    out.append(commands_block(st))
    return "\n".join(out)


# ---- throughput --------------------------------------------------------------------------------------
def throughput_md(tp: dict[str, Any]) -> str:
    """Section 4."""
    subjects = tp["subjects"]
    others = subjects[1:]
    headers = ["envs", "mode", "batch"] + [f"{SUBJECT_LABELS.get(s, s)} steps/s" for s in subjects]
    headers += [f"ours / {SUBJECT_LABELS.get(s, s)}" for s in others]
    rows = []
    for row in tp["rows"]:
        cells = [str(row["num_envs"]), row["mode"], str(row["batch_size"])]
        cells += [fmt_summary(_summary(row["sps"].get(s)), "rate") for s in subjects]
        cells += [fmt_summary(_summary(row["ratios"].get(s)), "ratio") for s in others]
        rows.append(cells)
    out = [
        "## 4. Throughput\n",
        machine_line(tp) + "\n",
        (
            f"CartPole-v1 env steps per second. {tp['rounds']} interleaved rounds: in every round each configuration "
            "runs once per subject (subject order rotating), each in a fresh process in its own venv, stepping random "
            f"actions for {tp['seconds']:g} s after a warm-up. Ratios are taken round by round, then summarized: "
            "median [min-max]. Sync = `step()` on all envs; async = `batch_size = num_envs/2`, `recv()` then "
            "`send(actions, info['env_id'])`. gymnasium is measured in sync mode only "
            "(`gymnasium.make_vec('CartPole-v1', num_envs=N, vectorization_mode='sync')`). "
            "Default `num_threads` everywhere.\n"
        ),
        table(headers, rows),
        "",
    ]
    if tp.get("errors"):
        out.append("Errors: " + "; ".join(tp["errors"]) + "\n")
    fam = tp.get("families")
    if fam:
        frows = []
        skipped = []
        for r in fam["rows"]:
            if r["sps"]:
                frows.append([r["family"], f"`{r['task']}`", fmt_summary(_summary(r["sps"]), "rate")])
            else:
                skipped.append(f"{r['family']} (`{r['task']}`): {' '.join(str(r['error']).split())}")
        out += [
            (
                f"Each of our families, one task each (the first `envpool.list_all_envs()` lists for the family), "
                f"{fam['num_envs']} envs, {fam['mode']}:\n"
            ),
            table(["family", "task", "steps/s"], frows),
            "",
        ]
        if skipped:
            out.append("Skipped (extra not installed or failed): " + "; ".join(skipped) + "\n")
    out.append(commands_block(tp))
    return "\n".join(out)


# ---- build -------------------------------------------------------------------------------------------------
def build_md(b: dict[str, Any]) -> str:
    """Section 5."""
    warm = b.get("warm_s", [])
    return "\n".join(
        [
            "## 5. Build\n",
            machine_line(b) + "\n",
            (
                f"Clean = after removing {', '.join(f'`{p}`' for p in b['clean_paths'])} (download caches under "
                "`.cache/` are kept). Warm = after touching one C++ file of the core, rebuilding "
                "the core only. One run each, from the repository root.\n"
            ),
            table(
                ["build", "command", "wall time"],
                [
                    ["clean", f"`{b['clean_cmd']}`", fmt_seconds(b["clean_s"])],
                    [f"warm (`touch {b['touched']}`)", f"`{b['warm_cmd']}`", fmt_seconds(warm[0] if warm else None)],
                ],
            ),
            "",
            commands_block(b),
        ]
    )


# ---- targets and headlines -----------------------------------------------------------------------------
def _throughput_ratio(tp: dict[str, Any], n: int, mode: str = "sync", other: str = "peer") -> Summary:
    for row in tp.get("rows", []):
        if row["num_envs"] == n and row["mode"] == mode:
            return _summary(row["ratios"].get(other))
    return Summary(math.nan, math.nan, math.nan, 0)


def _size_targets(fp: dict[str, Any]) -> list[list[str]]:
    everything = _subject(fp, "ours-all")
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
    libs = [f for f in everything["files"] if f["name"].lower().replace("_", "-") == "envpool-procgen-libs"]
    if libs:
        size = libs[0]["bytes"]
        met = size <= LIBRARY_WHEEL_TARGET
        why = "" if met else "the ICU data items kept (packages/procgen-libs/icu-data.txt) or Qt itself grew"
        rows.append(
            [
                f"envpool-procgen-libs <= {fmt_bytes(LIBRARY_WHEEL_TARGET)}",
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
        core = _subject(fp, "ours-core")
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
                label = f"CartPole {mode} {n} env{'s' if n > 1 else ''}: ours >= envpool 1.2.5" + (
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
        core, peer = _subject(fp, "ours-core"), _subject(fp, "peer-envpool")
        r = footprint_ratios(fp)
        if core and peer:
            lines.append(
                f"- `pip install envpool` downloads {fmt_bytes(core['download_bytes'])} "
                f"({fmt_bytes(core['project_bytes'])} of it our wheel; third-party: {thirdparty_text(core)}) "
                f"vs {fmt_bytes(peer['download_bytes'])} for envpool 1.2.5: {fmt_ratio(r['download'])} smaller "
                f"({fmt_ratio(r['project'])} smaller counting envpool's own wheels only); "
                f"{fmt_bytes(core['site_packages_bytes'])} vs {fmt_bytes(peer['site_packages_bytes'])} on disk."
            )
    st = sec.get("startup")
    if st and "ours" in st["subjects"] and "peer" in st["subjects"]:
        o, p = st["subjects"]["ours"], st["subjects"]["peer"]
        lines.append(
            f"- `import envpool`: {fmt_seconds(_summary(o['import_s']).median)} vs "
            f"{fmt_seconds(_summary(p['import_s']).median)} ({fmt_ratio(startup_ratios(st)['import'].median)} faster), "
            f"{_summary(o['rss_import_mb']).median:.0f} MB vs {_summary(p['rss_import_mb']).median:.0f} MB peak RSS."
        )
    tp = sec.get("throughput")
    if tp:
        parts = [f"{n} env{'s' if n > 1 else ''} {fmt_ratio(_throughput_ratio(tp, n).median)}" for n in (1, 8, 64)]
        lines.append(f"- CartPole-v1 steps/s, ours / envpool 1.2.5 (sync): {', '.join(parts)}.")
    rel = sec.get("release")
    if rel and rel.get("peer"):
        lines.append(
            f"- One release uploads {fmt_bytes(rel['ours']['total_bytes'])} ({len(rel['ours']['artifacts'])} files) "
            f"vs {fmt_bytes(rel['peer']['total_bytes'])} for envpool 1.2.5 with its asset releases."
        )
    return lines


def render(results: dict[str, Any]) -> str:
    """The whole docs/benchmarks.md."""
    sec = results.get("sections", {})
    quick = any(s.get("quick") for s in sec.values())
    out = [
        "# Benchmarks: the split envpool beside envpool 1.2.5\n",
        (
            "Generated by `nox -s bench` (`python -m tools.bench`); do not edit by hand. Raw results: "
            "`.cache/bench/results.json`. Peers come from PyPI into their own venvs under `.cache/bench/`. "
            "Absolute numbers on a shared 2-core machine are noisy: compare the ratios measured in the same run.\n"
        ),
    ]
    if quick:
        out.append(
            "> **Quick run (`--quick`): few rounds and short measurements. These numbers check the tooling; "
            "they are noisy and not for quoting.**\n"
        )
    out.append("![benchmarks](img/benchmarks.png)\n")
    out.append(
        "Run it: `nox -s bench` (every section, about 15-20 minutes on 2 cores; the first run also downloads "
        "envpool 1.2.5's ~340 MB of wheels into `.cache/bench/wheels`), `nox -s bench -- --quick` (a few "
        "minutes, no build timing), `nox -s bench -- --sections startup,throughput`, or "
        "`nox -s bench -- --report-only` to re-render this page from the last results. "
        "Run it on a quiet machine: other processes distort every number here.\n"
    )
    heads = headlines(results)
    if heads:
        out += ["## Headline\n", "\n".join(heads), ""]
    rows = targets(results)
    if rows:
        out += [
            "## Targets (reported, not asserted)\n",
            table(["target", "measured", "verdict", "why, where short"], rows),
            "",
        ]
    renderers = (
        ("footprint", footprint_md),
        ("release", release_md),
        ("startup", startup_md),
        ("throughput", throughput_md),
        ("build", build_md),
    )
    for name, fn in renderers:
        if name in sec and "error" in sec[name]:
            out.append(f"## {name}\n\n{machine_line(sec[name])}\n\n**Failed:** `{sec[name]['error'][:2000]}`\n")
        elif name in sec:
            out.append(fn(sec[name]))
        else:
            out.append(f"## {name}\n\nNot measured in this run (`python -m tools.bench --sections {name}`).\n")
    return "\n".join(out).rstrip() + "\n"
