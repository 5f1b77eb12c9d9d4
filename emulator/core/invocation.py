"""An invocation as it reaches an environment, and the outcome it ends with.

Lambda answers every failure the caller can see (a handler error, a timeout, a
runtime that exits, a failed init) with ``X-Amz-Function-Error: Unhandled`` and
an error object ``{"errorType", "errorMessage"}`` ("Invoke", Lambda API reference:
https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html).
"""

from __future__ import annotations

import enum
import json
import os
import uuid
from dataclasses import dataclass

__all__ = ["Ids", "Invocation", "Outcome", "OutcomeKind", "platform_error"]


class OutcomeKind(enum.Enum):
    RESPONSE = "response"  # the runtime posted a response
    ERROR = "error"  # the runtime posted an invocation error
    TIMEOUT = "timeout"  # the function's timeout (or init's) ran out
    EXIT = "exit"  # the runtime exited, or could not start
    OUT_OF_MEMORY = "out_of_memory"  # killed for using more than its memory size
    INIT_ERROR = "init_error"  # the runtime posted an init error
    TOO_LARGE = "too_large"  # the response was over the limit
    TRUNCATED = "truncated"  # a streamed response's connection ended before its end
    SHUTDOWN = "shutdown"  # the emulator stopped while it ran


@dataclass(frozen=True)
class Outcome:
    """How an invocation ended, as the caller sees it."""

    kind: OutcomeKind
    body: bytes
    content_type: str = "application/json"
    # The errorType of a failure the platform made (timeout, exit...), for REPORT.
    error_type: str | None = None

    @property
    def failed(self) -> bool:
        return self.kind is not OutcomeKind.RESPONSE

    @property
    def function_error(self) -> str | None:
        """``X-Amz-Function-Error``: every failure is "Unhandled" today."""
        return "Unhandled" if self.failed else None


def platform_error(kind: OutcomeKind, error_type: str, message: str) -> Outcome:
    """A failure of the platform's making, in the shape Lambda gives the caller."""
    body = json.dumps({"errorType": error_type, "errorMessage": message}).encode()
    return Outcome(kind, body, error_type=error_type)


@dataclass(frozen=True, eq=False)
class Invocation:
    """One event on its way to a runtime; what the Runtime API hands out with it."""

    request_id: str
    payload: bytes
    trace_id: str
    invocation_id: str
    function_arn: str = ""  # as invoked, qualifier included; empty: the function's own
    client_context: str | None = None  # JSON text, already decoded from base64
    tenant_id: str | None = None
    tail: bool = False  # the caller asked for the log tail


class Ids:
    """Where request ids and X-Ray trace ids come from (a test passes its own)."""

    def request_id(self) -> str:
        return str(uuid.uuid4())

    def trace_id(self, epoch_s: float) -> str:
        """``Root=1-{epoch hex}-{96 random bits};Parent=...;Sampled=1``, as X-Ray shapes it."""
        root = f"1-{int(epoch_s):08x}-{os.urandom(12).hex()}"
        return f"Root={root};Parent={os.urandom(8).hex()};Sampled=1"
