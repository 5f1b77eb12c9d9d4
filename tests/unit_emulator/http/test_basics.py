"""emulator.http on loopback: pipelining, chunked bodies, long polls, bad requests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

from emulator.http import HttpServer, Request, Response


async def echo(request: Request) -> Response:
    if request.path == "/wait":
        await asyncio.sleep(0.05)
    body = f"{request.method} {request.path} {(await request.read()).decode()}".encode()
    return Response(200, [("Content-Type", "text/plain")], body)


def exchange(raw: bytes, handler: Callable[[Request], Awaitable[Response]] = echo) -> bytes:
    """Send raw bytes to a fresh server, return everything it answered until it closes."""

    async def main() -> bytes:
        server = HttpServer(handler)
        await server.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(raw)
        await writer.drain()
        writer.write_eof()
        data = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        await server.stop()
        return data

    return asyncio.run(main())


def test_pipelined_requests_are_answered_in_order() -> None:
    raw = (
        b"GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"
        b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
    )
    answer = exchange(raw)
    first = answer.index(b"GET /wait ")
    second = answer.index(b"POST /b abc")
    assert first < second
    assert answer.count(b"HTTP/1.1 200 OK\r\n") == 2


def test_chunked_request_body() -> None:
    raw = (
        b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    )
    assert exchange(raw).endswith(b"POST /c abcde")


def test_malformed_request_is_a_400_and_closes() -> None:
    answer = exchange(b"NOT HTTP AT ALL\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"connection: close" in answer.lower()


def test_handler_bug_is_a_500_not_a_dead_connection() -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("oops")

    answer = exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", broken)
    assert answer.startswith(b"HTTP/1.1 500 ")
    assert b"oops" in answer


def test_server_sockets_use_tcp_nodelay() -> None:
    async def main() -> int:
        seen: list[int] = []
        server = HttpServer(echo)
        await server.start()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await reader.readuntil(b"GET / ")
        for connection in list(server._connections):
            sock = connection._transport.get_extra_info("socket")  # type: ignore[union-attr]
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()
        await server.stop()
        return seen[0]

    assert asyncio.run(main()) != 0
