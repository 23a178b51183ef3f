"""docs/img/benchmarks.png: one figure of the run's headline measurements (matplotlib, Agg)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from tools.bench.common import PEER
from tools.bench.stats import Summary, stored

if TYPE_CHECKING:
    from pathlib import Path

COLORS = {"ours": "#1f77b4", "peer": "#d62728", "gymnasium": "#7f7f7f"}
LABELS = {"ours": "ours", "peer": PEER, "gymnasium": "gymnasium sync"}


def _err(s: Summary) -> list[float]:
    return [max(0.0, s.median - s.low), max(0.0, s.high - s.median)]


def _bars(ax: Any, x: list[float], values: list[Summary], **style: Any) -> None:
    """Bars at the medians with min-max error bars."""
    errors = [_err(v) for v in values]
    ax.bar(x, [v.median for v in values], yerr=[[e[0] for e in errors], [e[1] for e in errors]], **style)


def _grouped_bars(ax: Any, groups: int, series: list[tuple[str, list[Summary]]], capsize: int) -> float:
    """One bar per series in each of ``groups`` groups, coloured per subject; returns the bar width."""
    width = 0.8 / max(1, len(series))
    for j, (name, values) in enumerate(series):
        xs = [i + j * width for i in range(groups)]
        _bars(ax, xs, values, width=width, color=COLORS.get(name), label=LABELS.get(name, name), capsize=capsize)
    return width


def draw(results: dict[str, Any], out: Path) -> None:
    """Write the PNG; panels whose section did not run say so."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sec = {k: v for k, v in results.get("sections", {}).items() if "error" not in v}
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    (a_fp, a_st), (a_tp, a_ratio) = axes
    quick = any(s.get("quick") for s in sec.values())
    machine: dict[str, Any] = next((s["machine"] for s in sec.values() if s.get("machine")), {})
    title = f"envpool split packages vs {PEER} - {machine.get('cores', '?')} cores, {machine.get('date', '')}"
    fig.suptitle(title + (" - QUICK RUN (noisy)" if quick else ""), fontsize=12)

    fp = sec.get("footprint")
    if fp:
        subs = fp["subjects"]
        names = [" ".join(s["requirements"]) for s in subs]
        own = [s["project_bytes"] / 1e6 for s in subs]
        third = [s["thirdparty_bytes"] / 1e6 for s in subs]
        y = range(len(subs))
        a_fp.barh(y, own, color="#1f77b4", label="envpool's own wheels")
        a_fp.barh(y, third, left=own, color="#bbbbbb", label="third-party wheels")
        for i, s in enumerate(subs):
            a_fp.text((own[i] + third[i]) * 1.05, i, f"{s['download_bytes'] / 1e6:.1f} MB", va="center", fontsize=8)
        a_fp.set_yticks(list(y), names, fontsize=8)
        a_fp.set_xscale("log")
        a_fp.set_xlim(0.05, max(o + t for o, t in zip(own, third, strict=True)) * 4)
        a_fp.invert_yaxis()
        a_fp.set_xlabel("MB downloaded (log)")
        a_fp.legend(fontsize=8, loc="lower right")
    else:
        a_fp.text(0.5, 0.5, "footprint not measured", ha="center")
        a_fp.axis("off")
    a_fp.set_title("Download per install line")

    st = sec.get("startup")
    if st:
        metrics = (("import_s", "import envpool"), ("first_step_s", "to first CartPole step"))
        series = [(name, [stored(subj[m]) for m, _ in metrics]) for name, subj in st["subjects"].items()]
        width = _grouped_bars(a_st, len(metrics), series, capsize=3)
        a_st.set_xticks([i + width / 2 for i in range(len(metrics))], [m[1] for m in metrics])
        a_st.set_yscale("log")
        a_st.set_ylabel("seconds (log), median, min-max")
        a_st.legend(fontsize=8)
    else:
        a_st.text(0.5, 0.5, "start-up not measured", ha="center")
        a_st.axis("off")
    a_st.set_title("Start-up")

    tp = sec.get("throughput")
    if tp:
        rows = tp["rows"]
        keys = [f"{r['mode']} {r['num_envs']}" for r in rows]
        series = [(name, [stored(r["sps"].get(name)) for r in rows]) for name in tp["subjects"]]
        width = _grouped_bars(a_tp, len(rows), series, capsize=2)
        a_tp.set_xticks([i + width for i in range(len(rows))], keys)
        a_tp.set_yscale("log")
        a_tp.set_ylabel("CartPole-v1 env steps/s (log)")
        a_tp.set_xlabel("mode, num_envs")
        a_tp.legend(fontsize=8)

        ratios = [stored(r["ratios"].get("peer")) for r in rows]
        _bars(a_ratio, [float(i) for i in range(len(rows))], ratios, color=COLORS["ours"], capsize=3)
        for i, v in enumerate(ratios):
            if not math.isnan(v.median):
                a_ratio.text(
                    i,
                    v.high if not math.isnan(v.high) else v.median,
                    f"{v.median:.2f}x",
                    ha="center",
                    va="bottom",
                    fontsize=8,
                )
        a_ratio.axhline(1.0, color="black", lw=1, ls="--")
        a_ratio.set_xticks(list(range(len(rows))), keys)
        a_ratio.set_ylabel(f"ours / {PEER} (round-by-round)")
        a_ratio.set_xlabel("mode, num_envs")
    else:
        a_tp.text(0.5, 0.5, "throughput not measured", ha="center")
        a_tp.axis("off")
        a_ratio.axis("off")
    a_tp.set_title("Throughput")
    a_ratio.set_title("Throughput ratio, median and min-max over rounds")

    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
