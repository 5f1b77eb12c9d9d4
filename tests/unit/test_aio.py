"""ric.aio and the pipeline's async layer: one loop, awaitables, async chunks, the context."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from ric.aio import CancelledError, EventLoop, new_loop
from ric.config import RuntimeConfig
from ric.context import CURRENT, LambdaContext, Scope, current_context, make_context
from ric.errors import ConfigError
from ric.marshal import Codec
from ric.outcome import Streamed
from ric.protocol import Invocation
from ric.runtime import Failures, LoopRef, Respond
from ric.stream import Chunks

CONFIG = RuntimeConfig("127.0.0.1:9001", "app.handler", "/var/task", {})


def context(request_id: str) -> LambdaContext:
    invocation = Invocation(request_id, b"{}", {"lambda-runtime-trace-id": f"Root={request_id}"})
    return make_context(invocation, CONFIG)


@pytest.fixture(params=["auto", "asyncio"])
def loop(request: pytest.FixtureRequest) -> Iterator[EventLoop]:
    events = EventLoop(request.param)
    yield events
    events.close()


def test_the_choice_of_loop() -> None:
    for choice, module in (("auto", "uvloop"), ("asyncio", "asyncio.unix_events")):
        made = new_loop(choice)
        assert type(made).__module__ == module
        made.close()


@pytest.mark.parametrize(("value", "expected"), [("", "auto"), ("asyncio", "asyncio")])
def test_ric_event_loop_is_read_once(value: str, expected: str) -> None:
    environ = {"AWS_LAMBDA_RUNTIME_API": "h:1", "RIC_EVENT_LOOP": value}
    assert RuntimeConfig.from_environ(environ, "m.f", "/").event_loop == expected


def test_an_unknown_event_loop_is_a_config_error() -> None:
    environ = {"AWS_LAMBDA_RUNTIME_API": "h:1", "RIC_EVENT_LOOP": "trio"}
    with pytest.raises(ConfigError, match="RIC_EVENT_LOOP: expected auto or asyncio, got 'trio'"):
        RuntimeConfig.from_environ(environ, "m.f", "/")


def test_run_gives_the_value_and_raises_what_was_raised(loop: EventLoop) -> None:
    async def value() -> int:
        return 7

    async def fails() -> None:
        raise KeyError("k")

    assert loop.run(value()) == 7
    with pytest.raises(KeyError) as raised:
        loop.run(fails())
    # The traceback holds the runtime's frames and the user's, none of the loop's.
    names = [frame.name for frame in _frames(raised.value)]
    assert names == [
        "test_run_gives_the_value_and_raises_what_was_raised",
        "run",
        "_settled",
        "fails",
    ]


def test_a_cancelled_awaitable_is_an_exception_not_the_end(loop: EventLoop) -> None:
    async def cancelled() -> None:
        raise asyncio.CancelledError("stop")

    with pytest.raises(CancelledError) as raised:
        loop.run(cancelled())
    assert isinstance(raised.value, Exception)
    assert raised.value.args == ("stop",)
    assert [frame.name for frame in _frames(raised.value)][-1] == "cancelled"


def test_a_stream_body_runs_with_its_invocation_current() -> None:
    scope = Scope()
    scope.latest = context("r7")

    def body() -> Iterator[str]:
        yield current_context().aws_request_id  # type: ignore[union-attr]

    respond = Respond(Codec(), Failures("/", lambda log: None), scope=scope)
    outcome = respond(body(), "r7")
    assert isinstance(outcome, Streamed)
    assert isinstance(outcome.chunks, Chunks)
    assert list(outcome.chunks) == [b"r7"]
    assert current_context() is None


def _frames(exc: BaseException) -> list[Any]:
    import traceback

    return list(traceback.extract_tb(exc.__traceback__))


def test_one_loop_for_every_run(loop: EventLoop) -> None:
    async def running() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    assert loop.run(running()) is loop.run(running()) is loop.loop


def test_a_task_of_one_run_goes_on_in_the_next(loop: EventLoop) -> None:
    queue: asyncio.Queue[int] = asyncio.Queue()
    out: asyncio.Queue[int] = asyncio.Queue()

    async def worker() -> None:
        while True:
            await out.put(await queue.get() + 1)

    async def start() -> asyncio.Task[None]:
        return asyncio.create_task(worker())

    async def ask(n: int) -> int:
        await queue.put(n)
        return await out.get()

    task = loop.run(start())
    assert [loop.run(ask(1)), loop.run(ask(41))] == [2, 42]
    task.cancel()


def test_async_chunks_step_and_close(loop: EventLoop) -> None:
    events: list[str] = []

    async def body() -> AsyncIterator[bytes]:
        try:
            yield b"a"
            yield b"b"
        finally:
            events.append("closed")

    chunks = loop.iterate(body())
    assert next(chunks) == b"a"
    chunks.close()
    assert events == ["closed"]


def test_async_chunks_end_and_an_iterator_without_aclose(loop: EventLoop) -> None:
    class Two:
        def __init__(self) -> None:
            self.left = 2

        def __aiter__(self) -> Two:
            return self

        async def __anext__(self) -> bytes:
            if not self.left:
                raise StopAsyncIteration
            self.left -= 1
            return b"x"

    chunks = loop.iterate(Two())
    assert list(chunks) == [b"x", b"x"]
    chunks.close()  # nothing to close


def test_a_loop_ref_makes_its_loop_once() -> None:
    ref = LoopRef("asyncio")
    assert ref.get() is ref.get()
    ref.get().close()


def test_current_context_is_none_outside_an_invocation() -> None:
    assert contextvars.Context().run(current_context) is None


def test_current_context_under_concurrent_tasks(loop: EventLoop) -> None:
    # Two invocations' tasks, interleaved by the events: each sees its own context.
    first_ready, second_ready = asyncio.Event(), asyncio.Event()

    async def one(mine: LambdaContext, ready: asyncio.Event, other: asyncio.Event) -> list[Any]:
        CURRENT.set(mine)
        ready.set()
        await other.wait()
        return [current_context() is mine, current_context().aws_request_id]  # type: ignore[union-attr]

    async def both() -> list[list[Any]]:
        a, b = context("a"), context("b")
        return list(
            await asyncio.gather(
                one(a, first_ready, second_ready), one(b, second_ready, first_ready)
            )
        )

    assert loop.run(both()) == [[True, "a"], [True, "b"]]
    assert current_context() is None


def test_current_context_in_threads() -> None:
    mine = context("t")
    seen: dict[str, Any] = {}

    def invocation() -> None:
        copied = threading.Thread(
            target=contextvars.copy_context().run,
            args=(lambda: seen.update(copied=current_context()),),
        )
        plain = threading.Thread(target=lambda: seen.update(plain=current_context()))
        for thread in (copied, plain):
            thread.start()
            thread.join()

    def run() -> None:
        CURRENT.set(mine)
        invocation()

    contextvars.Context().run(run)
    assert seen == {"copied": mine, "plain": None}


def test_the_context_has_the_trace_id() -> None:
    assert context("r").trace_id == "Root=r"
    assert make_context(Invocation("r", b"{}", {}), CONFIG).trace_id is None
