"""The batched env object ``envpool.make`` returns, with gymnasium's spaces and step tuples."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gymnasium
import numpy as np

from envpool.errors import EnvStepError

if TYPE_CHECKING:
    from types import ModuleType

    from envpool.registration import EnvSpec


class GymnasiumEnvPool:
    """``num_envs`` environments stepped in C++ threads.

    Synchronous: ``reset()`` then ``step(actions)`` with one action per env, results in env order.
    Asynchronous (``batch_size < num_envs``): ``async_reset()``, then ``recv()`` returns the first
    ``batch_size`` envs to finish (their ids in ``info["env_id"]``) and ``send(actions, env_id)``
    starts them again. An env whose episode ended is reset by its next step.
    """

    def __init__(self, spec: EnvSpec, module: ModuleType) -> None:
        self.spec = spec
        self.num_envs = spec.num_envs
        self.batch_size = spec.batch_size
        self.observation_space: gymnasium.Space[Any] = spec.observation_space
        self.action_space: gymnasium.Space[Any] = spec.action_space
        self._pool = module.Pool(
            spec.task_id, dict(spec.native_options), spec.num_envs, spec.batch_size, spec.num_threads, list(spec.seeds)
        )
        self._all_ids = np.arange(spec.num_envs, dtype=np.int32)
        self._discrete = isinstance(self.action_space, gymnasium.spaces.Discrete)
        self._box_shape: tuple[int, ...] = () if self._discrete else tuple(self.action_space.shape or ())
        self._box_size = int(np.prod(self._box_shape)) if not self._discrete else 0
        fields = spec.raw["obs"]
        self._dict_keys: list[str] | None = (
            None if len(fields) == 1 and fields[0]["name"] == "obs" else [f["name"] for f in fields]
        )
        self._closed = False

    @property
    def config(self) -> dict[str, Any]:
        """The configuration, in envpool's style."""
        return self.spec.config

    # ---- conversions -------------------------------------------------------------------
    def _ids(self, env_id: Any) -> np.ndarray:
        if env_id is None:
            if self.batch_size != self.num_envs:
                raise ValueError("env_id is required when batch_size < num_envs: pass info['env_id'] from recv()")
            return self._all_ids
        ids = np.asarray(env_id)
        if ids.ndim == 0:
            ids = ids.reshape(1)
        if ids.ndim != 1 or ids.dtype.kind not in "iu":
            raise TypeError(f"env_id must be a 1-D array of ints, got dtype {ids.dtype} and shape {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.num_envs):
            raise ValueError(f"env_id values must be in [0, {self.num_envs}), got {ids.tolist()}")
        return np.ascontiguousarray(ids, dtype=np.int32)

    def _actions(self, action: Any, n: int) -> np.ndarray:
        a = np.asarray(action)
        if self._discrete:
            if a.dtype.kind not in "iu":
                raise TypeError(f"actions for {self.action_space} must be integers, got dtype {a.dtype}")
            if a.shape != (n,):
                raise ValueError(f"expected actions of shape ({n},) for {n} envs, got shape {a.shape}")
            return np.ascontiguousarray(a, dtype=np.int64)
        if a.dtype.kind not in "iuf":
            raise TypeError(f"actions for {self.action_space} must be numbers, got dtype {a.dtype}")
        if a.shape != (n, *self._box_shape):
            raise ValueError(f"expected actions of shape {(n, *self._box_shape)} for {n} envs, got shape {a.shape}")
        return np.ascontiguousarray(a, dtype=np.float32).reshape(n, self._box_size)

    def _obs(self, fields: list[np.ndarray]) -> Any:
        if self._dict_keys is None:
            return fields[0]
        return dict(zip(self._dict_keys, fields, strict=False))

    def _step_result(self, raw: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        obs, reward, terminated, truncated, ids, elapsed, extra = raw
        return self._obs(obs), reward, terminated, truncated, {"env_id": ids, "elapsed_step": elapsed, **extra}

    def _call(self, method: str, *args: Any) -> Any:
        """Call the C++ pool; an EnvStepError's ``result`` becomes a step tuple like ours."""
        try:
            return getattr(self._pool, method)(*args)
        except EnvStepError as exc:
            if isinstance(exc.result, tuple) and len(exc.result) == 7:
                exc.result = self._step_result(exc.result)
                if method == "reset":
                    exc.result = (exc.result[0], exc.result[4])
            raise

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("this env pool is closed")

    # ---- gymnasium API -----------------------------------------------------------------
    def reset(self, env_id: Any = None) -> tuple[Any, dict[str, Any]]:
        """Reset the given envs (all by default) and return ``(obs, info)`` for one batch."""
        self._check_open()
        obs, _, _, _, ids, elapsed, extra = self._call("reset", self._ids(env_id))
        return self._obs(obs), {"env_id": ids, "elapsed_step": elapsed, **extra}

    def step(self, action: Any, env_id: Any = None) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Send one action per env in ``env_id`` (all by default) and receive one batch."""
        self._check_open()
        ids = self._ids(env_id)
        return self._step_result(self._call("step", ids, self._actions(action, len(ids))))

    def async_reset(self) -> None:
        """Start resetting every env; collect the results with ``recv()``."""
        self._check_open()
        self._pool.send_reset(self._all_ids)

    def send(self, action: Any, env_id: Any = None) -> None:
        """Start one step of each env in ``env_id`` without waiting for it."""
        self._check_open()
        ids = self._ids(env_id)
        self._pool.send(ids, self._actions(action, len(ids)))

    def recv(self) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """Wait for the first ``batch_size`` envs to finish and return their results."""
        self._check_open()
        return self._step_result(self._call("recv"))

    def set_state(self, env_id: int, state: Any) -> None:
        """Overwrite one env's physical state (for parity tests; not every family supports it)."""
        self._check_open()
        self._pool.set_state(int(env_id), [float(x) for x in np.ravel(state)])

    def close(self) -> None:
        """Stop the worker threads (a call blocked in another thread then raises). Further calls raise."""
        if not self._closed:
            self._closed = True
            self._pool.close()

    def __len__(self) -> int:
        return self.num_envs

    def __enter__(self) -> GymnasiumEnvPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"GymnasiumEnvPool({self.spec.task_id!r}, num_envs={self.num_envs}, "
            f"batch_size={self.batch_size}, num_threads={self.spec.num_threads})"
        )
