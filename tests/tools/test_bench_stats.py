"""Pure parts of tools.bench: statistics, ratios of interleaved runs, number formatting."""

from __future__ import annotations

import math

import pytest

from tools.bench.stats import (
    Summary,
    fmt_bytes,
    fmt_rate,
    fmt_ratio,
    fmt_seconds,
    fmt_summary,
    paired_ratios,
    ratio_summary,
    summarize,
)


def test_summarize_median_and_range() -> None:
    s = summarize([3.0, 1.0, 2.0, 10.0])
    assert (s.median, s.low, s.high, s.n) == (2.5, 1.0, 10.0, 4)
    assert s.spread == pytest.approx(9.0 / 2.5)


def test_summarize_drops_nan_and_handles_empty() -> None:
    assert summarize([math.nan, 4.0, 2.0]) == Summary(3.0, 2.0, 4.0, 2)
    empty = summarize([])
    assert empty.n == 0
    assert math.isnan(empty.median)
    assert math.isnan(empty.spread)


def test_summary_round_trips_through_json_form() -> None:
    s = summarize([1.0, 2.0, 4.0])
    assert Summary.from_dict(s.to_dict()) == s


def test_paired_ratios_are_round_by_round() -> None:
    # ratios of medians would be 20/10 = 2; round by round they are 1, 4, 2
    assert paired_ratios([10.0, 40.0, 20.0], [10.0, 10.0, 10.0]) == [1.0, 4.0, 2.0]
    assert ratio_summary([10.0, 40.0, 20.0], [10.0, 10.0, 10.0]) == Summary(2.0, 1.0, 4.0, 3)


def test_paired_ratios_skip_missing_rounds_and_zero() -> None:
    assert paired_ratios([1.0, math.nan, 3.0, 5.0], [1.0, 2.0, 0.0, math.nan]) == [1.0]


def test_paired_ratios_reject_unpaired_series() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        paired_ratios([1.0, 2.0], [1.0])


@pytest.mark.parametrize(
    ("value", "text"),
    [(339_728_487, "339.7 MB"), (1_020_000_000, "1.02 GB"), (122_337, "122.3 kB"), (2_897, "2.90 kB"), (12, "12 B")],
)
def test_fmt_bytes_uses_decimal_units(value: int, text: str) -> None:
    assert fmt_bytes(value) == text


def test_formatters() -> None:
    assert fmt_seconds(0.0273) == "27.3 ms"
    assert fmt_seconds(1.813) == "1.81 s"
    assert fmt_seconds(812.4) == "812 s"
    assert fmt_rate(7012.0) == "7.0k"
    assert fmt_rate(256_400.0) == "256k"
    assert fmt_rate(1_980_000.0) == "1.98M"
    assert fmt_rate(512.0) == "512"
    assert fmt_ratio(0.853) == "0.85x"
    assert fmt_ratio(19.31) == "19.3x"
    assert fmt_ratio(2418.2) == "2418x"
    for f in (fmt_bytes, fmt_seconds, fmt_rate, fmt_ratio):
        assert f(math.nan) == "n/a"
        assert f(None) == "n/a"


def test_fmt_summary_shows_median_and_range() -> None:
    assert fmt_summary(Summary(2.0, 1.5, 3.0, 5), "ratio") == "2.00x [1.50x-3.00x]"
    assert fmt_summary(Summary(0.5, 0.5, 0.5, 1), "seconds") == "500 ms"
    assert fmt_summary(summarize([]), "rate") == "n/a"
