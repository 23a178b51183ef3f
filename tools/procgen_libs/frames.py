"""Save sample frames of the procgen games as PNG: ``python -m tools.procgen_libs.frames --out docs/img``.

Run it with a python that has ``envpool[procgen]`` installed (from the wheelhouse). For each game it
writes one image: the first frame of four levels (easy, easy, hard, hard) and, below, the same
levels after 12 random steps, each 64x64 frame scaled 4x (nearest neighbour).
"""

from __future__ import annotations

import argparse
import struct
import zlib
from pathlib import Path

import numpy as np

GAMES = {"QtMaze-v0": "procgen-qtmaze.png", "QtDodge-v0": "procgen-qtdodge.png"}
SCALE = 4


def write_png(path: Path, rgb: np.ndarray) -> None:
    """Write an (h, w, 3) uint8 array as an 8-bit RGB PNG (no dependency beyond zlib)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    path.write_bytes(png)


def sheet(task_id: str) -> np.ndarray:
    """Two rows of four frames (levels 1..4 at reset, then after 12 random steps), scaled up."""
    import envpool

    tiles: list[list[np.ndarray]] = [[], []]
    for i, mode in enumerate(("easy", "easy", "hard", "hard")):
        env = envpool.make(task_id, num_envs=1, seed=0, num_levels=1, start_level=i + 1, distribution_mode=mode)
        obs, _ = env.reset()
        tiles[0].append(obs[0])
        rng = np.random.default_rng(i)
        for _ in range(12):
            obs, *_ = env.step(rng.integers(0, 9, size=1))
        tiles[1].append(obs[0])
        env.close()
    grid = np.concatenate([np.concatenate(row, axis=1) for row in tiles], axis=0)
    return np.repeat(np.repeat(grid, SCALE, axis=0), SCALE, axis=1)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for task_id, name in GAMES.items():
        write_png(args.out / name, sheet(task_id))
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
