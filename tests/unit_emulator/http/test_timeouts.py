"""Idle, header and body timeouts: connections that hold a descriptor and do nothing are closed.

Each test waits on the connection's end (EOF), never on a sleep: the short
timeouts set here are what ends them.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import textwrap
import threading

from emulator.http import Limits, Request, Response
from tests.unit_emulator.http.serving import Served, read_until_closed, read_until_gone, responses

SHORT = Limits(idle_timeout_s=0.2, header_timeout_s=0.2, body_timeout_s=0.2)


async def ok(request: Request) -> Response:
    await request.read()
    return Response(200, [], b"ok")


def test_a_connection_that_sends_nothing_is_closed(loop: str) -> None:
    with Served(ok, loop=loop, limits=SHORT) as served, served.connect() as sock:
        assert sock.recv(1) == b""


def test_a_connection_idle_after_an_answer_is_closed(loop: str) -> None:
    with Served(ok, loop=loop, limits=SHORT) as served, served.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        data = read_until_closed(sock)
    assert responses(data) == [b"HTTP/1.1 200 OK"]


def test_a_head_that_does_not_complete_in_time_is_a_408(loop: str) -> None:
    limits = Limits(header_timeout_s=0.2)  # idle: two minutes, so the header timer ends it
    with Served(ok, loop=loop, limits=limits) as served, served.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        data = read_until_closed(sock)
    assert responses(data) == [b"HTTP/1.1 408 Request Timeout"]
    assert b"connection: close" in data.lower()


def test_a_body_that_stops_arriving_closes_the_connection(loop: str) -> None:
    with Served(ok, loop=loop, limits=SHORT) as served, served.connect() as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        assert read_until_gone(sock) == b""
        assert served.errors == []


def test_a_long_poll_is_never_idle(loop: str) -> None:
    release = asyncio.Event()
    started = threading.Event()

    async def long_poll(request: Request) -> Response:
        started.set()
        await release.wait()
        return Response(200, [], b"event")

    with Served(long_poll, loop=loop, limits=SHORT) as served, served.connect() as polling:
        polling.sendall(b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
        assert started.wait(10)
        for _ in range(2):  # two idle timeouts pass, as idle connections beside it show
            with served.connect() as idle:
                assert idle.recv(1) == b""
        served.call(release.set)
        data = read_until_closed(polling)  # then idle after its answer: closed
    assert data.endswith(b"\r\n\r\nevent")


SERVER = textwrap.dedent(
    """
    import asyncio, resource, sys
    from emulator.http import HttpServer, Limits, Response

    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    async def ok(request):
        return Response(200, [], b"ok")

    async def main():
        limits = Limits(idle_timeout_s=0.5, header_timeout_s=0.5)
        server = HttpServer(ok, limits=limits)
        await server.start()
        print(server.port, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
        await server.stop()

    if sys.argv[1] == "uvloop":
        import uvloop

        uvloop.run(main())
    else:
        asyncio.run(main())
    """
)


def test_silent_connections_beyond_the_descriptor_limit_are_closed_then_served(loop: str) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, loop],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # asyncio logs each accept() that failed with EMFILE
    )
    assert process.stdout is not None and process.stdin is not None
    try:
        port = int(process.stdout.readline())
        silent = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(300)]
        for sock in silent:  # each is accepted in turn and closed by its idle timeout
            with sock:
                assert read_until_gone(sock) == b""
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert read_until_closed(sock).endswith(b"\r\n\r\nok")
    finally:
        process.stdin.close()
        assert process.wait(30) == 0
        process.stdout.close()
