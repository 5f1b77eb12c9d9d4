"""The failures of the platform's making, as Lambda words them for the caller: one home
for each errorType and message.

Shapes and words as Lambda's invoke answers and logs show them ("Invoke", Lambda
API reference; "Troubleshoot invocation issues in Lambda"):
``{"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: … Error: Task
timed out after 3.00 seconds"}``, ``Runtime.ExitError`` with Go's wording of an
exit status, ``Runtime.OutOfMemory``, ``Function.ResponseSizeTooLarge``.
"""

from __future__ import annotations

from emulator.core.invocation import Outcome, OutcomeKind, platform_error

__all__ = [
    "entrypoint",
    "environment_gone",
    "exit_message",
    "exited",
    "init_timed_out",
    "no_response",
    "out_of_memory",
    "shutting_down",
    "timed_out",
    "timeout_line",
    "too_large",
    "truncated",
]

_EXIT = "Runtime.ExitError"
_TIMEOUT = "Sandbox.Timedout"


def exit_message(request_id: str, reason: str) -> str:
    """``reason`` as Go's os/exec words it: "exit status 1", "signal: killed"."""
    return f"RequestId: {request_id} Error: Runtime exited with error: {reason}"


def exited(request_id: str, reason: str) -> Outcome:
    return platform_error(OutcomeKind.EXIT, _EXIT, exit_message(request_id, reason))


def out_of_memory(request_id: str) -> Outcome:
    message = exit_message(request_id, "signal: killed")
    return platform_error(OutcomeKind.OUT_OF_MEMORY, "Runtime.OutOfMemory", message)


def entrypoint(request_id: str, reason: str) -> Outcome:
    message = f"RequestId: {request_id} Error: Couldn't start the runtime: {reason}"
    return platform_error(OutcomeKind.EXIT, "Runtime.InvalidEntrypoint", message)


def environment_gone(request_id: str) -> Outcome:
    message = f"RequestId: {request_id} Error: the environment is gone"
    return platform_error(OutcomeKind.EXIT, _EXIT, message)


def timed_out(request_id: str, timeout_s: float) -> Outcome:
    message = f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds"
    return platform_error(OutcomeKind.TIMEOUT, _TIMEOUT, message)


def timeout_line(request_id: str, timeout_s: float, epoch_s: float) -> str:
    """The line Lambda writes to the function's log at a timeout, before END."""
    return f"{_timestamp(epoch_s)} {request_id} Task timed out after {timeout_s:.2f} seconds"


def init_timed_out(limit_s: float) -> Outcome:
    message = f"Init phase did not end within {limit_s:.0f} seconds"
    return platform_error(OutcomeKind.TIMEOUT, _TIMEOUT, message)


def too_large(size: int | None, limit: int) -> Outcome:
    """A response over the limit; ``size`` when it was declared."""
    shown = f"{size} bytes" if size is not None else f"over {limit} bytes"
    message = (
        f"Response payload size ({shown}) exceeded maximum allowed payload size ({limit} bytes)."
    )
    return platform_error(OutcomeKind.TOO_LARGE, "Function.ResponseSizeTooLarge", message)


def truncated(request_id: str) -> Outcome:
    """A streamed response whose connection ended before its last chunk."""
    message = (
        f"RequestId: {request_id} Error: the runtime's connection closed before the end "
        "of its streamed response"
    )
    return platform_error(OutcomeKind.TRUNCATED, "Runtime.TruncatedResponse", message)


def no_response() -> Outcome:
    message = "The runtime asked for the next invocation before answering this one"
    return platform_error(OutcomeKind.ERROR, "Runtime.NoResponse", message)


def shutting_down(request_id: str) -> Outcome:
    """The outcome of an invocation the emulator's own shutdown ended."""
    message = f"RequestId: {request_id} Error: the emulator is shutting down"
    return platform_error(OutcomeKind.SHUTDOWN, "Emulator.ShuttingDown", message)


def _timestamp(epoch_s: float) -> str:
    """``2026-11-22T15:23:18.438Z``, as Lambda stamps its timeout line."""
    import time

    millis = int(epoch_s * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_s)) + f".{millis:03d}Z"
