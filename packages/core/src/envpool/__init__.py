"""envpool: batched C++ reinforcement-learning environments.

``import envpool`` loads no env family, no NumPy and no gymnasium; a family's extension module is
imported by the first ``make`` of one of its tasks.
"""

from __future__ import annotations

from envpool._version import __version__
from envpool.errors import (
    BrokenInstallError,
    EnvpoolError,
    EnvStepError,
    MissingExtraError,
    UnknownEnvError,
    VersionSkewError,
)
from envpool.registration import EnvSpec, list_all_envs, make, make_gymnasium, make_spec

__all__ = [
    "BrokenInstallError",
    "EnvSpec",
    "EnvStepError",
    "EnvpoolError",
    "MissingExtraError",
    "UnknownEnvError",
    "VersionSkewError",
    "__version__",
    "list_all_envs",
    "make",
    "make_gymnasium",
    "make_spec",
]
