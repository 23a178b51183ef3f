"""Pure statistics and number formatting for the benchmark tables."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass(frozen=True)
class Summary:
    """The median of repeated measurements and their range."""

    median: float
    low: float
    high: float
    n: int

    @property
    def spread(self) -> float:
        """The range relative to the median (0.1 means the runs span 10% of the median)."""
        if self.n == 0 or self.median == 0:
            return math.nan
        return (self.high - self.low) / abs(self.median)

    def to_dict(self) -> dict[str, float]:
        """A JSON-friendly form."""
        return {"median": self.median, "low": self.low, "high": self.high, "n": self.n}

    @classmethod
    def from_dict(cls, d: dict[str, float]) -> Summary:
        """Inverse of :meth:`to_dict`."""
        return cls(float(d["median"]), float(d["low"]), float(d["high"]), int(d["n"]))


def stored(d: dict[str, float] | None) -> Summary:
    """A summary from its JSON form (:meth:`Summary.to_dict`); the empty summary when it is missing."""
    return Summary.from_dict(d) if d else Summary(math.nan, math.nan, math.nan, 0)


def summarize(values: Sequence[float]) -> Summary:
    """Median, minimum and maximum of ``values`` (NaN for an empty sequence)."""
    clean = [float(v) for v in values if not math.isnan(float(v))]
    if not clean:
        return Summary(math.nan, math.nan, math.nan, 0)
    return Summary(statistics.median(clean), min(clean), max(clean), len(clean))


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> list[float]:
    """Round-by-round ratios ``numerators[i] / denominators[i]`` of interleaved runs.

    Pairs where either side is missing (NaN) or the denominator is zero are left out.
    """
    if len(numerators) != len(denominators):
        raise ValueError(f"paired runs differ in length: {len(numerators)} vs {len(denominators)}")
    out: list[float] = []
    for a, b in zip(numerators, denominators, strict=True):
        if math.isnan(a) or math.isnan(b) or b == 0:
            continue
        out.append(a / b)
    return out


def ratio_summary(numerators: Sequence[float], denominators: Sequence[float]) -> Summary:
    """Summary of the round-by-round ratios of two interleaved series."""
    return summarize(paired_ratios(numerators, denominators))


def fmt_bytes(n: float | None) -> str:
    """Decimal units, as PyPI and pip report sizes: ``1.2 MB``, ``339.7 MB``, ``1.02 GB``."""
    if n is None or math.isnan(n):
        return "n/a"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= scale:
            value = n / scale
            return f"{value:.2f} {unit}" if value < 10 else f"{value:.1f} {unit}"
    return f"{int(n)} B"


def fmt_seconds(s: float | None) -> str:
    """Seconds with a unit that keeps three significant digits: ``12.3 ms``, ``1.81 s``."""
    if s is None or math.isnan(s):
        return "n/a"
    if abs(s) < 1:
        return f"{s * 1000:.3g} ms"
    if abs(s) < 100:
        return f"{s:.3g} s"
    return f"{s:.0f} s"


def fmt_rate(r: float | None) -> str:
    """Steps per second: ``7.0k``, ``256k``, ``1.20M``."""
    if r is None or math.isnan(r):
        return "n/a"
    if abs(r) >= 1e6:
        return f"{r / 1e6:.2f}M"
    if abs(r) >= 1e5:
        return f"{r / 1e3:.0f}k"
    if abs(r) >= 1e3:
        return f"{r / 1e3:.1f}k"
    return f"{r:.0f}"


def fmt_ratio(r: float | None) -> str:
    """A ratio: ``0.85x``, ``12.3x``, ``340x``."""
    if r is None or math.isnan(r):
        return "n/a"
    if abs(r) >= 100:
        return f"{r:.0f}x"
    if abs(r) >= 10:
        return f"{r:.1f}x"
    return f"{r:.2f}x"


def fmt_summary(s: Summary, fmt: str = "seconds") -> str:
    """``median [low-high]`` with the formatter named by ``fmt`` (seconds, rate, ratio, bytes)."""
    f = {"seconds": fmt_seconds, "rate": fmt_rate, "ratio": fmt_ratio, "bytes": fmt_bytes}[fmt]
    if s.n == 0:
        return "n/a"
    if s.n == 1:
        return f(s.median)
    return f"{f(s.median)} [{f(s.low)}-{f(s.high)}]"
