"""What a connection holds: pipelined input and unread bodies stay bounded."""

from __future__ import annotations

import asyncio
import select
import socket
import threading
import tracemalloc

from emulator.http import BodyTooLarge, Request, Response
from tests.unit_emulator.http.serving import Served, read_until_closed, read_until_gone, responses

MB = 1024 * 1024


class Slow:
    """GET /slow waits on an Event the test sets; every other request is answered at once."""

    def __init__(self) -> None:
        self.release = asyncio.Event()

    async def __call__(self, request: Request) -> Response:
        if request.path == "/slow":
            await self.release.wait()
        return Response(200, [], request.path.encode())


def send_all(sock: socket.socket, data: bytes, stalled: threading.Event) -> None:
    """Sends ``data``; sets ``stalled`` when the peer took nothing for a second.

    The server is in this process: when it stops reading, the kernel's
    buffers fill and the send cannot go on. A second of no progress is only
    used to decide when to release the slow handler, never to pass.
    """
    view = memoryview(data)
    while view:  # a socket with a timeout sends what fits and returns
        _, writable, _ = select.select([], [sock], [], 1.0)
        if not writable:
            stalled.set()
            continue
        view = view[sock.send(view) :]
    stalled.set()


def test_100_mb_pipelined_behind_a_slow_request_is_not_held() -> None:
    pad = b"x" * MB
    pipelined = b"".join(
        b"GET /%d HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n" % (i, pad) for i in range(100)
    )
    request = b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n" + pipelined
    request += b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    slow = Slow()
    with Served(slow) as served, served.connect(60) as sock:
        stalled = threading.Event()
        answers: list[bytes] = []
        reader = threading.Thread(target=lambda: answers.append(read_until_closed(sock)))
        tracemalloc.start()
        try:
            reader.start()
            sender = threading.Thread(target=send_all, args=(sock, request, stalled))
            sender.start()
            assert stalled.wait(60)
            peak_while_held = tracemalloc.get_traced_memory()[1]
            served.call(slow.release.set)
            sender.join(60)
            reader.join(60)
        finally:
            tracemalloc.stop()
    assert peak_while_held < 20 * MB
    statuses = responses(answers[0])
    assert statuses == [b"HTTP/1.1 200 OK"] * 102


def test_an_answer_before_the_body_comes_at_once_and_closes() -> None:
    async def refuse(request: Request) -> Response:
        return Response(413, [], b"too large")

    with Served(refuse) as served, served.connect(5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 62914560\r\n\r\n")
        sock.sendall(b"x" * MB)  # and no more: the answer must not wait for the rest
        data = read_until_closed(sock)
    assert responses(data) == [b"HTTP/1.1 413 Request Entity Too Large"]
    assert b"connection: close" in data.lower()


def refuse_past(limit: int, seen: list[BodyTooLarge]) -> object:
    async def handler(request: Request) -> Response:
        try:
            await request.read(limit=limit)
        except BodyTooLarge as exc:
            seen.append(exc)
            return Response(413, [], b"too large")
        return Response(200)

    return handler


def test_a_declared_length_past_the_limit_is_refused_unread(loop: str) -> None:
    seen: list[BodyTooLarge] = []
    with Served(refuse_past(6 * MB, seen), loop=loop) as served, served.connect(10) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 62914560\r\n\r\n")
        data = read_until_closed(sock)  # not one byte of the body was sent
    assert responses(data) == [b"HTTP/1.1 413 Request Entity Too Large"]
    assert b"connection: close" in data.lower()
    assert [(exc.limit, exc.size) for exc in seen] == [(6 * MB, 60 * MB)]


def test_a_chunked_body_past_the_limit_is_refused_as_it_passes(loop: str) -> None:
    seen: list[BodyTooLarge] = []
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b"x" * 64 * 1024)
    with Served(refuse_past(MB, seen), loop=loop) as served, served.connect(30) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        stalled = threading.Event()
        sender = threading.Thread(target=send_all, args=(sock, chunk * 1000, stalled))
        sender.start()  # 64 MB, or until the server stops taking it
        data = read_until_gone(sock)
        sender.join(30)
    assert responses(data) == [b"HTTP/1.1 413 Request Entity Too Large"]
    (exc,) = seen
    assert exc.limit == MB
    assert exc.size is not None and MB < exc.size <= MB + 64 * 1024


def test_a_body_nobody_reads_stops_the_socket_until_it_is_read(loop: str) -> None:
    release = asyncio.Event()

    async def late_reader(request: Request) -> Response:
        await release.wait()
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return Response(200, [], str(size).encode())

    size = 100 * MB
    head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
    request = head % size + b"x" * size  # made before memory is traced
    with Served(late_reader, loop=loop) as served, served.connect(60) as sock:
        stalled = threading.Event()
        tracemalloc.start()
        try:
            sender = threading.Thread(target=send_all, args=(sock, request, stalled))
            sender.start()
            assert stalled.wait(60)
            peak_while_held = tracemalloc.get_traced_memory()[1]
            served.call(release.set)
            data = read_until_closed(sock)
            sender.join(60)
        finally:
            tracemalloc.stop()
    assert peak_while_held < 20 * MB
    assert data.endswith(b"\r\n\r\n%d" % size)
