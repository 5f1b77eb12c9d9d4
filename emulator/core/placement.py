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
Managed Instances. The limits shared with other placements are the gate's,
which the owner of every placement sums: a function's reserved concurrency
("Configuring reserved concurrency", configuration-concurrency.html) across
its versions, or the account's unreserved concurrency across the functions
without a reservation. Provisioned environments
("Configuring provisioned concurrency", provisioned-concurrency.html) serve
first and hold their slots of the limit; invocations beyond them spill over
to on-demand ones.
"""

from __future__ import annotations

import collections
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ACCOUNT_LIMIT", "RESERVED_LIMIT", "Gate", "Granted", "Placement", "Queued", "Throttled"]

# The Reason of a 429 (API_Invoke.html, TooManyRequestsException).
RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_LIMIT = "ConcurrentInvocationLimitExceeded"


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
    """At a concurrency limit: ``reason`` says whose (the function's reservation, or
    the account's concurrency, of which the emulator's per-function cap is a part)."""

    limit: int
    reason: str = ACCOUNT_LIMIT


# Whether one more invocation may start beyond what is provisioned, across every
# placement sharing a limit: None, or the Throttled answer (its owner sums them).
Gate = Callable[[], "Throttled | None"]


def _open() -> Throttled | None:
    return None


class Placement:
    """The environments of one version, by id, and how many of their slots are taken.

    Provisioned environments (provisioned concurrency) are started ahead, serve
    first, are never shut down for being idle, and hold their slots against the
    shared limit whether busy or not; on-demand ones start as needed, up to
    ``capacity``, while the gate lets them.
    """

    def __init__(self, capacity: int, slots: int = 1, gate: Gate = _open) -> None:
        self.capacity = capacity  # on-demand environments at most
        self.slots = slots  # invocations at once per environment
        self.gate = gate
        self._load: dict[int, int] = {}
        self._idle_since: dict[int, float] = {}
        self._recent: list[int] = []  # least recently used first
        self._provisioned: set[int] = set()
        self._initialised: set[int] = set()  # provisioned ones whose init has ended
        self._draining: dict[int, int] = {}  # out of service: invocations still in flight
        self._line: collections.OrderedDict[int, None] = collections.OrderedDict()
        self._next_id = 1

    @property
    def held(self) -> int:
        """What this placement holds of the shared limit: the invocations in flight on
        demand (draining ones too) and every slot of its provisioned environments."""
        on_demand = sum(n for env, n in self._load.items() if env not in self._provisioned)
        return on_demand + sum(self._draining.values()) + self.slots * len(self._provisioned)

    def request(self, waiter: int, wait: bool) -> Granted | Queued | Throttled:
        """A slot for ``waiter`` now, a place in line (when ``wait``), or throttled."""
        if not self._line:
            granted = self._grant()
            if granted is not None:
                return granted
        if wait:
            self._line[waiter] = None
            return Queued()
        return self.throttled()

    def throttled(self) -> Throttled:
        """The answer to a caller that may not wait: whose limit it is at."""
        return self.gate() or Throttled(self.slots * (self.capacity + len(self._provisioned)))

    def cancel(self, waiter: int) -> None:
        """A waiter leaves the line (its caller gave up)."""
        self._line.pop(waiter, None)

    def release(self, environment: int, now: float) -> list[tuple[int, Granted]]:
        """A slot of ``environment`` is free: the grants it makes to waiters in line."""
        if environment in self._draining:
            self._draining[environment] -= 1
        elif self._load.get(environment, 0) > 0:
            self._load[environment] -= 1
            self._recent.remove(environment)
            self._recent.append(environment)
            if not self._load[environment] and environment not in self._provisioned:
                self._idle_since[environment] = now
        return self.serve()

    def retire(self, environment: int) -> list[tuple[int, Granted]]:
        """The environment is gone (shut down, timed out, crashed): its slots with it."""
        self._draining.pop(environment, None)
        self._provisioned.discard(environment)
        self._initialised.discard(environment)
        if self._load.pop(environment, None) is not None:
            self._recent.remove(environment)
            self._idle_since.pop(environment, None)
        return self.serve()

    def drain(self, environment: int) -> int:
        """Take ``environment`` out of service (its configuration is old, or it is no
        longer provisioned): no new invocation goes there. Its invocations in flight,
        which go on, are returned; :meth:`in_flight` counts them down."""
        load = self._load.pop(environment, 0)
        if environment in self._recent:
            self._recent.remove(environment)
        self._idle_since.pop(environment, None)
        self._provisioned.discard(environment)
        self._initialised.discard(environment)
        if load:
            self._draining[environment] = load
        return load

    def in_flight(self, environment: int) -> int:
        """The invocations still running in a drained environment."""
        return self._draining.get(environment, 0)

    def provision(self, count: int) -> list[int]:
        """``count`` new provisioned environments, to be started now, by id."""
        made = []
        for _ in range(count):
            environment = self._new()
            self._provisioned.add(environment)
            made.append(environment)
        return made

    def initialised(self, environment: int) -> list[tuple[int, Granted]]:
        """A provisioned environment's init has ended: it serves from now on."""
        if environment in self._provisioned:
            self._initialised.add(environment)
        return self.serve()

    def surplus(self, count: int) -> list[int]:
        """The provisioned environments beyond ``count``, idle ones first, to be drained."""
        ranked = sorted(self._provisioned, key=lambda env: (self._load[env] > 0, -env))
        return ranked[: max(0, len(ranked) - count)]

    @property
    def provisioned(self) -> list[int]:
        """The provisioned environments in service, by id."""
        return sorted(self._provisioned)

    @property
    def ready(self) -> int:
        """How many provisioned environments are initialised."""
        return len(self._initialised)

    @property
    def environments(self) -> list[int]:
        """The environments in service, by id."""
        return list(self._load)

    def idle(self, now: float, idle_s: float) -> list[int]:
        """The on-demand environments idle for ``idle_s`` or more, to be shut down."""
        return [env for env, since in self._idle_since.items() if now - since >= idle_s]

    def serve(self) -> list[tuple[int, Granted]]:
        """The grants to waiters in line that the room there is now makes."""
        grants: list[tuple[int, Granted]] = []
        while self._line:
            granted = self._grant()
            if granted is None:
                break
            waiter, _ = self._line.popitem(last=False)
            grants.append((waiter, granted))
        return grants

    def _grant(self) -> Granted | None:
        room = self.gate() is None  # for one more on demand; provisioned slots are held
        # Provisioned ones serve first, once initialised (until then, on demand serves).
        warmest = [env for env in reversed(self._recent) if env not in self._provisioned]
        for environment in [*sorted(self._initialised), *warmest]:
            free = self._load[environment] < self.slots
            if free and (room or environment in self._provisioned):
                self._take(environment)
                return Granted(environment, False)
        on_demand = len(self._load) - len(self._provisioned)
        if on_demand >= self.capacity or not room:
            return None
        environment = self._new()
        self._take(environment)
        return Granted(environment, True)

    def _new(self) -> int:
        environment = self._next_id
        self._next_id += 1
        self._load[environment] = 0
        self._recent.append(environment)  # its other slots, if any, are free at once
        return environment

    def _take(self, environment: int) -> None:
        self._load[environment] += 1
        self._idle_since.pop(environment, None)
