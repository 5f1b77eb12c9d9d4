"""Connections as they are made and ended: accept, disconnects, stop(grace_s), IPv6."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from concurrent.futures import Future

import pytest

from emulator.http import ConnectionInfo, HttpServer, Request, Response
from tests.unit_emulator.http.serving import (
    Served,
    read_until_closed,
    read_until_gone,
    reset,
    responses,
)

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


class LongPoll:
    """A handler that waits until released; it records being cancelled."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = threading.Event()
        self.cancelled = threading.Event()

    async def __call__(self, request: Request) -> Response:
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return Response(200, [], b"event")


def test_a_peer_that_disconnects_cancels_its_handler(loop: str) -> None:
    poll = LongPoll()
    with Served(poll, loop=loop) as served:
        sock = served.connect()
        sock.sendall(GET)
        assert poll.started.wait(10)
        reset(sock)
        assert poll.cancelled.wait(10)


def test_a_long_poll_learns_that_its_peer_closed_its_side(loop: str) -> None:
    gone = threading.Event()

    async def handler(request: Request) -> Response:
        request.when_peer_gone(gone.set)
        await asyncio.sleep(30)  # a long poll: its client closed, it is not cancelled
        return Response(200)

    with Served(handler, loop=loop) as served:
        sock = served.connect()
        sock.sendall(GET)
        sock.shutdown(socket.SHUT_WR)  # what a killed process's socket does first
        assert gone.wait(10)
        sock.close()


def test_an_answer_to_a_peer_that_closed_amid_its_body_is_dropped_quietly(loop: str) -> None:
    # A runtime killed while it streamed: its socket closed with body bytes the
    # server had not read yet, so the answer meets a reset as it goes out.
    poll = LongPoll()
    with Served(poll, loop=loop) as served:
        sock = served.connect()
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        assert poll.started.wait(10)
        sock.setblocking(False)
        with contextlib.suppress(BlockingIOError):  # until the server stops reading
            while True:
                sock.send(b"10000\r\n" + b"x" * 0x10000 + b"\r\n")
        sock.close()
        served.call(poll.release.set)
        served.run(all_closed(served))
    assert served.errors == []


async def all_closed(served: Served) -> None:
    assert served.server is not None
    await asyncio.gather(*(c.closed for c in list(served.server._connections)))


def test_accept_refuses_a_connection_before_anything_is_sent(loop: str) -> None:
    seen: list[ConnectionInfo] = []
    poll = LongPoll()

    def accept(info: ConnectionInfo) -> bool:
        seen.append(info)
        return False

    with Served(poll, loop=loop, accept=accept) as served, served.connect() as sock:
        client, server = sock.getsockname(), sock.getpeername()
        with contextlib.suppress(ConnectionError):  # the reset may come first
            sock.sendall(GET)
        assert read_until_gone(sock) == b""
    assert seen == [ConnectionInfo(peer=client, local=server)]
    assert not poll.started.is_set()


def stopping(served: Served, grace_s: float) -> Future[None]:
    assert served.server is not None
    server: HttpServer = served.server
    return asyncio.run_coroutine_threadsafe(server.stop(grace_s), served._loop)


def test_stop_closes_idle_connections_and_lets_answers_finish(loop: str) -> None:
    poll = LongPoll()
    with Served(poll, loop=loop) as served:
        busy, idle = served.connect(), served.connect()
        with busy, idle:
            busy.sendall(GET + GET)  # the second is never served: the server stops
            assert poll.started.wait(10)
            stopped = stopping(served, grace_s=60)
            assert idle.recv(1) == b""  # idle: closed at once
            assert not stopped.done()
            served.call(poll.release.set)
            data = read_until_closed(busy)
            stopped.result(10)
    assert responses(data) == [b"HTTP/1.1 200 OK"]
    assert b"connection: close" in data.lower()


def test_stop_aborts_what_is_left_after_the_grace_period(loop: str) -> None:
    poll = LongPoll()
    with Served(poll, loop=loop) as served, served.connect() as busy:
        busy.sendall(GET)
        assert poll.started.wait(10)
        stopping(served, grace_s=0.1).result(10)
        assert poll.cancelled.is_set()
        assert read_until_gone(busy) == b""


def test_stop_is_safe_twice_and_before_start() -> None:
    async def scenario() -> None:
        server = HttpServer(LongPoll())
        await server.stop()
        await server.start()
        await server.stop()
        await server.stop()

    asyncio.run(scenario())


def ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not ipv6(), reason="no IPv6 loopback here")
def test_ipv6(loop: str) -> None:
    async def peer(request: Request) -> Response:
        return Response(200, [], str(request.peer).encode())

    with Served(peer, host="::1", loop=loop) as served, served.connect() as sock:
        assert served.server is not None
        assert served.server.address == f"[::1]:{served.port}"
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = read_until_closed(sock)
        client = sock.getsockname()[:2]
    assert data.endswith(str(client).encode())
