"""The five sections of docs/benchmarks.md, one renderer each, with the ratios they quote.

Each renderer is a pure function of its section of the results document (``python -m tools.bench``).
"""

from __future__ import annotations

from typing import Any

from tools.bench.common import PEER
from tools.bench.markdown import SUBJECT_LABELS, commands_block, machine_line, ratio, table
from tools.bench.stats import Summary, fmt_bytes, fmt_ratio, fmt_seconds, fmt_summary, ratio_summary, stored


# ---- footprint -------------------------------------------------------------------------------------
def subject(fp: dict[str, Any], key: str) -> dict[str, Any] | None:
    """The footprint row of one subject (``ours-core``, ``peer-envpool``, ...), None when not measured."""
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
    """The peer (envpool PEER_VERSION) over our core: total download, own files, site-packages, install time."""
    core, peer = subject(fp, "ours-core"), subject(fp, "peer-envpool")
    if core is None or peer is None:
        return {}
    return {
        "download": ratio(peer["download_bytes"], core["download_bytes"]),
        "project": ratio(peer["project_bytes"], core["project_bytes"]),
        "site_packages": ratio(peer["site_packages_bytes"], core["site_packages_bytes"]),
        "install": ratio(stored(peer["install_s"]).median, stored(core["install_s"]).median),
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
                fmt_summary(stored(s["install_s"]), "seconds"),
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
            f"{PEER} / our core: **{fmt_ratio(r['download'])}** the download "
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
                f"{PEER} and the envpool-assets* releases its install pulls in (one release of the old system "
                "uploads the envpool wheels; the asset wheels are released separately but every install needs them):\n"
            ),
            table(["release", "files", "bytes", "Linux x86_64 + aarch64 (+ any)", "source"], prow),
            "",
            (
                f"**Total: {fmt_bytes(peer['total_bytes'])}; "
                f"Linux x86_64 + aarch64 part {fmt_bytes(peer['linux_bytes'])}.** "
                f"{PEER} / ours: {fmt_ratio(ratio(peer['total_bytes'], ours['total_bytes']))} "
                f"(Linux part: {fmt_ratio(ratio(peer['linux_bytes'], ours['total_bytes']))})."
            ),
        ]
        if peer.get("notes"):
            out.append("Note: " + "; ".join(peer["notes"]) + ".")
    else:
        out.append(f"{PEER}: {rel.get('peer_note', 'not computed')}.")
    out.append("")
    out.append(commands_block(rel))
    return "\n".join(out)


# ---- start-up ------------------------------------------------------------------------------------------
def startup_ratios(st: dict[str, Any]) -> dict[str, Summary]:
    """Round-by-round peer / ours import-time ratio, and the ratio of the first-step medians."""
    subj = st["subjects"]
    if "ours" not in subj or "peer" not in subj:
        return {}
    imp = ratio_summary(subj["peer"]["raw_import_s"], subj["ours"]["raw_import_s"])
    first = ratio(stored(subj["peer"]["first_step_s"]).median, stored(subj["ours"]["first_step_s"]).median)
    return {"import": imp, "first_step": Summary(first, first, first, 1)}


def startup_md(st: dict[str, Any]) -> str:
    """Section 3."""
    rows = []
    for name, s in st["subjects"].items():
        rows.append(
            [
                f"{SUBJECT_LABELS.get(name, name)} ({s['version']})",
                fmt_summary(stored(s["import_s"])),
                fmt_summary(stored(s["import_process_s"])),
                f"{stored(s['rss_import_mb']).median:.0f} MB",
                fmt_summary(stored(s["first_step_s"])),
                f"{stored(s['rss_first_step_mb']).median:.0f} MB",
                f"{s['import_stderr_lines']} / {s.get('first_step_stderr_lines', 'n/a')}",
            ]
        )
    empty_rss = stored(next(iter(st["subjects"].values()))["rss_interpreter_mb"]).median
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
            f"{PEER} / ours: import **{fmt_summary(r['import'], 'ratio')}** (round-by-round ratios), "
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
        cells += [fmt_summary(stored(row["sps"].get(s)), "rate") for s in subjects]
        cells += [fmt_summary(stored(row["ratios"].get(s)), "ratio") for s in others]
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
                frows.append([r["family"], f"`{r['task']}`", fmt_summary(stored(r["sps"]), "rate")])
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
