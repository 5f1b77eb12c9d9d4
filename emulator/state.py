"""Invocation records and their state machine, without I/O.

An invocation is queued, then running in one environment, then done with one
:class:`Outcome`; the first outcome wins. The Runtime API's answers to a
runtime's posts follow from that state ("Using the Lambda runtime API",
https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).
"""

from __future__ import annotations

import enum
import time
import uuid
from dataclasses import dataclass, field

from emulator.errors import ApiError

__all__ = ["Held", "Invocation", "Outcome", "Phase", "check_post", "new_trace_id"]


class Phase(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


@dataclass(frozen=True)
class Outcome:
    """How an invocation ended, as the caller sees it."""

    kind: str  # response, error, timeout, exit, init_error, too_large
    body: bytes
    content_type: str = "application/json"
    function_error: str | None = None  # "Unhandled" for every function error

    @property
    def failed(self) -> bool:
        return self.function_error is not None


def new_trace_id() -> str:
    """An X-Ray trace header: ``Root=1-{epoch hex}-{96 random bits}``, sampled."""
    root = f"1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]}"
    return f"Root={root};Parent={uuid.uuid4().hex[:16]};Sampled=1"


@dataclass(eq=False)
class Invocation:
    """One event on its way through an environment."""

    payload: bytes
    client_context: str | None = None  # JSON text, already decoded from base64
    tenant_id: str | None = None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invocation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    trace_id: str = field(default_factory=new_trace_id)
    function_arn: str = ""  # as invoked, qualifier included; empty: the function's own
    phase: Phase = Phase.QUEUED
    outcome: Outcome | None = None
    started_ns: int = 0
    ended_ns: int = 0
    deadline_ms: int = 0
    log_from: int = 0  # where its lines start in its environment's log

    def start(self, timeout_s: float) -> None:
        """Handed to a runtime: the clock and the deadline start now."""
        self.phase = Phase.RUNNING
        self.started_ns = time.monotonic_ns()
        self.deadline_ms = int(time.time() * 1000 + timeout_s * 1000)

    def finish(self, outcome: Outcome) -> bool:
        """Record the outcome; False if the invocation had already ended."""
        if self.phase is Phase.DONE:
            return False
        self.phase = Phase.DONE
        self.outcome = outcome
        self.ended_ns = time.monotonic_ns()
        return True

    @property
    def duration_ms(self) -> float:
        if not self.started_ns:
            return 0.0
        end = self.ended_ns or time.monotonic_ns()
        return (end - self.started_ns) / 1e6


def check_post(invocation: Invocation | None, request_id: str) -> Invocation:
    """The invocation a runtime may post a result for, or the Runtime API's refusal."""
    if invocation is None or invocation.request_id != request_id:
        raise ApiError(400, "InvalidRequestID", f"Invalid request ID: {request_id!r}")
    if invocation.phase is Phase.DONE:
        assert invocation.outcome is not None
        if invocation.outcome.kind == "timeout":
            raise ApiError(410, "InvocationTimedOut", "Invocation has already timed out")
        raise ApiError(403, "InvalidStateTransition", "State transition is not allowed")
    return invocation


class Held:
    """The invocations one environment holds, and the rules between them; no I/O.

    ``running``: handed to the runtime, not answered. ``owed``: answered, but
    the runtime has not asked for the next event yet, so their slots are not
    free. ``ended``: ended lately, so that a late post gets 403 or 410, not 400.
    """

    ENDED_KEPT = 64

    def __init__(self) -> None:
        self.running: dict[str, Invocation] = {}
        self.owed: list[Invocation] = []
        self.ended: dict[str, Invocation] = {}

    def start(self, invocation: Invocation, timeout_s: float) -> None:
        invocation.start(timeout_s)
        self.running[invocation.request_id] = invocation

    def posted(self, request_id: str) -> Invocation:
        """The running invocation a post is for, or the Runtime API's refusal."""
        known = self.running.get(request_id) or self.ended.get(request_id)
        return check_post(known, request_id)

    def record(self, invocation: Invocation, outcome: Outcome) -> bool:
        """The first outcome wins; False if the invocation had already ended."""
        if not invocation.finish(outcome):
            return False
        request_id = invocation.request_id
        if self.running.pop(request_id, None) is not None:
            self.ended[request_id] = invocation
            while len(self.ended) > self.ENDED_KEPT:
                del self.ended[next(iter(self.ended))]
        return True

    def answered(self, invocation: Invocation, outcome: Outcome) -> None:
        """A post ended it; its slot comes back when the runtime asks for more."""
        self.record(invocation, outcome)
        self.owed.append(invocation)

    def returned(self) -> Invocation | None:
        """The runtime asked for the next event: the oldest answered slot is free."""
        return self.owed.pop(0) if self.owed else None

    def release_owed(self) -> list[Invocation]:
        owed, self.owed = self.owed, []
        return owed
