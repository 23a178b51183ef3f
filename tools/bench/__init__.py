"""``python -m tools.bench``: footprint, release set, start-up, throughput and build time, beside a peer.

The peer is the old single-package envpool release ``tools.bench.common.PEER_VERSION``.

Writes docs/benchmarks.md and docs/img/benchmarks.png from one run; raw results go to
.cache/bench/results.json. See ``python -m tools.bench --help``.
"""
