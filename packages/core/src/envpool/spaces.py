"""Gymnasium spaces built from the spec dict a C++ family reports."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gymnasium
import numpy as np

if TYPE_CHECKING:
    from collections.abc import Mapping


def _box(field: Mapping[str, Any]) -> gymnasium.spaces.Box:
    dtype = np.dtype(field["dtype"])
    shape = tuple(int(d) for d in field["shape"])

    def bound(values: list[float], fallback: float) -> Any:
        if not values:
            return np.full(shape, fallback, dtype=np.float64).astype(dtype)
        if len(values) == 1:
            return np.full(shape, values[0], dtype=np.float64).astype(dtype)
        return np.asarray(values, dtype=np.float64).reshape(shape).astype(dtype)

    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        low, high = bound(field["low"], info.min), bound(field["high"], info.max)
    else:
        low, high = bound(field["low"], -np.inf), bound(field["high"], np.inf)
    return gymnasium.spaces.Box(low=low, high=high, shape=shape, dtype=dtype)


def observation_space(raw: Mapping[str, Any]) -> gymnasium.Space[Any]:
    """A Box for a single ``obs`` field, else a Dict of Boxes."""
    fields = raw["obs"]
    if len(fields) == 1 and fields[0]["name"] == "obs":
        return _box(fields[0])
    return gymnasium.spaces.Dict({f["name"]: _box(f) for f in fields})


def action_space(raw: Mapping[str, Any]) -> gymnasium.Space[Any]:
    """Discrete(n) or a float32 Box."""
    action = raw["action"]
    if action["discrete"]:
        return gymnasium.spaces.Discrete(int(action["n"]))
    return _box(action["box"])
