"""Exceptions raised by envpool, each naming what went wrong and how to fix it."""

from __future__ import annotations


class EnvpoolError(Exception):
    """Base class of envpool's own errors."""


class UnknownEnvError(EnvpoolError, KeyError):
    """The task id is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MissingExtraError(EnvpoolError, ImportError):
    """A task's family needs an optional extra that is not installed."""


class VersionSkewError(EnvpoolError, ImportError):
    """A sibling distribution is installed at a version other than this envpool's."""


class BrokenInstallError(EnvpoolError, ImportError):
    """A family's files are present but unusable (missing, truncated or changed)."""


class EnvStepError(EnvpoolError, RuntimeError):
    """An env's reset or step failed inside C++ (e.g. a MuJoCo simulation became unstable).

    ``env_ids`` lists the failed envs. Every other env of the batch was stepped normally and its
    result is in ``result``, as ``step()`` (or ``reset()``) would have returned it; a failed env's
    slot holds zeros with ``truncated=True``, and the env starts a new episode at its next step.
    The pool stays usable.
    """

    def __init__(self, message: str, env_ids: list[int] | None = None, result: object = None) -> None:
        super().__init__(message)
        self.env_ids: list[int] = list(env_ids or [])
        self.result: object = result
