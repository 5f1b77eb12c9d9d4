"""A Streamed outcome posted through FakeTransport: chunked, in streaming mode, errors in trailers."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator

import h11
import pytest

from ric.client import Retry, RuntimeClient
from ric.errors import TransportError
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
RESET = TransportError("Runtime API at 127.0.0.1:9001: [Errno 104] Connection reset by peer")


class Reports:
    """The ``fail`` of a stream: reports as a buffered error would post them, and keeps them."""

    def __init__(self) -> None:
        self.made: list[ErrorReport] = []

    def __call__(self, exc: Exception) -> ErrorReport:
        report = user_report(exc, "r1", "/cwd")
        self.made.append(report)
        return report


class Body:
    """A generator of chunks that notes how far it went and whether it was closed."""

    def __init__(self, *parts: bytes, then: Exception | None = None) -> None:
        self.parts = parts
        self.then = then
        self.given = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            for part in self.parts:
                yield part
                self.given += 1
            if self.then is not None:
                raise self.then
        finally:
            self.closed = True


def client(
    *script: Response | TransportError, failing: dict[int, TransportError] | None = None
) -> tuple[RuntimeClient, FakeTransport, list[str]]:
    transport = FakeTransport(script, failing)
    log: list[str] = []
    return RuntimeClient(transport, BUILDER, log.append, Retry(attempts=1)), transport, log


def stream(
    body: Body | list[bytes], reports: Reports | None = None, prelude: bytes = b""
) -> Streamed:
    chunks = iter(body)
    return Streamed("text/plain", chunks, reports or Reports(), prelude)


def warning(message: str) -> str:
    return rf"\[WARNING\] \[\d+\] LAMBDA_RUNTIME {re.escape(message)}\n"


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


def test_chunks_are_sent_as_they_come_then_the_connection_is_closed() -> None:
    runtime, transport, log = client(ACCEPTED, NEXT_EVENT)
    assert runtime.complete(INVOCATION, stream(Body(b"hello ", b"", b"world"))).request_id == "r2"
    # One write per chunk, none for the empty one; nothing pipelined behind the
    # last chunk: the connection is closed, and GET /next goes on a new one.
    assert transport.sent == [
        HEAD + b"6\r\nhello \r\n",
        b"5\r\nworld\r\n",
        b"0\r\n\r\n",
        NEXT,
    ]
    assert transport.closes == 1
    request, body, trailers = read_back(b"".join(transport.sent[:3]))
    assert (request.method, request.target) == (
        b"POST",
        b"/2018-06-01/runtime/invocation/r1/response",
    )
    assert (body, trailers) == (b"hello world", [])
    assert log == []


def test_the_prelude_goes_in_the_first_write() -> None:
    runtime, transport, _ = client(ACCEPTED)
    runtime.complete_last(INVOCATION, stream([b"body"], prelude=b'{"a":1}' + bytes(8)))
    assert transport.sent == [
        HEAD + b"f\r\n" + b'{"a":1}' + bytes(8) + b"\r\n4\r\nbody\r\n",
        b"0\r\n\r\n",
    ]


def test_an_empty_stream_still_sends_its_head_and_prelude() -> None:
    runtime, transport, _ = client(ACCEPTED)
    runtime.complete_last(INVOCATION, stream([], prelude=b"{}" + bytes(8)))
    assert transport.sent == [HEAD + b"a\r\n{}" + bytes(8) + b"\r\n", b"0\r\n\r\n"]


def test_an_error_after_the_first_chunk_goes_in_the_trailers() -> None:
    reports = Reports()
    body = Body(b"partial", then=KeyError("gone"))
    runtime, transport, log = client(ACCEPTED, NEXT_EVENT)
    assert runtime.complete(INVOCATION, stream(body, reports)).request_id == "r2"
    _, data, trailers = read_back(b"".join(transport.sent[:-1]))
    assert data == b"partial"
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
    assert transport.sent[-1] == NEXT
    assert log == []


def test_an_error_before_the_first_chunk_is_an_error_post() -> None:
    reports = Reports()
    body = Body(then=ValueError("no"))
    runtime, transport, _ = client(ACCEPTED, NEXT_EVENT)
    assert runtime.complete(INVOCATION, stream(body, reports)).request_id == "r2"
    (report,) = reports.made
    # As a buffered error: /error, with GET /next pipelined behind it.
    assert transport.sent == [b"".join(BUILDER.error(INVOCATION, report)) + NEXT]
    assert transport.closes == 0
    assert body.closed


@pytest.mark.parametrize("name", ["Bad\r\nInjected: 1", "Bad\nName"])
def test_an_error_type_cannot_break_the_trailer_section(name: str) -> None:
    error = type(name, (Exception,), {})("boom")
    runtime, transport, _ = client(ACCEPTED)
    runtime.complete_last(INVOCATION, stream(Body(b"x", then=error)))
    _, _, trailers = read_back(b"".join(transport.sent))
    assert trailers[0] == (
        b"lambda-runtime-function-error-type",
        name.replace("\r", " ").replace("\n", " ").encode(),
    )
    assert len(trailers) == 2


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (410, "the invocation had already ended (410 Gone, e.g. timed out)"),
        (413, "the response is larger than the Runtime API accepts (413)"),
    ],
)
def test_a_rejected_stream_is_logged_and_the_loop_goes_on(status: int, reason: str) -> None:
    runtime, transport, log = client(Response(status, {}, b""), NEXT_EVENT)
    assert runtime.complete(INVOCATION, stream([b"x"])).request_id == "r2"
    assert transport.sent[-1] == NEXT
    (line,) = log
    assert re.fullmatch(warning(f"invocation r1: response rejected: {reason}"), line)


def test_an_early_answer_is_reported_when_a_send_fails() -> None:
    # The Runtime API answered 413 and closed while chunks were still coming.
    body = Body(b"one", b"two", b"three", b"four")
    early = Response(413, {}, b'{"errorType":"RequestEntityTooLarge"}')
    runtime, transport, log = client(early, NEXT_EVENT, failing={1: RESET})
    assert runtime.complete(INVOCATION, stream(body)).request_id == "r2"
    assert transport.sent == [HEAD + b"3\r\none\r\n", NEXT]
    (line,) = log
    assert re.fullmatch(
        warning(
            "invocation r1: response rejected: "
            "the response is larger than the Runtime API accepts (413)"
        ),
        line,
    )
    # The body was not read further, and its generator was closed.
    assert (body.given, body.closed) == (1, True)
    assert transport.closes == 1


@pytest.mark.parametrize("failing_send", [0, 1, 2], ids=["head", "chunk", "last-chunk"])
def test_a_reset_stream_is_logged_and_the_loop_goes_on(failing_send: int) -> None:
    body = Body(b"one", b"two")
    runtime, transport, log = client(
        TransportError("connection closed before the response"),
        NEXT_EVENT,
        failing={failing_send: RESET},
    )
    assert runtime.complete(INVOCATION, stream(body)).request_id == "r2"
    assert transport.sent[-1] == NEXT
    (line,) = log
    assert re.fullmatch(warning(f"invocation r1: response not delivered: {RESET}"), line)
    assert body.closed


class Source:
    """An iterator (not a generator) with a ``close`` that may raise, as a file's may."""

    def __init__(self, *parts: bytes, then: Exception | None = None) -> None:
        self._parts = iter(parts)
        self._then = then
        self.close_error: Exception | None = None

    def __iter__(self) -> Source:
        return self

    def __next__(self) -> bytes:
        part = next(self._parts, None)
        if part is not None:
            return part
        if self._then is not None:
            raise self._then
        raise StopIteration

    def close(self) -> None:
        if self.close_error is not None:
            raise self.close_error


def test_a_generator_that_raises_when_closed_early_is_logged() -> None:
    def generator() -> Iterator[bytes]:
        try:
            yield b"one"
            yield b"two"
        finally:
            raise OSError("cleanup failed")

    reports = Reports()
    runtime, _, log = client(TransportError("closed"), failing={1: RESET})
    runtime.complete_last(INVOCATION, Streamed("text/plain", generator(), reports))
    (report,) = reports.made  # fail() logs it
    assert report.error_type == "OSError"
    (line,) = log
    assert "response not delivered" in line


def test_a_close_error_after_the_end_goes_in_the_trailers() -> None:
    source = Source(b"a")
    source.close_error = OSError("cannot close")
    runtime, transport, _ = client(ACCEPTED)
    runtime.complete_last(INVOCATION, Streamed("text/plain", source, Reports()))
    _, data, trailers = read_back(b"".join(transport.sent))
    assert (data, trailers[0]) == (b"a", (b"lambda-runtime-function-error-type", b"OSError"))


def test_a_stream_error_then_a_close_error_reports_the_first_and_logs_both() -> None:
    source = Source(b"a", then=KeyError("first"))
    source.close_error = OSError("second")
    reports = Reports()
    runtime, transport, _ = client(ACCEPTED)
    runtime.complete_last(INVOCATION, Streamed("text/plain", source, reports))
    _, _, trailers = read_back(b"".join(transport.sent))
    assert trailers[0] == (b"lambda-runtime-function-error-type", b"KeyError")
    assert [report.error_type for report in reports.made] == ["KeyError", "OSError"]


def test_outcomes_show_what_they_hold() -> None:
    assert repr(Buffered(b"{}", "application/json")) == "Buffered(b'{}', 'application/json')"
    assert repr(Failed(ErrorReport("ValueError", b"{}"))) == "Failed('ValueError')"
    assert repr(Streamed("text/plain", [b"x"], Reports())) == "Streamed('text/plain', [b'x'])"
