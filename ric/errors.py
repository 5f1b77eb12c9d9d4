"""The exception tree of the runtime interface client.

Every error knows the Lambda ``errorType`` it is reported under, so the code
that posts it to the Runtime API never has to map classes to strings::

    RicError                        errorType, message
    ├── ConfigError                 bad command line or environment (never posted)
    ├── InitError                   posted to /runtime/init/error, then exit
    │   ├── MalformedHandlerName    Runtime.MalformedHandlerName
    │   ├── ImportModuleError       Runtime.ImportModuleError
    │   ├── UserCodeSyntaxError     Runtime.UserCodeSyntaxError
    │   ├── HandlerNotFound         Runtime.HandlerNotFound
    │   ├── BuiltInModuleConflict   Runtime.BuiltInModuleConflict
    │   └── UserInitError           the class name of what the user's module raised
    ├── HookError                   a SnapStart runtime hook raised; the body names its exception
    │   ├── BeforeSnapshotError     Runtime.BeforeSnapshotError, posted to /runtime/init/error
    │   └── AfterRestoreError       Runtime.AfterRestoreError, posted to /runtime/restore/error
    ├── InvocationError             posted to /runtime/invocation/{id}/error
    │   ├── UnmarshalError          Runtime.UnmarshalError
    │   ├── MarshalError            Runtime.MarshalError
    │   └── ContextUnmarshalError   Runtime.LambdaContextUnmarshalError
    └── RuntimeApiError             the Runtime API could not be used
        ├── TransportError          connection refused, reset or closed
        │   ├── StaleConnection     the peer had closed an idle connection: safe to resend
        │   └── MalformedResponse   bytes that are not an HTTP/1.1 response
        └── UnexpectedStatus        an answer with a status we cannot act on
"""

from __future__ import annotations

__all__ = [
    "AfterRestoreError",
    "BeforeSnapshotError",
    "BuiltInModuleConflict",
    "ConfigError",
    "ContextUnmarshalError",
    "HandlerNotFound",
    "HookError",
    "ImportModuleError",
    "InitError",
    "InvocationError",
    "MalformedHandlerName",
    "MalformedResponse",
    "MarshalError",
    "RicError",
    "RuntimeApiError",
    "StaleConnection",
    "TransportError",
    "UnexpectedStatus",
    "UnmarshalError",
    "UserCodeSyntaxError",
    "UserInitError",
    "describe",
]

# What Python itself prints for an exception whose __str__ raises.
STR_FAILED = "<exception str() failed>"


def describe(exc: BaseException) -> str:
    """``str(exc)``, or ``<exception str() failed>`` when its ``__str__`` raises.

    The user's exception is reported, never raised again from the report.
    """
    try:
        return str(exc)
    except Exception:
        return STR_FAILED


class RicError(Exception):
    """Base of every error this package raises; carries its Lambda errorType."""

    error_type = "Runtime.Unknown"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(RicError):
    """The command line or the environment cannot start a runtime."""

    error_type = "Runtime.ConfigError"


class InitError(RicError):
    """The handler could not be loaded; reported once to /runtime/init/error.

    ``user_exception`` is what the user's code raised, when it raised anything.
    """

    user_exception: BaseException | None = None


class MalformedHandlerName(InitError):
    error_type = "Runtime.MalformedHandlerName"


class ImportModuleError(InitError):
    error_type = "Runtime.ImportModuleError"


class UserCodeSyntaxError(InitError):
    error_type = "Runtime.UserCodeSyntaxError"


class HandlerNotFound(InitError):
    error_type = "Runtime.HandlerNotFound"


class BuiltInModuleConflict(InitError):
    error_type = "Runtime.BuiltInModuleConflict"


class UserInitError(InitError):
    """Any other exception raised while importing the user's module.

    Lambda reports it under the exception's own class name.
    """

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class HookError(RicError):
    """A SnapStart runtime hook raised ``user_exception``.

    ``error_type`` goes in the Lambda-Runtime-Function-Error-Type header only;
    the report's body names the hook's own exception, as awslambdaric's does.
    ``exit_code`` is awslambdaric's status for the failure (its bootstrap.py).
    """

    exit_code = 1

    def __init__(self, user_exception: Exception) -> None:
        super().__init__(describe(user_exception))
        self.user_exception = user_exception


class BeforeSnapshotError(HookError):
    error_type = "Runtime.BeforeSnapshotError"
    exit_code = 64


class AfterRestoreError(HookError):
    error_type = "Runtime.AfterRestoreError"
    exit_code = 65


class InvocationError(RicError):
    """One invocation failed outside the handler's own code."""


class UnmarshalError(InvocationError):
    error_type = "Runtime.UnmarshalError"


class MarshalError(InvocationError):
    error_type = "Runtime.MarshalError"


class ContextUnmarshalError(InvocationError):
    error_type = "Runtime.LambdaContextUnmarshalError"


class RuntimeApiError(RicError):
    """The Runtime API could not be reached or answered in a way we cannot use."""


class TransportError(RuntimeApiError):
    error_type = "Runtime.TransportError"


class StaleConnection(TransportError):
    """The peer closed a connection it had served before reading what was sent on it.

    Nothing sent since the last answer was processed, so it may be sent again,
    once, on a new connection (RFC 9112 section 9.3.1).
    """


class MalformedResponse(TransportError):
    """The peer sent bytes that do not frame an HTTP/1.1 response."""


class UnexpectedStatus(RuntimeApiError):
    """An answer whose status code the caller has no rule for."""

    error_type = "Runtime.UnexpectedStatus"

    def __init__(self, message: str, status: int, body: bytes) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
