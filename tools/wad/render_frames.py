"""Save one observation frame per DoomNav task as docs/img/vizdoom-<task>.png.

Run with an installed envpool wheel and its vizdoom extra (never the source tree):

    python -m tools.wad.render_frames [--out docs/img] [--height 240 --width 320]

PNG files are written with zlib only (no imaging dependency).
"""

from __future__ import annotations

import argparse
import struct
import zlib
from pathlib import Path

import numpy as np

from tools import REPO

DEFAULT_OUT = REPO / "docs" / "img"
# task id -> (file stem, seed, actions to take before the frame is saved)
SHOTS: dict[str, tuple[str, int, list[int]]] = {
    "DoomNav-MyWayHome-v0": ("vizdoom-my-way-home", 3, []),
    "DoomNav-HealthGathering-v0": ("vizdoom-health-gathering", 0, [0] * 4),
    "DoomNav-Freedoom2Map01-v0": ("vizdoom-freedoom2-map01", 0, [0] * 6),
}


def write_png(path: Path, rgb: np.ndarray) -> None:
    """Write an (H, W, 3) uint8 array as an 8-bit RGB PNG."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    )


def render(out: Path, height: int, width: int) -> list[Path]:
    """Render every task's frame into ``out``; return the written paths."""
    import envpool

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for task_id, (stem, seed, actions) in SHOTS.items():
        env = envpool.make(task_id, num_envs=1, seed=seed, height=height, width=width)
        obs, _ = env.reset()
        for a in actions:
            obs, *_ = env.step(np.array([a]))
        env.close()
        path = out / f"{stem}.png"
        write_png(path, np.ascontiguousarray(obs[0]))
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--width", type=int, default=320)
    args = parser.parse_args(argv)
    for path in render(args.out, args.height, args.width):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
