"""ric.asgi with tiny raw ASGI apps: scope, receive, send, errors, streaming.

Ordering is proven with asyncio events the test sets, never with sleeps.
The scope is checked against the one Mangum (from PyPI) builds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from mangum import Mangum

import ric
from ric.handler import is_async
from ric.oninit import registry
from ric.shutdown import HOOKS
from ric.stream import HttpStream
from ric.web.asgi import Bridge, Exchange, asgi
from ric.web.asgi_scope import http_scope
from ric.web.events import NotAnHttpEvent, parse
from ric.web.lifespan import Lifespan, UnexpectedMessage
from tests.unit.test_web_events import CONTEXT, SAMPLES, sample

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"text/plain")],
}


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # Mangum asks for the current loop
    yield loop
    asyncio.set_event_loop(None)
    loop.close()


def body(data: bytes, more: bool = False) -> Message:
    return {"type": "http.response.body", "body": data, "more_body": more}


def bridge(app: Any, *, streaming: bool = False) -> Bridge:
    return Bridge(app, Lifespan(app, "off"), streaming=streaming)


def serve(loop: asyncio.AbstractEventLoop, app: Any, name: str = "http-api", **kw: Any) -> Any:
    return loop.run_until_complete(bridge(app, **kw).handle(sample(name), CONTEXT))


def mangum_scope(event: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def app(scope: Message, receive: Receive, send: Send) -> None:
        seen.update(scope)
        await send(START)
        await send(body(b""))

    Mangum(app, lifespan="off")(event, CONTEXT)  # type: ignore[arg-type]
    return seen


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_scope_is_mangums(loop: asyncio.AbstractEventLoop, name: str) -> None:
    event = sample(name)
    ours = http_scope(parse(event, CONTEXT))
    theirs = mangum_scope(event)
    assert ours == theirs
    assert ours["aws.event"] is event
    assert ours["aws.context"] is CONTEXT


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_cookies_ports_and_encoded_paths_as_mangum(
    loop: asyncio.AbstractEventLoop, name: str
) -> None:
    event = sample(name)
    event["path"] = event.get("path") and "/a%20b/c"
    if "requestContext" in event and "http" in event["requestContext"]:
        event["rawPath"] = event["requestContext"]["http"]["path"] = "/a%20b/c"
    for fields in ("headers", "multiValueHeaders"):
        for key in [key for key in event.get(fields, {}) if key.lower() == "host"]:
            host = "example.com:8443"
            event[fields][key] = [host] if fields == "multiValueHeaders" else host
    assert http_scope(parse(event, CONTEXT)) == mangum_scope(event)


def test_behind_an_alb_the_client_is_the_first_forwarded_address(
    loop: asyncio.AbstractEventLoop,
) -> None:
    # A deliberate difference: Mangum gives the whole field as the host.
    event = sample("alb")
    event["headers"]["x-forwarded-for"] = "192.0.2.30, 198.51.100.7"
    assert http_scope(parse(event, CONTEXT))["client"] == ("192.0.2.30", 0)
    assert mangum_scope(event)["client"] == ("192.0.2.30, 198.51.100.7", 0)


def test_a_request_then_a_disconnect_once_the_response_is_complete(
    loop: asyncio.AbstractEventLoop,
) -> None:
    seen: list[Any] = []

    async def app(scope: Message, receive: Receive, send: Send) -> None:
        seen.append(await receive())
        later = asyncio.ensure_future(receive())
        await send(START)
        await send(body(b"a", more=True))
        await asyncio.sleep(0)  # lets the waiting receive() run: it must still wait
        seen.append(later.done())
        await send(body(b"b"))
        seen.append(await later)
        seen.append(await receive())

    result = serve(loop, app)
    assert seen == [
        {"type": "http.request", "body": b"Hello from Lambda", "more_body": False},
        False,
        {"type": "http.disconnect"},
        {"type": "http.disconnect"},
    ]
    assert (result["statusCode"], result["body"]) == (200, "ab")


@pytest.mark.parametrize(
    "messages",
    [
        [body(b"x")],
        [START, START],
        [START, body(b"x"), body(b"y")],
        [START, {"type": "http.response.trailers"}],
        [{"type": "websocket.accept"}],
    ],
    ids=["body first", "two starts", "body after the last", "trailers", "websocket"],
)
def test_a_message_out_of_order_raises_into_the_app(messages: list[Message]) -> None:
    async def run() -> None:
        exchange = Exchange(b"")
        for message in messages:
            await exchange.send(message)

    with pytest.raises(UnexpectedMessage, match="unexpected ASGI message"):
        asyncio.run(run())


def failing(where: str) -> Any:
    async def app(scope: Message, receive: Receive, send: Send) -> None:
        if where != "before the start":
            await send({**START, "headers": [(b"x-from", b"app")]})
            await send(body(b"partial", more=where != "after the response"))
        raise ValueError("boom")

    return app


@pytest.mark.parametrize("where", ["before the start", "in the body"])
def test_an_app_error_before_the_response_is_complete_is_a_500(
    loop: asyncio.AbstractEventLoop, where: str, caplog: pytest.LogCaptureFixture
) -> None:
    result = serve(loop, failing(where), "rest")
    assert result == {
        "statusCode": 500,
        "headers": {"content-type": "text/plain; charset=utf-8"},
        "multiValueHeaders": {},
        "body": "Internal Server Error",
        "isBase64Encoded": False,
    }
    [record] = [r for r in caplog.records if r.name == "ric.web"]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "boom"


def test_an_app_error_after_the_response_leaves_it_as_it_was(
    loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    result = serve(loop, failing("after the response"))
    assert (result["statusCode"], result["body"], result["headers"]["x-from"]) == (
        200,
        "partial",
        "app",
    )
    assert [r.name for r in caplog.records] == ["ric.web"]


@pytest.mark.parametrize("messages", [[], [START, body(b"x", more=True)]])
def test_an_app_returning_without_a_whole_response_is_an_error(
    loop: asyncio.AbstractEventLoop, messages: list[Message]
) -> None:
    async def app(scope: Message, receive: Receive, send: Send) -> None:
        for message in messages:
            await send(message)

    with pytest.raises(RuntimeError, match="without a response"):
        serve(loop, app)


def test_other_events_are_refused(loop: asyncio.AbstractEventLoop) -> None:
    with pytest.raises(NotAnHttpEvent, match="understood: "):
        loop.run_until_complete(bridge(failing("before the start")).handle({"a": 1}, CONTEXT))


def test_asgi_registers_its_lifespan_hooks_and_makes_an_async_handler() -> None:
    assert ric.asgi is asgi
    hooks, shutdown = list(registry().hooks), list(HOOKS._hooks)
    try:
        handler = asgi(failing("before the start"))
        assert is_async(handler)
        assert len(registry().hooks) == len(hooks) + 1
        assert len(HOOKS._hooks) == len(shutdown) + 1
        asgi(failing("before the start"), lifespan="off")
        assert len(registry().hooks) == len(hooks) + 1
    finally:
        registry().hooks[:] = hooks
        HOOKS._hooks[:] = shutdown


def step(loop: asyncio.AbstractEventLoop, chunks: AsyncIterator[Any]) -> Any:
    return loop.run_until_complete(chunks.__anext__())


def gated(gate: asyncio.Event, log: list[str]) -> Any:
    async def app(scope: Message, receive: Receive, send: Send) -> None:
        try:
            await receive()
            await send(
                {
                    "type": "http.response.start",
                    "status": 201,
                    "headers": [
                        (b"Content-Type", b"text/event-stream"),
                        (b"Set-Cookie", b"a=1"),
                        (b"X-Many", b"1"),
                        (b"X-Many", b"2"),
                    ],
                }
            )
            await send(body(b"one", more=True))
            await send(body(b"", more=True))  # an empty chunk is not a chunk
            await gate.wait()
            await send(body(b"two", more=True))
            await send(body(b"three"))
            log.append("after the response")
            log.append((await receive())["type"])
        finally:
            log.append("finally")

    return app


def test_a_stream_gives_the_chunks_as_the_app_sends_them(loop: asyncio.AbstractEventLoop) -> None:
    gate, log = asyncio.Event(), list[str]()
    stream = serve(loop, gated(gate, log), streaming=True)
    assert isinstance(stream, HttpStream)
    assert stream.prelude == {
        "statusCode": 201,
        "headers": {"content-type": "text/event-stream", "x-many": "1,2"},
        "cookies": ["a=1"],
    }
    chunks = stream.body
    assert isinstance(chunks, AsyncIterator)
    assert step(loop, chunks) == b""  # the prelude goes out now
    assert step(loop, chunks) == b"one"
    waiting = asyncio.ensure_future(chunks.__anext__(), loop=loop)
    loop.run_until_complete(asyncio.sleep(0))
    assert not waiting.done()  # the app waits on the gate: no chunk yet
    gate.set()
    assert loop.run_until_complete(waiting) == b"two"
    assert step(loop, chunks) == b"three"
    with pytest.raises(StopAsyncIteration):
        step(loop, chunks)
    # The handler waited for the app's end: what it does after the response is done.
    assert log == ["after the response", "http.disconnect", "finally"]


def test_a_stream_closed_early_disconnects_and_cancels_the_app(
    loop: asyncio.AbstractEventLoop,
) -> None:
    gate, log = asyncio.Event(), list[str]()
    stream = serve(loop, gated(gate, log), streaming=True)
    chunks: Any = stream.body
    assert step(loop, chunks) == b""
    assert step(loop, chunks) == b"one"
    loop.run_until_complete(chunks.aclose())
    assert log == ["finally"]  # cancelled where it waited
    assert not [task for task in asyncio.all_tasks(loop) if not task.done()]


def test_a_stream_answers_an_error_before_the_start_with_a_500(
    loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    stream = serve(loop, failing("before the start"), streaming=True)
    assert stream.prelude == {
        "statusCode": 500,
        "headers": {"content-type": "text/plain; charset=utf-8"},
        "cookies": [],
    }
    assert stream.body == b"Internal Server Error"
    assert [r.name for r in caplog.records] == ["ric.web"]


def test_a_stream_ends_with_an_error_raised_in_the_body(loop: asyncio.AbstractEventLoop) -> None:
    stream = serve(loop, failing("in the body"), streaming=True)
    chunks: Any = stream.body
    assert [step(loop, chunks), step(loop, chunks)] == [b"", b"partial"]
    with pytest.raises(ValueError, match="boom"):
        step(loop, chunks)


def test_a_stream_error_after_the_response_is_logged(
    loop: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    stream = serve(loop, failing("after the response"), streaming=True)
    chunks: Any = stream.body
    assert [step(loop, chunks), step(loop, chunks)] == [b"", b"partial"]
    with pytest.raises(StopAsyncIteration):
        step(loop, chunks)
    assert [r.getMessage() for r in caplog.records] == ["the ASGI app raised after its response"]


def test_a_stream_of_an_app_returning_early_is_an_error(loop: asyncio.AbstractEventLoop) -> None:
    async def silent(scope: Message, receive: Receive, send: Send) -> None:
        return None

    async def unfinished(scope: Message, receive: Receive, send: Send) -> None:
        await send(START)

    with pytest.raises(RuntimeError, match="without starting a response"):
        serve(loop, silent, streaming=True)
    chunks: Any = serve(loop, unfinished, streaming=True).body
    assert step(loop, chunks) == b""
    with pytest.raises(RuntimeError, match="before its response was complete"):
        step(loop, chunks)


def test_a_streaming_handler_cancelled_before_the_start_cancels_the_app(
    loop: asyncio.AbstractEventLoop,
) -> None:
    entered, log = asyncio.Event(), list[str]()

    async def app(scope: Message, receive: Receive, send: Send) -> None:
        try:
            entered.set()
            await asyncio.Event().wait()
        finally:
            log.append("finally")

    async def cancelled() -> None:
        handling = asyncio.ensure_future(
            bridge(app, streaming=True).handle(sample("rest"), CONTEXT)
        )
        await entered.wait()
        handling.cancel()
        with pytest.raises(asyncio.CancelledError):
            await handling
        await asyncio.sleep(0)  # the app's task runs its cancellation

    loop.run_until_complete(cancelled())
    assert log == ["finally"]
