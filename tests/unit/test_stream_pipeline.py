"""Streaming handlers through the pipeline and the client: the bytes posted, errors, closing."""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from ric.client import Retry, RuntimeClient
from ric.config import RuntimeConfig
from ric.context import LambdaContext, Scope, TraceId
from ric.marshal import Codec
from ric.protocol import RequestBuilder
from ric.records import ErrorLog, error_text
from ric.runtime import Call, Failures, Pipeline, Respond, run
from ric.stream import HttpStream
from ric.transport import FakeTransport
from ric.wire import Response
from tests.unit.test_stream import read_back

BUILDER = RequestBuilder("127.0.0.1:9001", "ua")
NEXT = BUILDER.next
ACCEPTED = Response(202, {}, b'{"status":"OK"}')
CONFIG = RuntimeConfig("127.0.0.1:9001", "app.handler", "/var/task", {})
EVENT = Response(
    200, {"lambda-runtime-aws-request-id": "r1", "content-type": "application/json"}, b"{}"
)


def serve(handler: Any) -> tuple[list[bytes], list[str]]:
    """One invocation of ``handler``: what was sent after GET /next, and the log."""
    transport = FakeTransport([EVENT, ACCEPTED])
    log: list[str] = []
    client = RuntimeClient(transport, BUILDER, log.append, Retry(attempts=1))
    codec = Codec()
    failures = Failures("/cwd", lambda entry: log.append(error_text(entry)))
    call = Call(handler, CONFIG, codec, TraceId({}), Scope())
    run(client, Pipeline(call, Respond(codec, failures), failures), max_invocations=1)
    assert transport.sent[0] == NEXT
    return transport.sent[1:], log


def streamed_body(sent: list[bytes]) -> tuple[bytes, dict[bytes, bytes]]:
    _, body, trailers = read_back(b"".join(sent))
    return body, dict(trailers)


def test_a_generator_handler_streams() -> None:
    def handler(event: Any, context: LambdaContext) -> Iterator[Any]:
        yield "hello "
        yield b""
        yield bytearray(b"world")

    sent, log = serve(handler)
    assert sent[0].startswith(
        b"POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\n"
        b"Host: 127.0.0.1:9001\r\nUser-Agent: ua\r\n"
        b"Content-Type: application/octet-stream\r\n"
        b"Lambda-Runtime-Function-Response-Mode: streaming\r\n"
        b"Transfer-Encoding: chunked\r\n"
        b"Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n"
    )
    assert sent[1:] == [b"5\r\nworld\r\n", b"0\r\n\r\n"]
    assert streamed_body(sent) == (b"hello world", {})
    assert log == []


def test_an_http_stream_sends_its_prelude_with_the_first_chunk() -> None:
    sent, _ = serve(lambda event, context: HttpStream(iter(["a", "b"]), 201, cookies=["c=1"]))
    prelude = b'{"statusCode":201,"headers":{},"cookies":["c=1"]}' + bytes(8)
    assert sent[0].endswith(b"\r\n\r\n%x\r\n%s\r\n1\r\na\r\n" % (len(prelude), prelude))
    assert streamed_body(sent) == (prelude + b"ab", {})


def test_an_http_stream_with_an_empty_body_sends_its_prelude() -> None:
    sent, _ = serve(lambda event, context: HttpStream([]))
    assert streamed_body(sent) == (b'{"statusCode":200,"headers":{},"cookies":[]}' + bytes(8), {})


def test_an_empty_first_chunk_begins_the_response() -> None:
    def body() -> Iterator[bytes]:
        yield b""  # the status and headers go out now, before any body
        raise ValueError("late")

    sent, _ = serve(lambda event, context: HttpStream(body(), 202))
    prelude = b'{"statusCode":202,"headers":{},"cookies":[]}' + bytes(8)
    assert sent[0].endswith(b"\r\n\r\n%x\r\n%s\r\n" % (len(prelude), prelude))
    data, trailers = streamed_body(sent)
    assert (data, trailers[b"lambda-runtime-function-error-type"]) == (prelude, b"ValueError")


def failing_generator(event: Any, context: LambdaContext) -> Iterator[bytes]:
    raise ValueError("bad")
    yield b"never"


def failing_function(event: Any, context: LambdaContext) -> bytes:
    raise ValueError("bad")


def test_an_error_before_the_first_chunk_is_posted_as_a_buffered_handlers() -> None:
    reported = []
    for handler in (failing_generator, failing_function):
        sent, log = serve(handler)
        head, _, body = sent[0].partition(b"\r\n\r\n")
        assert head.startswith(b"POST /2018-06-01/runtime/invocation/r1/error HTTP/1.1\r\n")
        assert b"\r\nLambda-Runtime-Function-Error-Type: ValueError\r\n" in head
        assert b"\r\nLambda-Runtime-Function-XRay-Error-Cause: {" in head
        error = json.loads(body)
        assert log == [error_text(ErrorLog("ValueError", "bad", "r1", error["stackTrace"]))]
        (frame,) = error["stackTrace"]
        assert frame.endswith(f'in {handler.__name__}\n    raise ValueError("bad")\n')
        reported.append({**error, "stackTrace": None})
    assert (
        reported[0]
        == reported[1]
        == {
            "errorMessage": "bad",
            "errorType": "ValueError",
            "requestId": "r1",
            "stackTrace": None,
        }
    )


def test_an_error_mid_stream_is_in_the_trailers_and_logged() -> None:
    def handler(event: Any, context: LambdaContext) -> Iterator[bytes]:
        yield b"partial"
        raise KeyError("gone")

    sent, log = serve(handler)
    body, trailers = streamed_body(sent)
    assert body == b"partial"
    assert trailers[b"lambda-runtime-function-error-type"] == b"KeyError"
    error = json.loads(base64.b64decode(trailers[b"lambda-runtime-function-error-body"]))
    assert (error["errorType"], error["errorMessage"], error["requestId"]) == (
        "KeyError",
        "'gone'",
        "r1",
    )
    assert error["stackTrace"][-1].endswith('in handler\n    raise KeyError("gone")\n')
    assert log == [error_text(ErrorLog("KeyError", "'gone'", "r1", error["stackTrace"]))]


MARSHAL: dict[str, Any] = {
    "errorMessage": "Unable to marshal response: a stream chunk must be bytes or str, not int",
    "errorType": "Runtime.MarshalError",
    "requestId": "r1",
    "stackTrace": [],
}


def test_a_bad_first_chunk_is_an_error_post_and_the_generator_is_closed() -> None:
    closed = []

    def handler(event: Any, context: LambdaContext) -> Iterator[object]:
        try:
            yield 1
        finally:
            closed.append(True)

    sent, log = serve(handler)
    head, _, body = sent[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /2018-06-01/runtime/invocation/r1/error HTTP/1.1\r\n")
    assert b"\r\nLambda-Runtime-Function-Error-Type: Runtime.MarshalError\r\n" in head
    assert json.loads(body) == MARSHAL
    assert closed == [True]
    assert log == [error_text(ErrorLog("Runtime.MarshalError", MARSHAL["errorMessage"], "r1", []))]


def test_a_bad_chunk_mid_stream_ends_it_with_trailers_and_closes_the_generator() -> None:
    given = []

    def handler(event: Any, context: LambdaContext) -> Iterator[object]:
        try:
            yield b"ok"
            yield 7
            given.append("resumed")
        finally:
            given.append("closed")

    sent, log = serve(handler)
    body, trailers = streamed_body(sent)
    assert body == b"ok"
    assert trailers[b"lambda-runtime-function-error-type"] == b"Runtime.MarshalError"
    error = json.loads(base64.b64decode(trailers[b"lambda-runtime-function-error-body"]))
    assert error == MARSHAL
    assert given == ["closed"]
    assert len(log) == 1


def test_a_bad_prelude_is_a_marshal_error() -> None:
    sent, log = serve(lambda event, context: HttpStream([], headers={"a": "\ud800"}))
    head = sent[0].partition(b"\r\n\r\n")[0]
    assert head.startswith(b"POST /2018-06-01/runtime/invocation/r1/error HTTP/1.1\r\n")
    assert b"\r\nLambda-Runtime-Function-Error-Type: Runtime.MarshalError\r\n" in head
    assert len(log) == 1


class Output:
    """A standard output that notes, at each flush, how many writes the transport had seen."""

    def __init__(self, transport: FakeTransport) -> None:
        self.transport = transport
        self.written = ""
        self.flushed_at: list[int] = []

    def write(self, text: str) -> int:
        self.written += text
        return len(text)

    def flush(self) -> None:
        self.flushed_at.append(len(self.transport.sent))


def test_what_the_body_printed_is_flushed_before_the_stream_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def handler(event: Any, context: LambdaContext) -> Iterator[bytes]:
        yield b"a"
        sys.stdout.write("partial line")
        yield b"b"

    transport = FakeTransport([EVENT, ACCEPTED])
    output = Output(transport)
    monkeypatch.setattr(sys, "stdout", output)
    log: list[str] = []
    client = RuntimeClient(transport, BUILDER, log.append, Retry(attempts=1))
    codec = Codec()
    failures = Failures("/cwd", lambda entry: None)
    call = Call(handler, CONFIG, codec, TraceId({}), Scope())
    run(client, Pipeline(call, Respond(codec, failures), failures), max_invocations=1)
    # GET /next, the head with "a", then "b": flushed then, before the last chunk.
    assert transport.sent[-1] == b"0\r\n\r\n"
    assert output.flushed_at[-1] == len(transport.sent) - 1
    assert (output.written, log) == ("partial line", [])
