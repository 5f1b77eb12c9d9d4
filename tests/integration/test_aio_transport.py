"""ric.aio_transport.AsyncConnection against a real loopback server: reuse, close, staleness."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

import pytest

from ric.aio_transport import AsyncConnection
from ric.errors import TransportError

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """A loopback server running ``serve`` per connection; counts the connections."""

    def __init__(self, serve: Serve) -> None:
        self._serve = serve
        self.connections = 0
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Server:
        async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self._serve(reader, writer)
            finally:
                writer.close()

        self._server = await asyncio.start_server(accepted, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()


async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, times: int) -> None:
    for _ in range(times):
        await reader.readuntil(b"\r\n\r\n")
        writer.write(OK)
        await writer.drain()


def test_requests_share_one_connection() -> None:
    async def main() -> None:
        async with Server(lambda r, w: answer(r, w, 2)) as server:
            connection = AsyncConnection("127.0.0.1", server.port)
            for _ in range(2):
                await connection.send((REQUEST,))
                response = await connection.receive()
                assert (response.status, response.body) == (200, b"ok")
            assert server.connections == 1
            connection.close()

    asyncio.run(main())


def test_an_answer_that_closes_is_followed_by_a_new_connection() -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(closing)

    async def main() -> None:
        async with Server(serve) as server:
            connection = AsyncConnection("127.0.0.1", server.port)
            for _ in range(2):
                await connection.send((REQUEST,))
                assert (await connection.receive()).body == b"ok"
                assert not connection.connected
            assert server.connections == 2

    asyncio.run(main())


def test_an_idle_connection_the_peer_closed_is_replaced_before_the_next_send() -> None:
    async def main() -> None:
        async with Server(lambda r, w: answer(r, w, 1)) as server:
            connection = AsyncConnection("127.0.0.1", server.port)
            await connection.send((REQUEST,))
            await connection.receive()
            await until_closed(connection)
            await connection.send((REQUEST,))
            assert (await connection.receive()).body == b"ok"
            assert server.connections == 2
            connection.close()

    asyncio.run(main())


async def until_closed(connection: AsyncConnection) -> None:
    """Let the loop read the peer's FIN: what close_if_stale looks for."""
    for _ in range(500):
        await asyncio.sleep(0.01)
        connection.close_if_stale()
        if not connection.connected:
            return
    raise AssertionError("the peer's close never arrived")


def test_a_response_cut_short_is_a_transport_error() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok")

    async def main() -> None:
        async with Server(serve) as server:
            connection = AsyncConnection("127.0.0.1", server.port)
            await connection.send((REQUEST,))
            with pytest.raises(TransportError):
                await connection.receive()
            assert not connection.connected

    asyncio.run(main())


def test_no_server_is_a_transport_error_naming_the_address() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]

    async def main() -> None:
        connection = AsyncConnection("127.0.0.1", port)
        with pytest.raises(TransportError, match=f"cannot connect to 127.0.0.1:{port}"):
            await connection.send((REQUEST,))
        with pytest.raises(TransportError, match="connection closed before the response"):
            await connection.receive()

    asyncio.run(main())
