"""The raw callers: responses timed as fed (no I/O), then over a scripted loopback server."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from stream_callers import CallFailed, RawCaller, TimedResponse, invoke_target, request
from stream_timing import stamp

from emulator.protocols import eventstream

STAMPED = stamp(1_000) + b"s" * 10
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


FRAMED = (
    CHUNKED
    + _chunk(eventstream.payload_chunk(STAMPED))
    + _chunk(eventstream.payload_chunk(b"t" * 70))
    + _chunk(eventstream.invoke_complete())
    + b"0\r\n\r\n"
)
PLAIN = CHUNKED + _chunk(STAMPED) + _chunk(b"t" * 70) + b"0\r\n\r\n"


def _feed(response: TimedResponse, wire: bytes, cut: int, start: int = 2_000) -> int:
    """Feed ``wire`` ``cut`` bytes at a time, the n-th piece arrived at start + n and
    read at start + n + 1000; the bytes used."""
    used = 0
    for n, i in enumerate(range(0, len(wire), cut)):
        used += response.feed(memoryview(wire[i : i + cut]), start + n, start + n + 1000)
    return used


def test_the_request() -> None:
    assert request("127.0.0.1:9", "/x", b'{"a":1}') == (
        b"POST /x HTTP/1.1\r\nHost: 127.0.0.1:9\r\nContent-Type: application/json\r\n"
        b'Content-Length: 7\r\n\r\n{"a":1}'
    )
    assert invoke_target("f") == "/2021-11-15/functions/f/response-streaming-invocations"


def test_an_event_stream_is_timed_by_its_payload() -> None:
    response = TimedResponse(framed=True)
    # 50 bytes at a time: the first byte is in the piece that holds the payload's first
    # byte, not the frame's prelude and headers before it.
    assert _feed(response, FRAMED, 50) == len(FRAMED)
    assert response.done and not response.closes
    timed = response.records()
    first, last = FRAMED.index(STAMPED) // 50, (len(FRAMED) - 1) // 50
    assert first > 1
    arrived, read = timed.arrived, timed.read
    assert (arrived.data_bytes, arrived.chunks, arrived.stamp_ns) == (100, 2, 1_000)
    assert (arrived.first_byte_ns, arrived.last_byte_ns) == (2_000 + first, 2_000 + last)
    assert (read.first_byte_ns, read.last_byte_ns) == (3_000 + first, 3_000 + last)
    assert arrived.streamed and arrived.error_type is None


def test_a_url_body_is_timed_by_its_bytes() -> None:
    response = TimedResponse(framed=False)
    assert _feed(response, PLAIN, len(PLAIN)) == len(PLAIN)
    timed = response.records()
    assert (timed.arrived.data_bytes, timed.arrived.chunks, timed.arrived.first_byte_ns) == (
        100,
        2,
        2_000,
    )
    sized = b"HTTP/1.1 200 OK\r\nContent-Length: 30\r\nConnection: close\r\n\r\n" + STAMPED
    response = TimedResponse(framed=False)
    assert _feed(response, sized + b"next", 1000) == len(sized)
    assert response.closes
    assert not response.records().arrived.streamed


def test_a_function_error_is_kept() -> None:
    failed = eventstream.invoke_complete("Handler.Late", "{}")
    wire = CHUNKED + _chunk(eventstream.payload_chunk(STAMPED) + failed) + b"0\r\n\r\n"
    response = TimedResponse(framed=True)
    _feed(response, wire, 7)
    assert response.records().arrived.error_type == "Handler.Late"


def test_what_is_not_a_whole_stream_fails() -> None:
    with pytest.raises(CallFailed, match=r"429: .*Rate Exceeded"):
        TimedResponse(False).feed(
            memoryview(b'HTTP/1.1 429 Too Many\r\nContent-Length: 12\r\n\r\n{"Rate Exceeded'),
            0,
            0,
        )
    unfinished = TimedResponse(True)
    _feed(unfinished, FRAMED[:-20], 10)
    with pytest.raises(ValueError, match="not over"):
        unfinished.records()
    no_end = CHUNKED + _chunk(eventstream.payload_chunk(STAMPED)) + b"0\r\n\r\n"
    response = TimedResponse(True)
    _feed(response, no_end, 1000)
    with pytest.raises(CallFailed, match="without InvokeComplete"):
        response.records()


class _Server:
    """Answers each request on loopback with the next of ``answers``, on one connection
    until an answer says ``Connection: close`` (or after each, ``hang_up``); keeps the
    requests."""

    def __init__(self, answers: list[bytes], hang_up: bool = False) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.answers = answers
        self.hang_up = hang_up
        self.requests: list[bytes] = []
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        answers = list(self.answers)
        while answers:
            sock, _ = self.listener.accept()
            self.connections += 1
            with sock:
                while answers:
                    self.requests.append(sock.recv(65536))
                    answer = answers.pop(0)
                    sock.sendall(answer)
                    if self.hang_up or b"Connection: close" in answer.split(b"\r\n\r\n")[0]:
                        break

    def close(self) -> None:
        self.thread.join(10)
        self.listener.close()


@pytest.fixture
def serve() -> Iterator[list[_Server]]:
    servers: list[_Server] = []
    yield servers
    for server in servers:
        server.close()


def test_a_raw_caller_keeps_its_connection_until_told(serve: list[_Server]) -> None:
    closing = PLAIN.replace(b"chunked\r\n", b"chunked\r\nConnection: close\r\n")
    server = _Server([FRAMED, closing, PLAIN])
    serve.append(server)
    caller = RawCaller(server.url + "/")
    first = caller.call(invoke_target("f"), b"{}", framed=True)
    second = caller.call("/", b"{}", framed=False)
    third = caller.call("/", b"{}", framed=False)
    caller.close()
    assert [t.arrived.data_bytes for t in (first, second, third)] == [100, 100, 100]
    assert first.arrived.stamp_ns == 1_000
    assert first.read.first_byte_ns >= first.arrived.first_byte_ns
    assert server.connections == 2  # a new one after the answer that said close
    assert server.requests[0].startswith(b"POST /2021-11-15/functions/f/response-streaming")


@pytest.mark.parametrize(
    ("answer", "framed", "message"),
    [(FRAMED[:-10], True, "hung up"), (PLAIN + b"extra", False, "bytes after")],
    ids=["hung-up", "bytes-after"],
)
def test_a_raw_caller_refuses_a_broken_answer(
    serve: list[_Server], answer: bytes, framed: bool, message: str
) -> None:
    server = _Server([answer], hang_up=True)
    serve.append(server)
    caller = RawCaller(server.url)
    with pytest.raises(CallFailed, match=message):
        caller.call("/", b"{}", framed)
    caller.close()


def test_a_raw_caller_wants_a_host_and_port() -> None:
    with pytest.raises(ValueError, match="HOST:PORT"):
        RawCaller("http://localhost/")
