"""One SQS event source mapping's poller: receive, invoke, delete, repeat.

As Lambda's ("Using Lambda with Amazon SQS", with-sqs.html, and "Handling
errors for an SQS event source", services-sqs-errorhandling.html): the queue
is long-polled, up to 10 messages a call, and a batch is gathered up to
BatchSize for as long as MaximumBatchingWindowInSeconds allows; the function is
invoked synchronously with it; what succeeded is deleted (DeleteMessageBatch)
and the rest is left to the queue, whose visibility timeout brings it back and
whose redrive policy moves it to a dead-letter queue. At most
ScalingConfig.MaximumConcurrency batches (else the function's concurrency) are
in the function at once. A FIFO queue keeps a message group's order itself: it
hands out no message of a group while one of it is in flight. An empty queue
and a throttled function make the poller wait longer before its next call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from emulator.config import FunctionConfig
from emulator.core.batches import Message, left_on_queue, message_from_sqs, sqs_event
from emulator.core.events import EventBus, Notice
from emulator.core.invocation import Ids, Invocation, Outcome, OutcomeKind
from emulator.core.lifecycle import Clock
from emulator.core.mappings import Mapping
from emulator.core.placement import Throttled
from emulator.sqs import SqsUnavailable

__all__ = ["POLL_WAIT_S", "MappingCounters", "Poller", "Queue", "Target"]

# Each ReceiveMessage waits this long at most: also how long a stop may wait for one.
POLL_WAIT_S = 1
_RECEIVE_AT_ONCE = 10
_EMPTY_BACKOFF_MAX_S = 1.0  # after empty polls in a row, on top of the long poll
_THROTTLE_BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)
_ERROR_BACKOFF_S = 2.0  # after an SQS call that failed


class Queue(Protocol):
    """The SQS calls a poller makes (:class:`~emulator.sqs.SqsGateway`'s)."""

    async def receive(self, url: str, count: int, wait_s: int) -> list[dict[str, Any]]: ...

    async def delete(self, url: str, receipt_handles: Sequence[str]) -> int: ...

    async def release(self, url: str, receipt_handles: Sequence[str]) -> None: ...


class Target(Protocol):
    """The function a poller invokes (a :class:`~emulator.functions.service.FunctionService`)."""

    @property
    def function(self) -> FunctionConfig: ...

    async def invoke(self, invocation: Invocation) -> Outcome | Throttled: ...


class _Stopped(Exception):
    """The poller stopped while a receive was in flight."""


@dataclass
class MappingCounters:
    """What one mapping has done, for metrics: batches received, invoked, failed."""

    polled: int = 0
    invoked: int = 0
    failed: int = 0
    messages_deleted: int = 0
    throttled: int = 0


class Poller:
    """Polls ``mapping``'s queue for ``service`` from :meth:`start` until :meth:`stop`."""

    def __init__(
        self,
        mapping: Mapping,
        service: Target,
        *,
        sqs: Queue,
        ids: Ids,
        clock: Clock,
        bus: EventBus,
        counters: MappingCounters,
    ) -> None:
        self._mapping = mapping
        self._bus = bus
        self._settings = mapping.settings
        self._service = service
        self._sqs = sqs
        self._ids = ids
        self._clock = clock
        self.counters = counters
        limit = self._settings.max_concurrency or service.function.concurrency
        self._slots = asyncio.Semaphore(limit)
        self._batches: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None
        self._url = ""
        self._empty = 0
        self._throttles = 0
        self._stopping = False
        self._receiving = False

    def start(self, url: str) -> None:
        self._url = url
        self._loop = asyncio.ensure_future(self._run())

    async def stop(self) -> None:
        """Stop receiving, then wait for the batches in the function.

        A receive in flight ends (within its long poll) and what it got, as
        what a batch being gathered holds, is made visible again at once: a
        disabled mapping takes no message with it.
        """
        self.halt()
        if self._loop is not None:
            await asyncio.gather(self._loop, return_exceptions=True)
        await asyncio.gather(*self._batches, return_exceptions=True)

    def halt(self) -> None:
        """Receive nothing more from now on (:meth:`stop` waits for what is under way)."""
        self._stopping = True
        if self._loop is not None and not self._receiving:
            self._loop.cancel()

    async def _run(self) -> None:
        while True:
            await self._slots.acquire()
            try:
                batch = await self._gather()
            except _Stopped:
                self._slots.release()
                return
            except SqsUnavailable as exc:
                self._slots.release()
                self._notice(f"cannot poll {self._mapping.source_arn}: {exc}")
                await asyncio.sleep(_ERROR_BACKOFF_S)
                continue
            except BaseException:
                self._slots.release()
                raise
            if not batch:
                self._slots.release()
                self._empty += 1
                await asyncio.sleep(min(0.1 * self._empty, _EMPTY_BACKOFF_MAX_S))
                continue
            self._empty = 0
            self.counters.polled += 1
            task = asyncio.ensure_future(self._process(batch))
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)
            if self._throttles:
                await asyncio.sleep(_THROTTLE_BACKOFF_S[min(self._throttles, 5) - 1])

    async def _gather(self) -> list[Message]:
        """A batch: the first poll's messages, then more until full or the window closes."""
        size = self._settings.batch_size
        batch: list[Message] = []
        try:
            batch += await self._receive(min(size, _RECEIVE_AT_ONCE), POLL_WAIT_S)
            if not batch or self._settings.window_s == 0:
                return batch
            deadline = self._clock.monotonic() + self._settings.window_s
            while len(batch) < size:
                left = deadline - self._clock.monotonic()
                if left <= 0:
                    break
                wait = max(0, min(POLL_WAIT_S, int(left)))
                batch += await self._receive(min(size - len(batch), _RECEIVE_AT_ONCE), wait)
                if wait == 0:
                    await asyncio.sleep(left)  # a last poll after the window's last second
        except (_Stopped, SqsUnavailable, asyncio.CancelledError):
            await self._release(batch)  # what was gathered goes back now
            raise
        return batch

    async def _receive(self, count: int, wait_s: int) -> list[Message]:
        """Messages; raises _Stopped (their release to the caller) if a stop came meanwhile."""
        self._receiving = True
        try:
            raw = await self._sqs.receive(self._url, count, wait_s)
        finally:
            self._receiving = False
        messages = [message_from_sqs(message) for message in raw]
        if self._stopping:
            await self._release(messages)
            raise _Stopped
        return messages

    async def _release(self, batch: list[Message]) -> None:
        if batch:
            with contextlib.suppress(SqsUnavailable):  # else back after their timeout
                await self._sqs.release(self._url, [m.receipt_handle for m in batch])

    async def _process(self, batch: list[Message]) -> None:
        try:
            await self._invoke(batch)
        finally:
            self._slots.release()

    async def _invoke(self, batch: list[Message]) -> None:
        mapping = self._mapping
        event = sqs_event(batch, mapping.source_arn, mapping.region)
        invocation = Invocation(
            self._ids.request_id(),
            json.dumps(event).encode(),
            self._ids.trace_id(self._clock.time()),
            self._ids.request_id(),
            function_arn=mapping.function_arn,
        )
        outcome = await self._service.invoke(invocation)
        if isinstance(outcome, Throttled):
            self._throttles += 1
            self.counters.throttled += 1
            self.counters.failed += 1
            self._notice(
                f"batch of {len(batch)} throttled: {len(batch)} left on the queue; backing off"
            )
            return
        self._throttles = 0
        if outcome.kind is OutcomeKind.SHUTDOWN:
            await self._release(batch)  # the emulator stops: back to the queue now
            return
        self.counters.invoked += 1
        response = None if outcome.failed else outcome.body
        left = left_on_queue(batch, response, self._settings.report_item_failures)
        stays = {m.message_id for m in left}
        done = [m.receipt_handle for m in batch if m.message_id not in stays]
        refused = await self._delete(done)
        self.counters.messages_deleted += len(done) - refused
        if left or refused:
            self.counters.failed += 1
        why = "function error" if outcome.failed else "reported failures"
        text = f"batch {invocation.request_id} of {len(batch)}: {len(done) - refused} deleted"
        if left:
            text += f", {len(left)} left on the queue ({why})"
        if refused:
            text += f", {refused} not deleted (SQS refused)"
        self._notice(text)

    async def _delete(self, handles: list[str]) -> int:
        if not handles:
            return 0
        try:
            return await self._sqs.delete(self._url, handles)
        except SqsUnavailable as exc:
            self._notice(f"cannot delete from {self._mapping.source_arn}: {exc}")
            return len(handles)

    def _notice(self, text: str) -> None:
        name = self._service.function.name
        self._bus.emit(Notice(name, f"event source mapping {self._mapping.uuid}: {text}"))
