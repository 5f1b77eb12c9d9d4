"""emulator.async_invoke.invoker over fakes: a scripted function, a clock the test owns, an SQS sink."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from emulator.async_invoke.invoker import AsyncInvoker
from emulator.async_invoke.settings import AsyncSettings
from emulator.config import FunctionConfig
from emulator.core.events import Event, EventBus, Notice
from emulator.core.invocation import Ids, Invocation, Outcome, OutcomeKind
from emulator.core.placement import Throttled
from emulator.core.retry import EventState
from emulator.state.store import QueuedEvent, StateStore

OK = Outcome(OutcomeKind.RESPONSE, b'{"ok": true}')
FAILED = Outcome(OutcomeKind.ERROR, b'{"errorType": "E", "errorMessage": "bad"}')
DLQ = "arn:aws:sqs:us-east-1:123456789012:dead"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds  # time passes at once


class Script:
    """A function answering each attempt from ``answers``; what it was invoked with."""

    def __init__(self, function: FunctionConfig, *answers: Outcome | Throttled | Exception) -> None:
        self.config = function
        self.reserved: int | None = None
        self._answers = list(answers)
        self.seen: list[Invocation] = []

    async def run(
        self, invocation: Invocation, qualifier: str | None
    ) -> tuple[Outcome | Throttled, str] | None:
        self.seen.append(invocation)
        answer = self._answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer, qualifier or "$LATEST"


class World:
    """An invoker over the script, an in-memory store, the clock, and what was sent to SQS."""

    def __init__(self, script: Script, sqs_fails: bool = False) -> None:
        self.script = script
        self.clock = Clock()
        self.events: list[Event] = []
        self.sent: list[tuple[str, str, Mapping[str, tuple[str, str]]]] = []
        self._sqs_fails = sqs_fails
        bus = EventBus()
        bus.subscribe(self.events.append)
        self.store = StateStore(None)
        functions = {script.config.name: script.config}
        self.settings = AsyncSettings(self.store, functions)
        self.left: list[QueuedEvent] = []
        self.invoker = AsyncInvoker(
            self.store,
            {script.config.name: script},
            self.settings,
            clock=self.clock,
            bus=bus,
            ids=Ids(),
            sqs=self._send,
            sleep=self.clock.sleep,
        )

    async def _send(self, arn: str, body: str, attributes: Mapping[str, tuple[str, str]]) -> None:
        if self._sqs_fails:
            raise ConnectionError("queue server gone")
        self.sent.append((arn, body, attributes))

    def notices(self) -> list[str]:
        return [e.text for e in self.events if isinstance(e, Notice)]

    async def run(self, payload: bytes = b'{"n": 1}') -> None:
        """Accept one event, let it run out its script, then stop; ``left``: still queued."""
        await self.store.open()
        await self.settings.load(0.0)
        invocation = Invocation("rid", payload, "Root=1-x", "inv")
        await self.invoker.accept(invocation, self.script.config.name, None)
        await self.invoker.drained()
        await self.invoker.close()
        self.left = await self.store.events()
        await self.store.close()


def function(**changes: Any) -> FunctionConfig:
    base: dict[str, Any] = {
        "name": "fn", "command": ("x",), "code_dir": "/", "retry_delays_s": (60.0, 120.0),
    }  # fmt: skip
    return FunctionConfig(**{**base, **changes})


def test_throttles_and_system_errors_go_back_to_the_queue_with_backoff() -> None:
    world = World(Script(function(), Throttled(1), RuntimeError("oops"), OK))
    asyncio.run(world.run())
    assert [i.request_id for i in world.script.seen] == ["rid"] * 3
    notices = world.notices()
    assert "failed; back to the queue (throttled) in 1 s" in notices[0]
    assert "RuntimeError('oops')" in notices[1]
    assert "failed; back to the queue (system error) in 2 s" in notices[2]
    assert notices[3] == "asynchronous invocation rid ended: Success after 1 attempt"
    assert world.clock.now == 1003.0


def test_a_function_error_waits_the_retry_delays() -> None:
    world = World(Script(function(), FAILED, FAILED, OK))
    asyncio.run(world.run())
    assert world.clock.now == 1180.0  # one minute, then two
    assert world.notices()[-1] == "asynchronous invocation rid ended: Success after 3 attempts"


def test_a_failed_event_goes_to_the_dead_letter_queue_with_its_attributes() -> None:
    world = World(Script(function(dead_letter=DLQ), FAILED, FAILED, FAILED))
    asyncio.run(world.run(b'{"order": 7}'))
    assert world.sent == [
        (
            DLQ,
            '{"order": 7}',
            {
                "RequestID": ("String", "rid"),
                "ErrorCode": ("Number", "200"),
                "ErrorMessage": ("String", "bad"),
            },
        )
    ]
    assert world.invoker.counters["AsyncEventsDropped"] == 1


def test_a_record_for_an_sqs_destination_is_sent_there() -> None:
    settings = {"DestinationConfig": {"OnSuccess": {"Destination": DLQ}}}
    world = World(Script(function(event_invoke=settings), OK))
    asyncio.run(world.run())
    ((arn, body, attributes),) = world.sent
    record = json.loads(body)
    assert (arn, attributes, record["requestContext"]["condition"]) == (DLQ, {}, "Success")
    assert record["responsePayload"] == {"ok": True}


def test_unreachable_queues_are_counted_and_the_event_still_ends() -> None:
    settings = {"DestinationConfig": {"OnFailure": {"Destination": DLQ}}}
    script = Script(function(event_invoke=settings, dead_letter=DLQ), FAILED, FAILED, FAILED)
    world = World(script, sqs_fails=True)
    asyncio.run(world.run())
    assert world.invoker.counters["DestinationDeliveryFailures"] == 1
    assert world.invoker.counters["DeadLetterErrors"] == 1
    assert f"dead-letter queue {DLQ} unreachable: rid not delivered" in world.notices()
    assert world.left == []


def test_events_of_a_function_no_longer_configured_are_kept() -> None:
    world = World(Script(function()))

    async def main() -> list[QueuedEvent]:
        await world.store.open()
        other = QueuedEvent("gone", None, "old", b"{}", "t", "arn", 0.0, EventState(0.0))
        await world.store.add_event(other)
        await world.invoker.start()
        kept = await world.store.events()
        await world.store.close()
        return kept

    kept = asyncio.run(main())
    assert [event.request_id for event in kept] == ["old"]
    assert world.notices() == [
        "queued event old kept: no function gone here",
        "1 queued asynchronous events resumed",
    ]


def test_with_reserved_concurrency_0_an_event_goes_straight_to_the_failure_destination() -> None:
    settings = {"DestinationConfig": {"OnFailure": {"Destination": DLQ}}}
    script = Script(function(event_invoke=settings))
    script.reserved = 0
    world = World(script)
    asyncio.run(world.run())
    assert script.seen == []
    ((_, body, _),) = world.sent
    context = json.loads(body)["requestContext"]
    assert (context["condition"], context["approximateInvokeCount"]) == ("RetriesExhausted", 0)
    assert world.notices()[0] == "reserved concurrency is 0: rid not run"
