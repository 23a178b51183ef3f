"""Bad input gives a Python exception with a clear message: never a crash or a hang."""

from __future__ import annotations

import numpy as np
import pytest

import envpool


def test_unknown_id_lists_close_matches() -> None:
    with pytest.raises(envpool.UnknownEnvError, match=r"unknown task id 'CartPol-v1'.*Did you mean: CartPole-v1"):
        envpool.make("CartPol-v1")
    with pytest.raises(KeyError):  # UnknownEnvError is also a KeyError, as envpool users may expect
        envpool.make("cartpole-v1")


def test_unknown_id_without_match_points_to_list() -> None:
    with pytest.raises(envpool.UnknownEnvError, match=r"list_all_envs\(\)"):
        envpool.make("Zzzzzz")


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"num_envs": 0}, ValueError, "num_envs must be >= 1"),
        ({"num_envs": -3}, ValueError, "num_envs must be >= 1"),
        ({"num_envs": 2.0}, TypeError, "num_envs must be an int"),
        ({"num_envs": 2, "batch_size": 3}, ValueError, r"batch_size \(3\) must not exceed num_envs \(2\)"),
        ({"num_envs": 2, "batch_size": 0}, ValueError, "batch_size must be >= 1"),
        ({"num_threads": 0}, ValueError, "num_threads must be >= 1"),
        ({"num_envs": 3, "seed": [1, 2]}, ValueError, "seed has 2 values but num_envs=3"),
        ({"seed": -1}, ValueError, r"seeds must be in \[0, 2\*\*64\)"),
        ({"seed": 1.5}, TypeError, "seed must be an int"),
        ({"frameskip": 4}, TypeError, "CartPole-v1 has no option 'frameskip'"),
        ({"env_type": "gym"}, ValueError, "env_type 'gym' is not supported"),
    ],
)
def test_bad_configuration(kwargs: dict[str, object], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        envpool.make("CartPole-v1", **kwargs)  # type: ignore[arg-type]


def test_wrong_action_shape_and_dtype() -> None:
    env = envpool.make("CartPole-v1", num_envs=4)
    env.reset()
    with pytest.raises(ValueError, match=r"expected actions of shape \(4,\) for 4 envs, got shape \(3,\)"):
        env.step(np.zeros(3, dtype=np.int64))
    with pytest.raises(TypeError, match="must be integers, got dtype float64"):
        env.step(np.zeros(4))
    with pytest.raises(ValueError, match=r"action 2 for env 1 is outside Discrete\(2\)"):
        env.step(np.array([0, 2, 0, 0]))
    with pytest.raises(ValueError, match="outside Discrete"):
        env.step(np.array([0, -1, 0, 0]))
    # The pool is unchanged by rejected calls.
    obs, *_ = env.step(np.zeros(4, dtype=np.int64))
    assert obs.shape == (4, 4)

    box = envpool.make("Pendulum-v1", num_envs=2)
    box.reset()
    with pytest.raises(ValueError, match=r"expected actions of shape \(2, 1\) for 2 envs, got shape \(2,\)"):
        box.step(np.zeros(2, dtype=np.float32))
    with pytest.raises(TypeError, match="must be numbers"):
        box.step(np.array([["a"], ["b"]]))


def test_recv_before_send_is_an_error_not_a_hang() -> None:
    env = envpool.make("CartPole-v1", num_envs=4, batch_size=2)
    with pytest.raises(RuntimeError, match=r"recv\(\) needs 2 results but only 0 envs were sent"):
        env.recv()
    env.async_reset()
    env.recv()
    env.recv()
    with pytest.raises(RuntimeError, match="call send"):
        env.recv()


def test_send_needs_env_id_in_async_mode_and_valid_ids() -> None:
    env = envpool.make("CartPole-v1", num_envs=4, batch_size=2)
    env.async_reset()
    _, _, _, _, info = env.recv()
    with pytest.raises(ValueError, match=r"env_id is required when batch_size < num_envs"):
        env.send(np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match=r"env_id values must be in \[0, 4\)"):
        env.send(np.zeros(2, dtype=np.int64), np.array([0, 9]))
    still_running = [i for i in range(4) if i not in info["env_id"].tolist()]
    with pytest.raises(RuntimeError, match="is still running"):
        env.send(np.zeros(1, dtype=np.int64), np.array(still_running[:1]))
    with pytest.raises(ValueError, match="is given twice"):
        env.send(np.zeros(2, dtype=np.int64), np.array([info["env_id"][0]] * 2))


def test_set_state_rejects_wrong_length() -> None:
    env = envpool.make("CartPole-v1", num_envs=1)
    env.reset()
    with pytest.raises(ValueError, match="CartPole state has 4 values, got 2"):
        env.set_state(0, [0.0, 0.0])
