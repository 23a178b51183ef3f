"""The public entry points: list the registered tasks, describe one, make a batched env."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from envpool.errors import UnknownEnvError
from envpool.families import FAMILIES
from envpool.tasks import TASKS, OptionValue, ParamValue, Task

if TYPE_CHECKING:
    from types import ModuleType

    import gymnasium

    from envpool.gymnasium_pool import GymnasiumEnvPool

_BY_ID: dict[str, Task] = {t.task_id: t for t in TASKS}
_UINT64 = 1 << 64

#: Upper bounds of ``num_envs`` and ``num_threads`` (docs/runtime.md, "Limits and faults"); the C++
#: pool checks the same numbers (kMaxNumEnvs, kMaxNumThreads in engine/pool.h).
MAX_NUM_ENVS = 1 << 20
MAX_NUM_THREADS = 1024


def list_all_envs() -> list[str]:
    """Every registered task id, including those whose family needs an extra not installed."""
    return [t.task_id for t in TASKS]


def _task(task_id: object) -> Task:
    if not isinstance(task_id, str):
        raise TypeError(f"task_id must be a str, got {type(task_id).__name__}")
    task = _BY_ID.get(task_id)
    if task is not None:
        return task
    ids = list(_BY_ID)
    close = difflib.get_close_matches(task_id, ids, n=5, cutoff=0.5)
    close += [i for i in ids if i.lower() == task_id.lower() and i not in close]
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise UnknownEnvError(f"unknown task id {task_id!r}.{hint} envpool.list_all_envs() lists all {len(ids)} tasks.")


def _positive_int(name: str, value: object, upper: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be >= 1, got {value}")
    if upper is not None and value > upper:
        raise ValueError(f"{name} must be <= {upper} (envpool's limit, see docs/runtime.md), got {value}")
    return value


def _seeds(seed: object, num_envs: int) -> list[int]:
    def check(s: object) -> int:
        if isinstance(s, bool) or not isinstance(s, int):
            # numpy integers are accepted through __index__
            index = getattr(s, "__index__", None)
            if index is None:
                raise TypeError(f"seed must be an int or a sequence of ints, got {type(s).__name__}")
            s = index()
        assert isinstance(s, int)
        if not 0 <= s < _UINT64:
            raise ValueError(f"seeds must be in [0, 2**64), got {s}")
        return s

    if isinstance(seed, Iterable) and hasattr(seed, "__len__"):
        seeds = [check(s) for s in seed]
        if len(seeds) != num_envs:
            raise ValueError(f"seed has {len(seeds)} values but num_envs={num_envs}: give one per env or one int")
        return seeds
    base = check(seed)
    return [(base + i) % _UINT64 for i in range(num_envs)]


def _options(task: Task, given: Mapping[str, Any]) -> dict[str, OptionValue]:
    options: dict[str, OptionValue] = dict(task.options)
    for key, value in given.items():
        if key not in task.options:
            allowed = ", ".join(sorted(task.options)) or "none"
            raise TypeError(
                f"{task.task_id} has no option {key!r}; options: {allowed}; common arguments: "
                "num_envs, batch_size, num_threads, seed"
            )
        default = task.options[key]
        if type(value) is not type(default) and not (isinstance(default, float) and type(value) is int):
            raise TypeError(f"option {key!r} of {task.task_id} must be {type(default).__name__}, got {value!r}")
        options[key] = value
    return options


@dataclass(frozen=True)
class EnvSpec:
    """What ``make`` would build: the task, its batch configuration and its spaces."""

    task_id: str
    family: str
    num_envs: int
    batch_size: int
    num_threads: int
    seeds: tuple[int, ...]
    options: Mapping[str, OptionValue]
    raw: Mapping[str, Any]  # the spec reported by the C++ family
    native_options: Mapping[str, ParamValue]  # what the C++ family receives (see native_options())

    @property
    def max_episode_steps(self) -> int:
        """Steps after which an episode is truncated."""
        return int(self.raw["max_episode_steps"])

    @property
    def observation_space(self) -> gymnasium.Space[Any]:
        """The observation space of one env."""
        from envpool.spaces import observation_space

        return observation_space(self.raw)

    @property
    def action_space(self) -> gymnasium.Space[Any]:
        """The action space of one env."""
        from envpool.spaces import action_space

        return action_space(self.raw)

    @property
    def config(self) -> dict[str, Any]:
        """The configuration as a flat dict, in envpool's style."""
        return {
            "task_id": self.task_id,
            "num_envs": self.num_envs,
            "batch_size": self.batch_size,
            "num_threads": self.num_threads,
            "seed": list(self.seeds),
            "max_episode_steps": self.max_episode_steps,
            **self.options,
        }


def _native_options(
    task: Task, options: Mapping[str, OptionValue], root: str | os.PathLike[str] | None
) -> dict[str, ParamValue]:
    """The parameters passed to C++: the task's own (envpool/tasks.py), the user's options, ``asset_root``."""
    native = task.native(options)
    if task.assets:
        assert root is not None  # a family whose tasks read assets resolves with them
        native["asset_root"] = str(root)
    return native


def native_options(
    task_id: str, options: Mapping[str, Any] | None = None, asset_root: str | os.PathLike[str] | None = None
) -> dict[str, ParamValue]:
    """The config a family's extension module takes for ``task_id`` (its ``spec`` and ``Pool``).

    That is the task's fixed parameters and asset paths from envpool/tasks.py, ``options`` checked
    against the task's and completed with their defaults, and, for a family with assets,
    ``asset_root``: by default the installed asset package's root.
    """
    task = _task(task_id)
    if task.assets and asset_root is None:
        from envpool.resolution import asset_root as installed_root

        asset_root = installed_root(task.family)
    return _native_options(task, _options(task, options or {}), asset_root)


def make_spec(
    task_id: str,
    num_envs: int = 1,
    batch_size: int | None = None,
    num_threads: int | None = None,
    seed: int | Sequence[int] = 42,
    **options: Any,
) -> EnvSpec:
    """Validate a configuration and describe the env ``make`` would build from it."""
    return _spec_and_module(
        task_id, num_envs=num_envs, batch_size=batch_size, num_threads=num_threads, seed=seed, options=options
    )[0]


def _spec_and_module(
    task_id: str,
    *,
    num_envs: int,
    batch_size: int | None,
    num_threads: int | None,
    seed: int | Sequence[int],
    options: Mapping[str, Any],
) -> tuple[EnvSpec, ModuleType]:
    """The spec of ``make_spec`` and the family's extension module; the family is resolved once."""
    task = _task(task_id)
    num_envs = _positive_int("num_envs", num_envs, MAX_NUM_ENVS)
    batch_size = num_envs if batch_size is None else _positive_int("batch_size", batch_size)
    if batch_size > num_envs:
        raise ValueError(f"batch_size ({batch_size}) must not exceed num_envs ({num_envs})")
    if num_threads is None:
        num_threads = max(1, min(num_envs, os.cpu_count() or 1))
    num_threads = _positive_int("num_threads", num_threads, MAX_NUM_THREADS)
    seeds = _seeds(seed, num_envs)
    opts = _options(task, options)
    from envpool import resolution  # on first use only: ``import envpool`` stays light

    resolved = resolution.resolve(task.family, check_files=bool(task.assets))
    module = resolution.load(resolved)
    native_opts = _native_options(task, opts, resolved.assets.root if resolved.assets is not None else None)
    raw = module.spec(task.task_id, native_opts)
    spec = EnvSpec(task.task_id, task.family, num_envs, batch_size, num_threads, tuple(seeds), opts, raw, native_opts)
    return spec, module


def make_gymnasium(
    task_id: str,
    num_envs: int = 1,
    batch_size: int | None = None,
    num_threads: int | None = None,
    seed: int | Sequence[int] = 42,
    **options: Any,
) -> GymnasiumEnvPool:
    """Make a batched env with gymnasium's spaces and ``(obs, reward, terminated, truncated, info)``."""
    spec, module = _spec_and_module(
        task_id, num_envs=num_envs, batch_size=batch_size, num_threads=num_threads, seed=seed, options=options
    )
    from envpool.gymnasium_pool import GymnasiumEnvPool

    return GymnasiumEnvPool(spec, module)


def make(task_id: str, env_type: str = "gymnasium", **kwargs: Any) -> GymnasiumEnvPool:
    """Make a batched env: ``envpool.make("CartPole-v1", num_envs=8)``.

    Arguments: ``num_envs``, ``batch_size`` (< num_envs for asynchronous use), ``num_threads``,
    ``seed`` (an int, env i gets seed + i, or one int per env), and the task's own options.
    """
    if env_type != "gymnasium":
        raise ValueError(f"env_type {env_type!r} is not supported; use env_type='gymnasium'")
    return make_gymnasium(task_id, **kwargs)


def family_of(task_id: str) -> str:
    """The family name of a registered task id."""
    return _task(task_id).family


__all__ = [
    "FAMILIES",
    "MAX_NUM_ENVS",
    "MAX_NUM_THREADS",
    "EnvSpec",
    "family_of",
    "list_all_envs",
    "make",
    "make_gymnasium",
    "make_spec",
    "native_options",
]
