"""Async concurrency mode without sockets: ric.concurrent over ric.aio_client and a fake transport."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from ric.aio_client import AsyncRuntimeClient
from ric.aio_transport import FakeAsyncTransport
from ric.client import Retry
from ric.concurrent import AsyncPipeline, HandlerNotAsync, serve
from ric.config import RuntimeConfig
from ric.context import Scope, current_context
from ric.errors import ConfigError, RuntimeApiError, StaleConnection, TransportError
from ric.marshal import Codec
from ric.protocol import RequestBuilder
from ric.records import error_text
from ric.runtime import Failures
from ric.stream import HttpStream
from ric.wire import Response
from tests.unit.test_stream import read_back

BUILDER = RequestBuilder("127.0.0.1:9001", "ua")
NEXT = BUILDER.next
ACCEPTED = Response(202, {}, b'{"status":"OK"}')
CONFIG = RuntimeConfig("127.0.0.1:9001", "app.handler", "/var/task", {})


def event(request_id: str, body: bytes = b"{}", extra: dict[str, str] | None = None) -> Response:
    headers = {"lambda-runtime-aws-request-id": request_id, "content-type": "application/json"}
    return Response(200, {**headers, **(extra or {})}, body)


class Served:
    """What one slot sent and logged, serving ``handler`` over a scripted Runtime API."""

    def __init__(self, handler: Any, *script: Response | TransportError) -> None:
        self.transport = FakeAsyncTransport(script)
        self.log: list[str] = []
        retry = Retry(attempts=1)
        client = AsyncRuntimeClient(self.transport, BUILDER, self.log.append, retry)
        failures = Failures("/cwd", lambda entry: self.log.append(error_text(entry)))
        pipeline = AsyncPipeline(handler, CONFIG, Codec(), Scope(), failures)
        with pytest.raises(RuntimeApiError, match="script exhausted"):
            asyncio.run(serve(pipeline, [client]))

    @property
    def posts(self) -> list[bytes]:
        assert self.transport.sent[0] == NEXT
        return self.transport.sent[1:]


def test_a_result_is_posted_with_the_next_request_behind_it() -> None:
    async def handler(event: Any, context: Any) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"got": event, "id": current_context().aws_request_id}  # type: ignore[union-attr]

    served = Served(handler, event("r1", b'{"a": 1}'), ACCEPTED)
    head, body = BUILDER.response(
        _invocation("r1"), b'{"got":{"a":1},"id":"r1"}', "application/json"
    )
    assert served.posts == [head + body + NEXT]
    assert served.log == []


def _invocation(request_id: str) -> Any:
    from ric.protocol import parse_invocation

    return parse_invocation(event(request_id))


def test_what_the_handler_raises_is_posted_to_error_and_logged() -> None:
    async def handler(event: Any, context: Any) -> None:
        raise KeyError("missing")

    served = Served(handler, event("r1"), ACCEPTED)
    (post,) = served.posts
    assert post.startswith(b"POST /2018-06-01/runtime/invocation/r1/error HTTP/1.1\r\n")
    assert b"Lambda-Runtime-Function-Error-Type: KeyError\r\n" in post
    assert post.endswith(b"}" + NEXT)
    assert served.log[0].startswith("[ERROR] KeyError: 'missing'")


def test_a_cancelled_await_is_the_handlers_error() -> None:
    async def handler(event: Any, context: Any) -> None:
        task = asyncio.ensure_future(asyncio.sleep(10))
        task.cancel()
        await task

    (post,) = Served(handler, event("r1"), ACCEPTED).posts
    assert b"Lambda-Runtime-Function-Error-Type: CancelledError\r\n" in post


@pytest.mark.parametrize(
    ("response", "error_type"),
    [
        (event("r1", b"{not json"), "Runtime.UnmarshalError"),
        (
            event("r1", extra={"lambda-runtime-client-context": "[1"}),
            "Runtime.LambdaContextUnmarshalError",
        ),
    ],
)
def test_an_event_or_context_that_cannot_be_read_is_a_fault(
    response: Response, error_type: str
) -> None:
    async def handler(event: Any, context: Any) -> str:
        raise AssertionError("not called")

    (post,) = Served(handler, response, ACCEPTED).posts
    assert f"Lambda-Runtime-Function-Error-Type: {error_type}\r\n".encode() in post


def test_a_result_json_cannot_encode_is_a_marshal_error() -> None:
    async def handler(event: Any, context: Any) -> object:
        return {"when": object()}

    (post,) = Served(handler, event("r1"), ACCEPTED).posts
    assert b"Lambda-Runtime-Function-Error-Type: Runtime.MarshalError\r\n" in post


def streamed(posts: list[bytes]) -> tuple[bytes, dict[bytes, bytes]]:
    _, body, trailers = read_back(b"".join(posts))
    return body, dict(trailers)


def test_an_async_generator_streams_with_its_context_current() -> None:
    async def handler(event: Any, context: Any) -> AsyncIterator[str]:
        async def body() -> AsyncIterator[str]:
            yield "id="
            await asyncio.sleep(0)
            yield current_context().aws_request_id  # type: ignore[union-attr]

        return body()

    served = Served(handler, event("r7"), ACCEPTED)
    assert streamed(served.posts) == (b"id=r7", {})
    assert served.transport.closes == 1  # closed after the stream; /next on a new one
    assert served.transport.sent[-2:] == [b"0\r\n\r\n", NEXT]


def test_a_plain_generator_streams_too() -> None:
    def chunks() -> Iterator[bytes]:
        yield b"a"
        yield b"b"

    async def handler(event: Any, context: Any) -> Iterator[bytes]:
        return chunks()

    assert streamed(Served(handler, event("r1"), ACCEPTED).posts) == (b"ab", {})


def test_an_error_before_the_first_chunk_is_posted_to_error() -> None:
    async def body() -> AsyncIterator[bytes]:
        raise ValueError("early")
        yield b""

    async def handler(event: Any, context: Any) -> HttpStream:
        return HttpStream(body())

    (post,) = Served(handler, event("r1"), ACCEPTED).posts
    assert post.startswith(b"POST /2018-06-01/runtime/invocation/r1/error HTTP/1.1\r\n")
    assert b"Lambda-Runtime-Function-Error-Type: ValueError\r\n" in post


def test_an_error_after_the_first_chunk_goes_in_the_trailers() -> None:
    closed: list[bool] = []

    async def body() -> AsyncIterator[object]:
        try:
            yield b"first"
            yield 42  # not a chunk
        finally:
            closed.append(True)

    async def handler(event: Any, context: Any) -> AsyncIterator[object]:
        return body()

    served = Served(handler, event("r1"), ACCEPTED)
    data, trailers = streamed(served.posts)
    assert data == b"first"
    assert trailers[b"lambda-runtime-function-error-type"] == b"Runtime.MarshalError"
    assert closed == [True]
    assert "a stream chunk must be bytes or str, not int" in served.log[0]


def test_a_post_the_api_rejects_is_logged_and_the_slot_goes_on() -> None:
    async def handler(event: Any, context: Any) -> int:
        return 1

    gone = Response(410, {}, b"gone")
    served = Served(handler, event("r1"), gone, event("r2"), ACCEPTED)
    assert len(served.posts) == 2
    assert re.search(
        r"invocation r1: response rejected: the invocation had already ended", served.log[0]
    )


def test_a_lost_post_loses_only_its_invocation() -> None:
    async def handler(event: Any, context: Any) -> int:
        return 1

    served = Served(handler, event("r1"), TransportError("reset"), event("r2"), ACCEPTED)
    assert "invocation r1: response not delivered: reset" in served.log[0]
    # The next GET /next went again on its own, then r2 was served.
    assert served.transport.sent[2] == NEXT
    assert served.transport.sent[3].startswith(b"POST /2018-06-01/runtime/invocation/r2/response")


def test_a_stale_connection_is_sent_again() -> None:
    async def handler(event: Any, context: Any) -> int:
        return 1

    served = Served(handler, StaleConnection("closed unread"), event("r1"), ACCEPTED)
    assert served.transport.sent[:2] == [NEXT, NEXT]


def test_next_is_retried_after_a_5xx_then_given_up() -> None:
    transport = FakeAsyncTransport([Response(500, {}, b"busy"), Response(503, {}, b"busy")])
    log: list[str] = []
    client = AsyncRuntimeClient(transport, BUILDER, log.append, Retry(attempts=2, first_delay=0))
    with pytest.raises(RuntimeApiError, match="failed 2 times, giving up: HTTP 503: busy"):
        asyncio.run(client.next_invocation())
    assert "invocation/next failed (HTTP 500: busy); retry in 0 s" in log[0]


def test_next_answered_4xx_is_not_retried() -> None:
    transport = FakeAsyncTransport([Response(403, {}, b"no")])
    client = AsyncRuntimeClient(transport, BUILDER, print, Retry(attempts=3, first_delay=0))
    with pytest.raises(RuntimeApiError, match="invocation/next answered HTTP 403: no"):
        asyncio.run(client.next_invocation())


def test_n_slots_serve_invocations_at_once() -> None:
    arrived: list[str] = []
    everyone = asyncio.Event()

    async def handler(event: Any, context: Any) -> list[str]:
        arrived.append(context.aws_request_id)
        if len(arrived) == 3:
            everyone.set()
        await everyone.wait()  # only returns if all three are in flight together
        return [current_context().aws_request_id, context.aws_request_id]  # type: ignore[union-attr]

    transports = [FakeAsyncTransport([event(f"r{n}"), ACCEPTED]) for n in range(3)]
    clients = [AsyncRuntimeClient(t, BUILDER, print, Retry(attempts=1)) for t in transports]
    pipeline = AsyncPipeline(handler, CONFIG, Codec(), Scope(), Failures("/", print))

    async def main() -> None:
        with pytest.raises(RuntimeApiError):
            await serve(pipeline, clients)

    asyncio.run(main())
    assert sorted(arrived) == ["r0", "r1", "r2"]
    for n, transport in enumerate(transports):
        _, body = transport.sent[1].split(b"\r\n\r\n", 1)
        assert json.loads(body.removesuffix(NEXT)) == [f"r{n}", f"r{n}"]


def test_the_mode_is_read_once() -> None:
    def mode(value: str) -> str:
        environ = {"AWS_LAMBDA_RUNTIME_API": "h:1", "RIC_CONCURRENCY_MODE": value}
        return RuntimeConfig.from_environ(environ, "m.f", "/").concurrency_mode

    assert [mode(""), mode("process"), mode("ASYNC")] == ["process", "process", "async"]
    with pytest.raises(ConfigError, match="expected process or async, got 'threads'"):
        mode("threads")


def test_the_refusal_of_a_sync_handler_names_the_way_out() -> None:
    error = HandlerNotAsync("app.handler")
    assert error.error_type == "Runtime.HandlerNotAsync"
    assert "app.handler is not one" in error.message
    assert "unset RIC_CONCURRENCY_MODE" in error.message
