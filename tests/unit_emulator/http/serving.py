"""An HttpServer on an event loop of its own thread, for tests that talk to it over sockets.

The test side uses plain blocking sockets; ``call`` runs something on the
server's loop (set an Event a handler waits on). A handler error that the
server logs is collected in ``errors`` for the test to assert on.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import struct
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from emulator.http import HttpServer

__all__ = [
    "Served",
    "new_loop",
    "read_until",
    "read_until_closed",
    "read_until_gone",
    "reset",
    "responses",
]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Served:
    """``with Served(handler, **server_options) as served:`` serves on 127.0.0.1, port 0."""

    def __init__(
        self, handler: Any, host: str = "127.0.0.1", loop: str = "asyncio", **options: Any
    ) -> None:
        self._handler = handler
        self._host = host
        self._options = options
        self._loop = new_loop(loop)
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._log = _Collect()
        self.server: HttpServer | None = None

    def __enter__(self) -> Served:
        logging.getLogger("emulator.http").addHandler(self._log)
        self._thread.start()
        self.server = self.run(self._start())
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            assert self.server is not None
            self.run(self.server.stop())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()
            logging.getLogger("emulator.http").removeHandler(self._log)

    async def _start(self) -> HttpServer:
        server = HttpServer(self._handler, self._host, **self._options)
        await server.start()
        return server

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.port

    @property
    def errors(self) -> list[str]:
        return [record.getMessage() for record in self._log.records]

    def run(self, coroutine: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server's loop and wait for its result."""
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result(timeout)

    def call(self, function: Callable[[], object]) -> None:
        self._loop.call_soon_threadsafe(function)

    def connect(self, timeout: float = 10) -> socket.socket:
        return socket.create_connection((self._host, self.port), timeout=timeout)


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    """An asyncio loop, or uvloop's (whose transports are not asyncio.Transport)."""
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes its side."""
    data = bytearray()
    while chunk := sock.recv(65536):
        data += chunk
    return bytes(data)


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    """What the server sends, up to and including ``marker``; an error if it closes first."""
    data = bytearray()
    while marker not in data:
        chunk = sock.recv(65536)
        assert chunk, f"closed before {marker!r}: {bytes(data)!r}"
        data += chunk
    return bytes(data)


def read_until_gone(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes or resets the connection."""
    data = bytearray()
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return bytes(data)


def reset(sock: socket.socket) -> None:
    """Close with a reset, as a client that dies does: the server sees the connection lost."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def responses(data: bytes) -> list[bytes]:
    """The status lines in ``data``, in order (the tests' bodies hold none)."""
    return re.findall(rb"HTTP/1\.[01] \d{3} [^\r\n]*", data)
