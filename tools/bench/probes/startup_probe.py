"""Run inside a subject venv: time ``import envpool`` (and optionally the first CartPole step); print JSON.

Standalone on purpose (stdlib + the subject's envpool and numpy): it runs in a fresh process per
measurement, so nothing is imported before the clock starts.
"""

from __future__ import annotations

import json
import resource
import sys
import time

T0 = time.perf_counter()


def _rss_mb() -> float:
    """Peak resident set of this process image so far, in MiB.

    VmHWM from /proc/self/status: unlike ``ru_maxrss``, which Linux carries across ``execve`` (a child
    would report its parent's peak), it belongs to this image only.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    """``startup_probe.py import`` or ``startup_probe.py first_step [TASK]``."""
    mode = sys.argv[1] if len(sys.argv) > 1 else "import"
    task = sys.argv[2] if len(sys.argv) > 2 else "CartPole-v1"
    rss_before = _rss_mb()
    t0 = time.perf_counter()
    import envpool

    t_import = time.perf_counter() - t0
    out = {
        "version": envpool.__version__,
        "import_s": t_import,
        "rss_before_mb": rss_before,
        "rss_import_mb": _rss_mb(),
    }
    if mode == "first_step":
        import numpy as np

        env = envpool.make(task, env_type="gymnasium", num_envs=1)
        env.reset()
        env.step(np.zeros(1, dtype=np.int64))
        out["first_step_s"] = time.perf_counter() - t0
        out["rss_first_step_mb"] = _rss_mb()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
