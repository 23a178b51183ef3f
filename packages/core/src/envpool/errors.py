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
