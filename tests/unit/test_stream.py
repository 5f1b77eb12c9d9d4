"""A Streamed outcome posted through FakeTransport: chunked, in streaming mode, errors in trailers."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import h11
import pytest

from ric.client import Retry, RuntimeClient
from ric.outcome import Buffered, Failed, Streamed
from ric.protocol import ErrorReport, RequestBuilder, parse_invocation
from ric.report import user_report
from ric.transport import FakeTransport
from ric.wire import Response

BUILDER = RequestBuilder("127.0.0.1:9001", "ua")
NEXT = BUILDER.next
ACCEPTED = Response(202, {}, b'{"status":"OK"}')
INVOCATION = parse_invocation(
    Response(
        200,
        {"lambda-runtime-aws-request-id": "r1", "lambda-runtime-invocation-id": "inv-1"},
        b"{}",
    )
)
NEXT_EVENT = Response(200, {"lambda-runtime-aws-request-id": "r2"}, b"{}")
HEAD = (
    b"POST /2018-06-01/runtime/invocation/r1/response HTTP/1.1\r\n"
    b"Host: 127.0.0.1:9001\r\nUser-Agent: ua\r\n"
    b"Content-Type: text/plain\r\n"
    b"Lambda-Runtime-Function-Response-Mode: streaming\r\n"
    b"Lambda-Runtime-Invocation-Id: inv-1\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n\r\n"
)


class Reports:
    """The ``fail`` of a stream: reports as a buffered error would post them, and keeps them."""

    def __init__(self) -> None:
        self.made: list[ErrorReport] = []

    def __call__(self, exc: Exception) -> ErrorReport:
        report = user_report(exc, "r1", "/cwd")
        self.made.append(report)
        return report


def client(*script: Response) -> tuple[RuntimeClient, FakeTransport]:
    transport = FakeTransport(script)
    log: list[str] = []
    return RuntimeClient(transport, BUILDER, log.append, Retry(attempts=1)), transport


def chunks(*parts: bytes, then: Exception | None = None) -> Iterator[bytes]:
    yield from parts
    if then is not None:
        raise then


def read_back(data: bytes) -> tuple[h11.Request, bytes, list[tuple[bytes, bytes]]]:
    """The request, its body and its trailers, as an HTTP/1.1 server reads them."""
    server = h11.Connection(h11.SERVER)
    server.receive_data(data)
    request, body = None, b""
    while True:
        event = server.next_event()
        if isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage):
            assert request is not None
            return request, body, list(event.headers)
        else:
            raise AssertionError(f"request incomplete: {event!r}")


def test_chunks_are_sent_as_they_come_then_the_next_request() -> None:
    runtime, transport = client(ACCEPTED, NEXT_EVENT)
    stream = Streamed("text/plain", chunks(b"hello ", b"", b"world"), Reports())
    assert runtime.complete(INVOCATION, stream).request_id == "r2"
    # One write per chunk; the last chunk carries the pipelined GET /next.
    assert transport.sent == [
        HEAD + b"6\r\nhello \r\n",
        b"5\r\nworld\r\n",
        b"0\r\n\r\n" + NEXT,
    ]
    request, body, trailers = read_back(b"".join(transport.sent).removesuffix(NEXT))
    assert (request.method, request.target) == (
        b"POST",
        b"/2018-06-01/runtime/invocation/r1/response",
    )
    assert (body, trailers) == (b"hello world", [])


def test_an_error_after_the_first_chunk_goes_in_the_trailers() -> None:
    reports = Reports()
    runtime, transport = client(ACCEPTED)
    stream = Streamed("text/plain", chunks(b"partial", then=KeyError("gone")), reports)
    runtime.complete_last(INVOCATION, stream)
    _, body, trailers = read_back(b"".join(transport.sent))
    assert body == b"partial"
    (report,) = reports.made
    assert trailers == [
        (b"lambda-runtime-function-error-type", b"KeyError"),
        (b"lambda-runtime-function-error-body", base64.b64encode(report.body)),
    ]
    error = json.loads(base64.b64decode(trailers[1][1]))
    assert (error["errorType"], error["errorMessage"], error["requestId"]) == (
        "KeyError",
        "'gone'",
        "r1",
    )


def test_an_error_before_the_first_chunk_is_an_error_post() -> None:
    reports = Reports()
    runtime, transport = client(ACCEPTED)
    runtime.complete_last(
        INVOCATION, Streamed("text/plain", chunks(then=ValueError("no")), reports)
    )
    (report,) = reports.made
    assert transport.sent == [b"".join(BUILDER.error(INVOCATION, report))]


def test_an_empty_stream() -> None:
    runtime, transport = client(ACCEPTED)
    runtime.complete_last(INVOCATION, Streamed("text/plain", [], Reports()))
    assert transport.sent == [HEAD, b"0\r\n\r\n"]


@pytest.mark.parametrize("name", ["Bad\r\nInjected: 1", "Bad\nName"])
def test_an_error_type_cannot_break_the_trailer_section(name: str) -> None:
    error = type(name, (Exception,), {})("boom")
    runtime, transport = client(ACCEPTED)
    runtime.complete_last(INVOCATION, Streamed("text/plain", chunks(b"x", then=error), Reports()))
    _, _, trailers = read_back(b"".join(transport.sent))
    assert trailers[0] == (
        b"lambda-runtime-function-error-type",
        name.replace("\r", " ").replace("\n", " ").encode(),
    )
    assert len(trailers) == 2


def test_a_rejected_stream_is_logged() -> None:
    transport = FakeTransport([Response(413, {}, b"")])
    log: list[str] = []
    runtime = RuntimeClient(transport, BUILDER, log.append, Retry(attempts=1))
    runtime.complete_last(INVOCATION, Streamed("text/plain", [b"x"], Reports()))
    assert "invocation r1: response rejected: the response is larger" in log[0]


def test_outcomes_show_what_they_hold() -> None:
    assert repr(Buffered(b"{}", "application/json")) == "Buffered(b'{}', 'application/json')"
    assert repr(Failed(ErrorReport("ValueError", b"{}"))) == "Failed('ValueError')"
    assert repr(Streamed("text/plain", [b"x"], Reports())) == "Streamed('text/plain', [b'x'])"
