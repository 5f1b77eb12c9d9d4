"""Which environment serves an invocation, within a function's concurrency; no I/O.

An invocation gets a free slot in the most recently used environment (the
warmest), or a new environment while the function is under its limit
("Lambda function scaling": https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).
Beyond it the answer is a value, not an error: a synchronous caller is
:class:`Throttled` (Lambda's 429), unless a slot is on its way back (a runtime
has answered and is about to ask for the next event), in which case it waits
in line; an asynchronous event always waits in line. Waiting callers get slots
in arrival order as they free up: nothing is polled.

An environment has one slot, or several in the multi-concurrency mode of Lambda
Managed Instances. Reserved concurrency ("Configuring reserved concurrency",
configuration-concurrency.html) caps the invocations in flight at once
across all environments; 0 throttles every one.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

__all__ = ["Granted", "Placement", "Queued", "Throttled"]


@dataclass(frozen=True)
class Granted:
    """A slot in environment ``environment``; ``new``: that environment must be started."""

    environment: int
    new: bool


@dataclass(frozen=True)
class Queued:
    """In line for a slot; the grant comes from :meth:`Placement.release` or ``retire``."""


@dataclass(frozen=True)
class Throttled:
    """At the function's concurrency limit (``reserved``: its reserved concurrency's)."""

    limit: int
    reserved: bool = False


class Placement:
    """The environments of one function, by id, and how many of their slots are taken."""

    def __init__(self, capacity: int, slots: int = 1) -> None:
        self.capacity = capacity  # environments at most
        self.slots = slots  # invocations at once per environment
        self._load: dict[int, int] = {}
        self._idle_since: dict[int, float] = {}
        self._recent: list[int] = []  # least recently used first
        self._line: collections.OrderedDict[int, None] = collections.OrderedDict()
        self._next_id = 1
        self.reserved: int | None = None  # ReservedConcurrentExecutions, if set

    @property
    def limit(self) -> int:
        room = self.capacity * self.slots
        return room if self.reserved is None else min(room, self.reserved)

    def reserve(self, reserved: int | None) -> list[tuple[int, Granted]]:
        """Set (or with None remove) the reserved concurrency; the grants a higher one makes."""
        self.reserved = reserved
        return self._serve_line()

    def request(self, waiter: int, wait: bool) -> Granted | Queued | Throttled:
        """A slot for ``waiter`` now, a place in line (when ``wait``), or throttled."""
        if not self._line:
            granted = self._grant()
            if granted is not None:
                return granted
        if wait:
            self._line[waiter] = None
            return Queued()
        return Throttled(self.limit, self.reserved is not None and self.limit == self.reserved)

    def cancel(self, waiter: int) -> None:
        """A waiter leaves the line (its caller gave up)."""
        self._line.pop(waiter, None)

    def release(self, environment: int, now: float) -> list[tuple[int, Granted]]:
        """A slot of ``environment`` is free: the grants it makes to waiters in line."""
        if self._load.get(environment, 0) > 0:
            self._load[environment] -= 1
            self._recent.remove(environment)
            self._recent.append(environment)
            if not self._load[environment]:
                self._idle_since[environment] = now
        return self._serve_line()

    def retire(self, environment: int) -> list[tuple[int, Granted]]:
        """The environment is gone (shut down, timed out, crashed): its slots with it."""
        if self._load.pop(environment, None) is not None:
            self._recent.remove(environment)
            self._idle_since.pop(environment, None)
        return self._serve_line()

    def drain(self, environment: int) -> int:
        """Take ``environment`` out of service (its configuration is old): no new
        invocation goes there. Its invocations in flight, which go on, are returned."""
        load = self._load.pop(environment, 0)
        if environment in self._recent:
            self._recent.remove(environment)
        self._idle_since.pop(environment, None)
        return load

    @property
    def environments(self) -> list[int]:
        """The environments in service, by id."""
        return list(self._load)

    def idle(self, now: float, idle_s: float) -> list[int]:
        """The environments idle for ``idle_s`` or more, to be shut down."""
        return [env for env, since in self._idle_since.items() if now - since >= idle_s]

    def _grant(self) -> Granted | None:
        if self.reserved is not None and sum(self._load.values()) >= self.reserved:
            return None
        for environment in reversed(self._recent):
            if self._load[environment] < self.slots:
                self._take(environment)
                return Granted(environment, False)
        if len(self._load) >= self.capacity:
            return None
        environment = self._next_id
        self._next_id += 1
        self._load[environment] = 0
        self._recent.append(environment)  # its other slots, if any, are free at once
        self._take(environment)
        return Granted(environment, True)

    def _take(self, environment: int) -> None:
        self._load[environment] += 1
        self._idle_since.pop(environment, None)

    def _serve_line(self) -> list[tuple[int, Granted]]:
        grants: list[tuple[int, Granted]] = []
        while self._line:
            granted = self._grant()
            if granted is None:
                break
            waiter, _ = self._line.popitem(last=False)
            grants.append((waiter, granted))
        return grants
