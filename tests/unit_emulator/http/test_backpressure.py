"""What a connection holds: pipelined input and unread bodies stay bounded."""

from __future__ import annotations

import asyncio
import select
import socket
import threading
import tracemalloc

import pytest

from emulator.http import Request, Response
from tests.unit_emulator.http.serving import Served, read_until_closed, responses

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
    sock.setblocking(False)
    while view:
        _, writable, _ = select.select([], [sock], [], 1.0)
        if not writable:
            stalled.set()
            continue
        view = view[sock.send(view) :]
    stalled.set()


@pytest.mark.xfail(strict=True, reason="the pipelined 100 MB is buffered")
def test_100_mb_pipelined_behind_a_slow_request_is_not_held() -> None:
    pad = b"x" * MB
    pipelined = b"".join(
        b"GET /%d HTTP/1.1\r\nHost: x\r\nX-Pad: %s\r\n\r\n" % (i, pad) for i in range(100)
    )
    request = b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n" + pipelined
    request += b"GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    slow = Slow()
    with Served(slow) as served, served.connect() as sock:
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
            sock.setblocking(True)
            reader.join(60)
        finally:
            tracemalloc.stop()
    assert peak_while_held < 20 * MB
    statuses = list(responses(answers[0]))
    assert statuses == [b"HTTP/1.1 200 OK"] * 102


@pytest.mark.xfail(strict=True, reason="a 60 MB body is buffered before its answer")
def test_an_answer_before_the_body_comes_at_once_and_closes() -> None:
    async def refuse(request: Request) -> Response:
        return Response(413, [], b"too large")

    with Served(refuse) as served, served.connect(5) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 62914560\r\n\r\n")
        sock.sendall(b"x" * MB)  # and no more: the answer must not wait for the rest
        data = read_until_closed(sock)
    assert list(responses(data)) == [b"HTTP/1.1 413 Request Entity Too Large"]
    assert b"connection: close" in data.lower()
