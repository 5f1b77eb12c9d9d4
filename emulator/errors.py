"""The emulator's exception tree (drawn in the package docstring).

Each :class:`ApiError` knows the status and the ``errorType`` of the answer it
becomes, in the shape Lambda's APIs use.
"""

from __future__ import annotations

__all__ = ["ApiError", "ConfigError", "EmulatorError"]


class EmulatorError(Exception):
    """Base of every error the emulator raises."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(EmulatorError):
    """The command line, the environment or a config file cannot start the emulator."""


class ApiError(EmulatorError):
    """An error answer: ``status``, ``error_type`` (``X-Amzn-ErrorType``) and message."""

    def __init__(
        self, status: int, error_type: str, message: str, reason: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.reason = reason  # a 429's Reason: whose concurrency limit it is
