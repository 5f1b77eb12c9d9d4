"""A mapping's poller against a fake queue and a fake function: what it deletes,
leaves and releases, and how it stops, with every step driven by the test."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any

from emulator.config import FunctionConfig
from emulator.core.events import Event, EventBus, Notice
from emulator.core.invocation import Ids, Invocation, Outcome, OutcomeKind
from emulator.core.mappings import Mapping, MappingSettings
from emulator.core.placement import Throttled
from emulator.sources.poller import MappingCounters, Poller
from emulator.sqs import SqsUnavailable

QUEUE = "arn:aws:sqs:us-east-1:123456789012:q"


class Clock:
    def monotonic(self) -> float:
        return 0.0

    def time(self) -> float:
        return 1700000000.0


class FakeQueue:
    """Hands out the batches put in ``receives`` one receive at a time; records the rest."""

    def __init__(self) -> None:
        self.receives: asyncio.Queue[list[dict[str, Any]] | Exception] = asyncio.Queue()
        self.receiving = asyncio.Event()
        self.deleted: list[str] = []
        self.released: list[str] = []

    async def receive(self, url: str, count: int, wait_s: int) -> list[dict[str, Any]]:
        self.receiving.set()
        answer = await self.receives.get()
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def delete(self, url: str, receipt_handles: Sequence[str]) -> int:
        self.deleted += receipt_handles
        return 0

    async def release(self, url: str, receipt_handles: Sequence[str]) -> None:
        self.released += receipt_handles


class FakeFunction:
    """Answers each invocation with the next of ``answers``; keeps the events."""

    def __init__(self, *answers: Outcome | Throttled) -> None:
        self.function = FunctionConfig("f", ("true",), "/")
        self.answers = list(answers)
        self.events: list[dict[str, Any]] = []

    async def invoke(self, invocation: Invocation) -> Outcome | Throttled:
        self.events.append(json.loads(invocation.payload))
        return self.answers.pop(0)


def messages(*ids: str) -> list[dict[str, Any]]:
    return [
        {"MessageId": i, "ReceiptHandle": f"h-{i}", "Body": i, "MD5OfBody": "m", "Attributes": {}}
        for i in ids
    ]


def poller(
    function: FakeFunction, queue: FakeQueue, notices: list[str], **settings: Any
) -> tuple[Poller, MappingCounters]:
    mapping = Mapping(
        "u-1", function_arn="arn:f", source_arn=QUEUE, settings=MappingSettings(**settings),
        region="us-east-1", now=0.0,
    )  # fmt: skip
    bus = EventBus()

    def keep(event: Event) -> None:
        if isinstance(event, Notice):
            notices.append(event.text)

    bus.subscribe(keep)
    counters = MappingCounters()
    subject = Poller(
        mapping, function, sqs=queue, ids=Ids(), clock=Clock(), bus=bus, counters=counters
    )
    return subject, counters


async def until(condition: Callable[[], object]) -> None:
    """Lets the loop run until ``condition`` holds: steps of the loop, not seconds."""
    for _ in range(10000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


def test_a_reported_failure_stays_and_the_rest_is_deleted() -> None:
    answer = json.dumps({"batchItemFailures": [{"itemIdentifier": "b"}]}).encode()
    function = FakeFunction(Outcome(OutcomeKind.RESPONSE, answer))
    notices: list[str] = []

    async def scenario() -> MappingCounters:
        queue = FakeQueue()
        subject, counters = poller(function, queue, notices, report_item_failures=True)
        subject.start("url")
        await queue.receives.put(messages("a", "b", "c"))
        await until(lambda: notices)
        assert queue.deleted == ["h-a", "h-c"]
        await queue.receives.put([])  # the receive in flight ends empty
        await subject.stop()
        return counters

    counters = asyncio.run(scenario())
    assert [r["messageId"] for r in function.events[0]["Records"]] == ["a", "b", "c"]
    assert (counters.polled, counters.invoked, counters.failed) == (1, 1, 1)
    assert counters.messages_deleted == 2
    assert notices[0].startswith("event source mapping u-1: batch ")
    assert notices[0].endswith(" of 3: 2 deleted, 1 left on the queue (reported failures)")


def test_a_throttled_batch_is_left_and_counted() -> None:
    function = FakeFunction(Throttled(1))
    notices: list[str] = []

    async def scenario() -> tuple[FakeQueue, MappingCounters]:
        queue = FakeQueue()
        subject, counters = poller(function, queue, notices)
        subject.start("url")
        await queue.receives.put(messages("a"))
        await until(lambda: notices)
        stopping = asyncio.ensure_future(subject.stop())
        await queue.receives.put([])  # the receive in flight ends empty
        await stopping
        return queue, counters

    queue, counters = asyncio.run(scenario())
    assert (queue.deleted, queue.released) == ([], [])
    assert (counters.throttled, counters.failed, counters.invoked) == (1, 1, 0)
    assert notices == [
        "event source mapping u-1: batch of 1 throttled: 1 left on the queue; backing off"
    ]


def test_a_batch_the_emulators_shutdown_ended_goes_back_at_once() -> None:
    function = FakeFunction(Outcome(OutcomeKind.SHUTDOWN, b""))

    async def scenario() -> FakeQueue:
        queue = FakeQueue()
        subject, _ = poller(function, queue, [])
        subject.start("url")
        await queue.receives.put(messages("a", "b"))
        await until(lambda: queue.released)
        await queue.receives.put([])
        await subject.stop()
        return queue

    queue = asyncio.run(scenario())
    assert (queue.deleted, queue.released) == ([], ["h-a", "h-b"])


def test_a_stop_during_a_receive_releases_what_it_got_and_invokes_nothing() -> None:
    function = FakeFunction()

    async def scenario() -> FakeQueue:
        queue = FakeQueue()
        subject, _ = poller(function, queue, [])
        subject.start("url")
        await queue.receiving.wait()
        stopping = asyncio.ensure_future(subject.stop())
        await asyncio.sleep(0)
        assert not stopping.done()  # it waits for the receive in flight
        await queue.receives.put(messages("a"))
        await stopping
        return queue

    queue = asyncio.run(scenario())
    assert queue.released == ["h-a"]
    assert function.events == []


def test_a_function_error_leaves_the_batch() -> None:
    function = FakeFunction(Outcome(OutcomeKind.ERROR, b'{"errorType": "E"}'))
    notices: list[str] = []

    async def scenario() -> FakeQueue:
        queue = FakeQueue()
        subject, _ = poller(function, queue, notices, report_item_failures=True)
        subject.start("url")
        await queue.receives.put(messages("a", "b"))
        await until(lambda: notices)
        await queue.receives.put([])
        await subject.stop()
        return queue

    queue = asyncio.run(scenario())
    assert (queue.deleted, queue.released) == ([], [])
    assert notices[0].endswith(": 0 deleted, 2 left on the queue (function error)")


def test_a_failed_receive_while_gathering_releases_what_was_gathered() -> None:
    function = FakeFunction()
    notices: list[str] = []

    async def scenario() -> FakeQueue:
        queue = FakeQueue()
        subject, _ = poller(function, queue, notices, batch_size=20, window_s=5)
        subject.start("url")
        await queue.receives.put(messages("a"))
        await queue.receives.put(SqsUnavailable("SQS receive_message: gone"))
        await until(lambda: notices)
        await subject.stop()  # in its back-off after the failure
        return queue

    queue = asyncio.run(scenario())
    assert queue.released == ["h-a"]
    assert function.events == []
    assert notices == [f"event source mapping u-1: cannot poll {QUEUE}: SQS receive_message: gone"]
