"""The typed stream of lifecycle events: the one source of START / END / REPORT lines,
log tails, and later metrics and a dashboard.

Field names follow the Telemetry API's platform events where they have a
counterpart (``platform.initReport``, ``platform.start``, ``platform.report``:
https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from emulator.core.invocation import OutcomeKind

__all__ = [
    "Event",
    "EventBus",
    "InitReport",
    "InvokeEnded",
    "InvokeStarted",
    "LogLine",
    "Notice",
    "Subscriber",
    "Where",
]


@dataclass(frozen=True)
class Where:
    """The function and the execution environment an event happened in."""

    function: str
    version: str
    environment: int


@dataclass(frozen=True)
class InitReport:
    """An init that failed: it has no invocation's REPORT to carry its duration."""

    where: Where
    duration_ms: float
    status: str  # "error" or "timeout"
    error_type: str | None


@dataclass(frozen=True)
class InvokeStarted:
    where: Where
    request_id: str
    tail: bool  # the caller wants the log tail


@dataclass(frozen=True)
class LogLine:
    """A line the runtime wrote, or one of the platform's; ``request_id``: whose log it is in."""

    where: Where
    request_id: str | None
    text: str


@dataclass(frozen=True)
class InvokeEnded:
    where: Where
    request_id: str
    outcome: OutcomeKind
    error_type: str | None  # of a platform failure (timeout, exit, out of memory)
    duration_ms: float
    memory_mb: int
    max_memory_used_mb: int
    init_ms: float | None  # on the first invocation of an environment only


@dataclass(frozen=True)
class Notice:
    """A line of the emulator's own about a function (idle shutdown, a retry...)."""

    function: str
    text: str


Event = InitReport | InvokeStarted | LogLine | InvokeEnded | Notice
Subscriber = Callable[[Event], None]


class EventBus:
    """Hands every event to each subscriber, in the order they subscribed."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def emit(self, event: Event) -> None:
        for subscriber in self._subscribers:
            subscriber(event)
