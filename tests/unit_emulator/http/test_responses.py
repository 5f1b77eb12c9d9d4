"""Responses on the wire: Content-Length, chunked as produced, trailers, flow control, errors."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator

import pytest

from emulator.http import Request, Response
from tests.unit_emulator.http.serving import (
    Served,
    read_until,
    read_until_closed,
    read_until_gone,
    reset,
    responses,
)

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
GET_LAST = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
MB = 1024 * 1024


def answer(response: Response) -> object:
    async def handler(request: Request) -> Response:
        return response

    return handler


def test_a_small_bytes_body_has_a_content_length_and_one_segment(loop: str) -> None:
    body = b"x" * 1000
    handler = answer(Response(200, [("X-A", "1")], body))
    with Served(handler, loop=loop) as served, served.connect() as sock:
        sock.sendall(GET)
        first = sock.recv(65536)  # one write: head and body arrive together
    assert first == b"HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 1000\r\n\r\n" + body


@pytest.mark.parametrize("status", [204, 304])
def test_no_content_length_without_a_body(status: int) -> None:
    with Served(answer(Response(status))) as served, served.connect() as sock:
        sock.sendall(GET_LAST)
        data = read_until_closed(sock)
    assert b"content-length" not in data.lower()
    assert data.endswith(b"\r\n\r\n")


def test_a_large_bytes_body_arrives_whole(loop: str) -> None:
    body = bytes(range(256)) * (32 * 1024)  # 8 MB
    with Served(answer(Response(200, [], body)), loop=loop) as served, served.connect() as sock:
        sock.sendall(GET_LAST)
        data = read_until_closed(sock)
    head, _, received = data.partition(b"\r\n\r\n")
    assert b"Content-Length: 8388608" in head
    assert received == body


class Stream:
    """A body that yields "first", an empty chunk, then "second" once the test says so."""

    def __init__(self) -> None:
        self.more = asyncio.Event()
        self.closed = threading.Event()
        self.sent: list[bool] = []

    async def body(self) -> AsyncIterator[bytes]:
        try:
            yield b"first"
            yield b""
            await self.more.wait()
            yield b"second"
        finally:
            self.closed.set()

    async def handler(self, request: Request) -> Response:
        return Response(
            200,
            [("Trailer", "X-Checksum")],
            self.body(),
            trailers=lambda: [("X-Checksum", "abc")],
            on_sent=self.sent.append,
        )


def test_a_streamed_body_is_chunked_as_produced_with_trailers(loop: str) -> None:
    stream = Stream()
    with Served(stream.handler, loop=loop) as served, served.connect() as sock:
        sock.sendall(GET_LAST)
        # "first" arrives while the handler is still waiting to produce "second".
        head = read_until(sock, b"5\r\nfirst\r\n")
        served.call(stream.more.set)
        rest = read_until_closed(sock)
    assert b"transfer-encoding: chunked" in head.lower()
    assert head.endswith(b"\r\n\r\n5\r\nfirst\r\n")
    assert rest == b"6\r\nsecond\r\n0\r\nX-Checksum: abc\r\n\r\n"
    assert stream.sent == [True]


def test_an_http_1_0_peer_gets_a_body_delimited_by_close() -> None:
    stream = Stream()
    stream.more.set()
    with Served(stream.handler) as served, served.connect() as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = read_until_closed(sock)
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"transfer-encoding" not in head.lower()
    assert body == b"firstsecond"  # no trailers: HTTP/1.0 has none


def test_a_bytes_body_with_trailers_is_one_chunk() -> None:
    response = Response(200, [("Trailer", "X-T")], b"whole", trailers=lambda: [("X-T", "1")])
    with Served(answer(response)) as served, served.connect() as sock:
        sock.sendall(GET_LAST)
        data = read_until_closed(sock)
    assert data.endswith(b"\r\n\r\n5\r\nwhole\r\n0\r\nX-T: 1\r\n\r\n")


def test_a_body_that_raises_is_logged_and_never_ends_cleanly(loop: str) -> None:
    proceed = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield b"part"
        await proceed.wait()
        raise RuntimeError("the body broke")

    with Served(answer(Response(200, [], body())), loop=loop) as served:
        with served.connect() as sock:
            sock.sendall(GET + GET)
            data = read_until(sock, b"4\r\npart\r\n")
            served.call(proceed.set)
            data += read_until_gone(sock)
        assert any("error streaming" in error for error in served.errors)
    assert data.endswith(b"4\r\npart\r\n")  # no last chunk, and no answer to the second GET
    assert len(responses(data)) == 1


def test_a_peer_gone_mid_stream_closes_the_body_and_reports_not_sent(loop: str) -> None:
    stream = Stream()
    reported = threading.Event()

    async def handler(request: Request) -> Response:
        response = await stream.handler(request)

        def on_sent(sent: bool) -> None:
            stream.sent.append(sent)
            reported.set()

        response.on_sent = on_sent
        return response

    with Served(handler, loop=loop) as served:
        sock = served.connect()
        sock.sendall(GET)
        read_until(sock, b"first\r\n")
        reset(sock)
        assert reported.wait(10)
        assert stream.closed.wait(10)
    assert stream.sent == [False]


def test_a_stream_waits_for_a_slow_reader(loop: str) -> None:
    """Flow control: the body is pulled only as fast as the peer takes it."""
    consumed = [0]
    lag = [0]

    async def body() -> AsyncIterator[bytes]:
        chunk = b"x" * MB
        for produced in range(0, 100 * MB, MB):
            lag[0] = max(lag[0], produced - consumed[0])
            yield chunk

    with Served(answer(Response(200, [], body())), loop=loop) as served:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        sock.settimeout(30)
        sock.connect(("127.0.0.1", served.port))
        with sock:
            sock.sendall(GET_LAST)
            while chunk := sock.recv(64 * 1024):
                consumed[0] += len(chunk)
    assert consumed[0] > 100 * MB
    # Kernel buffers on both sides and the write buffer, never the whole body.
    assert lag[0] < 32 * MB


def test_head_of_a_streamed_answer_closes_the_body_and_keeps_the_connection() -> None:
    bodies: list[AsyncIterator[bytes]] = []

    async def handler(request: Request) -> Response:
        bodies.append(Stream().body())
        return Response(200, [], bodies[-1])

    with Served(handler) as served, served.connect() as sock:
        sock.sendall(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n" + GET_LAST.replace(b"GET", b"HEAD"))
        data = read_until_closed(sock)
    assert responses(data) == [b"HTTP/1.1 200 OK"] * 2
    assert data.count(b"Transfer-Encoding: chunked") == 2  # what a GET would have
    assert data.endswith(b"\r\n\r\n")
    assert b"first" not in data
    assert [body.ag_frame for body in bodies] == [None, None]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "response",
    [
        Response(200, [("Bad Name", "x")]),
        Response(200, [("X-A", "line\nbreak")]),
        Response(200, [("X-Ä", "x")]),
        Response(101),
    ],
    ids=["space-in-name", "newline-in-value", "non-ascii-name", "informational"],
)
def test_an_invalid_answer_is_a_500(response: Response) -> None:
    sent: list[bool] = []
    response.on_sent = sent.append
    with Served(answer(response)) as served, served.connect() as sock:
        sock.sendall(GET_LAST)
        data = read_until_closed(sock)
        assert any("invalid answer" in error for error in served.errors)
    assert data.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert b'"errorType": "ServiceException"' in data
    assert b"x-amzn-errortype: serviceexception" in data.lower()
    assert sent == [False]
