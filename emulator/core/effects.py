"""What :class:`~emulator.core.lifecycle.Lifecycle` asks its driver to do, and its
answer to a runtime's post: plain values, carried out in order.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from emulator.core.events import InitReport, InvokeEnded, InvokeStarted, LogLine
from emulator.core.invocation import Invocation, Outcome

__all__ = [
    "CancelTimer",
    "Complete",
    "Drain",
    "Effect",
    "Emit",
    "FreeSlot",
    "HandOut",
    "Kill",
    "PostAnswer",
    "Retire",
    "StartTimer",
]


@dataclass(frozen=True)
class HandOut:
    """Answer the waiting ``GET /next`` number ``waiter`` with this event."""

    waiter: int
    invocation: Invocation
    deadline_ms: int


@dataclass(frozen=True)
class Complete:
    """The invocation's caller gets its outcome."""

    invocation: Invocation
    outcome: Outcome


@dataclass(frozen=True)
class FreeSlot:
    """One of the environment's slots is free again."""


@dataclass(frozen=True)
class Retire:
    """Out of service from now on: no more invocations; stop the process."""


@dataclass(frozen=True)
class Kill:
    """SIGKILL the runtime and everything it started, now."""


@dataclass(frozen=True)
class StartTimer:
    key: str
    delay_s: float


@dataclass(frozen=True)
class CancelTimer:
    key: str


@dataclass(frozen=True)
class Drain:
    """Forward everything the runtime wrote so far, then feed ``drained(request_id)``."""

    request_id: str


@dataclass(frozen=True)
class Emit:
    event: InitReport | InvokeStarted | LogLine | InvokeEnded


Effect = HandOut | Complete | FreeSlot | Retire | Kill | StartTimer | CancelTimer | Drain | Emit


class PostAnswer(enum.Enum):
    """The Runtime API's answer to a post; ``emulator.protocols`` words it."""

    ACCEPTED = "accepted"
    UNKNOWN_REQUEST_ID = "unknown_request_id"
    ALREADY_ENDED = "already_ended"  # a second post, or one after another ending
    TIMED_OUT = "timed_out"
    TOO_LARGE = "too_large"
