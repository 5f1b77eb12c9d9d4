"""The listening side: connections accepted, counted, and closed on stop()."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from emulator.http.connection import Connection
from emulator.http.messages import ConnectionInfo, Handler, Limits

__all__ = ["HttpServer"]


class HttpServer:
    """Serves ``handler`` on ``host:port`` (port 0: any free port) until stopped.

    ``accept`` is asked about each connection as it is made: False aborts
    it at once, before anything is read or sent.
    """

    def __init__(
        self,
        handler: Handler,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: Limits = Limits(),  # noqa: B008 - frozen, so one shared default is safe
        accept: Callable[[ConnectionInfo], bool] | None = None,
    ) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self._limits = limits
        self._accept = accept
        self._server: asyncio.Server | None = None
        self._connections: set[Connection] = set()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._connection, self._host, self._port)

    @property
    def port(self) -> int:
        assert self._server is not None, "start() first"
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def address(self) -> str:
        """``host:port``, an IPv6 host in brackets as a URL has it (RFC 3986 section 3.2.2)."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{host}:{self.port}"

    async def stop(self, grace_s: float = 0.0) -> None:
        """Stop listening, close idle connections, give the rest ``grace_s`` to finish.

        What is left after the grace period is aborted (a handler still
        running is cancelled); returns once every connection is gone.
        """
        if self._server is None:
            return
        self._server.close()
        connections = list(self._connections)
        for connection in connections:
            connection.shutdown()
        pending = [connection.closed for connection in connections]
        if pending and grace_s > 0:
            await asyncio.wait(pending, timeout=grace_s)
        for connection in connections:
            connection.abort()
        await asyncio.gather(*pending)
        await self._server.wait_closed()
        self._server = None

    def _connection(self) -> Connection:
        return Connection(self._handler, self._limits, self._accept, self._connections)
