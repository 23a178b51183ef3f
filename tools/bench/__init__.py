"""``python -m tools.bench``: footprint, release set, start-up, throughput and build time, beside envpool 1.2.5.

Writes docs/benchmarks.md and docs/img/benchmarks.png from one run; raw results go to
.cache/bench/results.json. See ``python -m tools.bench --help``.
"""
