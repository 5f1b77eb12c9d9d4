"""Asynchronous invocation's driver: the durable queue, its attempts, retries and destinations.

"Asynchronous invocation" (invocation-async.html): an ``Event`` invocation is
queued before its 202 and delivered at least once. Here the queue is the
state directory's database (:mod:`emulator.state.store`): an event is
written before :meth:`AsyncInvoker.accept` returns, updated after each
attempt that is retried, and removed only once it ended and its record went
to the destination (or failed to), so an emulator stopped or killed at any
point runs it again when it starts with the same state directory. Every
attempt of an event keeps its request id. An attempt waits for capacity in
the function's line (first come, first served; never polled, never
throttled). What to do after an attempt is :mod:`emulator.core.retry`'s
decision; the records are :mod:`emulator.core.destinations`'.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Protocol

from emulator.async_invoke.settings import AsyncSettings
from emulator.config import FunctionConfig
from emulator.core.destinations import DeadLetter, Destinations, dead_letter, record, target
from emulator.core.events import EventBus, Notice
from emulator.core.invocation import Ids, Invocation, Outcome, OutcomeKind
from emulator.core.lifecycle import Clock
from emulator.core.placement import Throttled
from emulator.core.retry import Attempt, Condition, Ended, EventState, after, before
from emulator.core.routing import LATEST
from emulator.state.store import QueuedEvent, StateStore

__all__ = ["AsyncInvoker", "Service", "SqsSend"]

# Sends a message to an SQS queue ARN: body and attributes (name -> (type, value)).
SqsSend = Callable[[str, str, Mapping[str, tuple[str, str]]], Awaitable[object]]
Sleep = Callable[[float], Awaitable[None]]


class Service(Protocol):
    """What the queue needs of a function: a registry Function, or a test's fake."""

    @property
    def config(self) -> FunctionConfig: ...

    @property
    def reserved(self) -> int | None: ...

    async def run(
        self, invocation: Invocation, qualifier: str | None
    ) -> tuple[Outcome | Throttled, str] | None:
        """Run it once, waiting for capacity: the outcome and the version that ran
        (an alias's is drawn now); None when the qualifier names nothing any more."""


class AsyncInvoker:
    """Accepts ``Event`` invocations, delivers them, and ends each one as Lambda does."""

    def __init__(
        self,
        store: StateStore,
        services: Mapping[str, Service],
        settings: AsyncSettings,
        *,
        clock: Clock,
        bus: EventBus,
        ids: Ids,
        sqs: SqsSend | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._store = store
        self._services = services
        self._settings = settings
        self._clock = clock
        self._bus = bus
        self._ids = ids
        self._sqs = sqs
        self._sleep = sleep  # with the clock: a test's moves it on
        self._tasks: set[asyncio.Task[None]] = set()
        # AsyncEventsReceived, AsyncEventsDropped, DestinationDeliveryFailures,
        # DeadLetterErrors, and AsyncEventAgeMaxMs: the oldest an event was at an attempt.
        self.counters: Counter[str] = Counter()
        self.closing = False

    async def start(self) -> None:
        """Deliver what the last run of the emulator left queued."""
        left = await self._store.events()
        for event in left:
            if event.function in self._services:
                self._schedule(event)
            else:
                self._notice("emulator", f"queued event {event.request_id} kept: "
                             f"no function {event.function} here")  # fmt: skip
        if left:
            self._notice("emulator", f"{len(left)} queued asynchronous events resumed")

    async def accept(self, invocation: Invocation, function: str, qualifier: str | None) -> None:
        """Queue ``invocation``, durably, and deliver it in the background."""
        now = self._clock.time()
        event = QueuedEvent(
            function,
            qualifier,
            invocation.request_id,
            invocation.payload,
            invocation.trace_id,
            invocation.function_arn or self._services[function].config.arn,
            now,
            EventState(received_at=now),
            invocation.tenant_id,
        )
        stored = await self._store.add_event(event)
        self.counters["AsyncEventsReceived"] += 1
        self._schedule(stored)

    async def drained(self) -> None:
        """Wait until no event is in flight or waiting for its retry."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def close(self) -> None:
        """Stop delivering: what is queued stays queued, for the next start."""
        self.closing = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _schedule(self, event: QueuedEvent) -> None:
        task = asyncio.ensure_future(self._deliver(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, event: QueuedEvent) -> None:
        last: Outcome | None = None  # the latest attempt's, for a record (not kept on disk)
        ran = event.qualifier or LATEST  # the version the latest attempt ran
        while True:
            wait = event.due_at - self._clock.time()
            if wait > 0:
                await self._sleep(wait)
            policy, destinations = self._settings.resolve(event.function, event.qualifier)
            now = self._clock.time()
            if (too_old := before(policy, event.state, now)) is not None:
                await self._end(event, too_old, last, destinations, ran)
                return
            if self._services[event.function].reserved == 0:
                # "Lambda begins sending new events to the configured dead-letter queue
                # or the on-failure event destination, without any retries."
                self._notice(
                    event.function, f"reserved concurrency is 0: {event.request_id} not run"
                )
                await self._end(
                    event, Ended(Condition.RETRIES_EXHAUSTED, event.state), None, destinations, ran
                )
                return
            age_ms = int(event.state.age(now) * 1000)
            self.counters["AsyncEventAgeMaxMs"] = max(self.counters["AsyncEventAgeMaxMs"], age_ms)
            result = await self._attempt(event)
            if result is None:  # the emulator stops: the event stays queued
                return
            attempt, outcome, version = result
            last = outcome or last
            ran = version or ran
            decision = after(policy, event.state, attempt, self._clock.time())
            if isinstance(decision, Ended):
                await self._end(event, decision, outcome, destinations, ran)
                return
            event = replace(event, due_at=decision.at, state=decision.state)
            await self._store.reschedule(event)
            self._retrying(
                event, attempt, decision.at - self._clock.time(), policy.max_retry_attempts
            )

    async def _attempt(
        self, event: QueuedEvent
    ) -> tuple[Attempt, Outcome | None, str | None] | None:
        invocation = Invocation(
            event.request_id,
            event.payload,
            event.trace_id,
            self._ids.request_id(),
            function_arn=event.function_arn,
            tenant_id=event.tenant_id,
        )
        try:
            ran = await self._services[event.function].run(invocation, event.qualifier)
        except Exception as exc:  # the emulator's own failure: back to the queue, with backoff
            self._notice(event.function, f"asynchronous invocation {event.request_id}: {exc!r}")
            return Attempt.SYSTEM_ERROR, None, None
        if ran is None:  # its alias or version is gone: it can only fail, as a function error
            self._notice(event.function, f"{event.function}:{event.qualifier} not found")
            return Attempt.FUNCTION_ERROR, None, None
        outcome, version = ran
        if isinstance(outcome, Throttled):
            return Attempt.THROTTLED, None, version
        if outcome.kind is OutcomeKind.SHUTDOWN or self.closing:
            return None
        return (Attempt.FUNCTION_ERROR if outcome.failed else Attempt.SUCCEEDED), outcome, version

    def _retrying(self, event: QueuedEvent, attempt: Attempt, delay: float, retries: int) -> None:
        if attempt is Attempt.FUNCTION_ERROR:
            which = f"retry {event.state.retries} of {retries}"
        else:
            which = f"back to the queue ({attempt.value})"
        text = f"asynchronous invocation {event.request_id} failed; {which} in {delay:g} s"
        self._notice(event.function, text)

    async def _end(
        self,
        event: QueuedEvent,
        ended: Ended,
        outcome: Outcome | None,
        where: Destinations,
        version: str,
    ) -> None:
        """Send the record (and the DLQ message), then take the event off the queue."""
        condition = ended.condition
        if condition is not Condition.SUCCESS:
            self.counters["AsyncEventsDropped"] += 1
        arn = where.for_condition(condition)
        if arn is not None:
            document = record(
                event.request_id,
                event.function_arn,
                event.payload,
                ended=ended,
                outcome=outcome,
                executed_version=version,
                now=self._clock.time(),
            )
            await self._send_record(event, arn, document)
        if condition is not Condition.SUCCESS and where.dead_letter is not None:
            message = dead_letter(event.request_id, event.payload, outcome, condition.value)
            await self._send_dead_letter(event, where.dead_letter, message)
        tries = ended.state.invocations
        self._notice(
            event.function,
            f"asynchronous invocation {event.request_id} ended: {condition.value}"
            f" after {tries} attempt{'s' if tries != 1 else ''}"
            + (f"; record sent to {arn}" if arn else ""),
        )
        await self._store.remove_event(event.id)

    async def _send_record(self, event: QueuedEvent, arn: str, document: dict[str, object]) -> None:
        body = json.dumps(document)
        if not await self._send(arn, body, {}):
            self.counters["DestinationDeliveryFailures"] += 1
            self._notice(event.function, f"destination {arn} unreachable: record of "
                         f"{event.request_id} not delivered")  # fmt: skip

    async def _send_dead_letter(self, event: QueuedEvent, arn: str, message: DeadLetter) -> None:
        kind = target(arn)
        if (
            kind is None
            or kind[0] != "sqs"
            or not await self._send(arn, message.body, message.attributes)
        ):
            self.counters["DeadLetterErrors"] += 1
            self._notice(event.function, f"dead-letter queue {arn} unreachable: "
                         f"{event.request_id} not delivered")  # fmt: skip

    async def _send(self, arn: str, body: str, attributes: Mapping[str, tuple[str, str]]) -> bool:
        """Deliver to a function (an Event invocation of it) or a queue; whether it went."""
        kind = target(arn)
        if kind is None:
            return False
        service, name = kind
        if service == "lambda":
            if name not in self._services:
                return False
            invocation = Invocation(
                self._ids.request_id(), body.encode(), self._ids.trace_id(self._clock.time()),
                self._ids.request_id(),
            )  # fmt: skip
            await self.accept(invocation, name, None)
            return True
        if self._sqs is None:
            return False
        try:
            await self._sqs(arn, body, attributes)
        except Exception:  # the queue's server refused or is gone: counted by the caller
            return False
        return True

    def _notice(self, source: str, text: str) -> None:
        self._bus.emit(Notice(source, text))
