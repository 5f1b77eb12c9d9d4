"""The asyncio seam for async concurrency mode: one HTTP/1.1 connection to the Runtime API.

:class:`AsyncConnection` is :class:`ric.transport.Connection` on the event
loop: ``send(parts)`` and ``receive()``, the same I/O-free
:class:`~ric.wire.ResponseReader` behind them, the same rules for when the
connection is closed and when an idle one had gone stale (see
:meth:`AsyncConnection.receive`). Each invocation slot of
:mod:`ric.concurrent` owns one, so N slots are N connections and no thread.
Every ``OSError`` is mapped to :class:`~ric.errors.TransportError` here.
:class:`FakeAsyncTransport` replays scripted responses for tests.
"""

from __future__ import annotations

import asyncio
import socket

from ric.errors import StaleConnection, TransportError
from ric.wire import Response, ResponseReader

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Protocol

    class AsyncTransport(Protocol):
        """Bytes out, responses in, awaited; as :class:`ric.transport.Transport`."""

        async def send(self, parts: Sequence[bytes]) -> None: ...

        async def receive(self) -> Response: ...

        @property
        def connected(self) -> bool: ...

        def close_if_stale(self) -> None: ...

        def close(self) -> None: ...


__all__ = ["AsyncConnection", "FakeAsyncTransport"]

_READ_SIZE = 256 * 1024


class AsyncConnection:
    """A persistent connection, opened by the first send after it was closed."""

    __slots__ = ("_address", "_answered", "_answered_at_send", "_reader", "_streams")

    def __init__(self, host: str, port: int) -> None:
        self._address = (host, port)
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._reader = ResponseReader()
        self._answered = 0  # responses read on this connection
        self._answered_at_send = 0

    async def send(self, parts: Sequence[bytes]) -> None:
        self.close_if_stale()  # the loop read the peer's FIN already: don't write into a reset
        if self._streams is None:
            self._streams = await self._connect()
        self._answered_at_send = self._answered
        writer = self._streams[1]
        try:
            writer.writelines(parts)
            await writer.drain()
        except OSError as exc:
            self.close()
            raise TransportError(f"Runtime API at {self._shown}: {exc}") from exc

    async def receive(self) -> Response:
        """The next response; :class:`StaleConnection` if the peer had closed the idle connection.

        As for the blocking connection: the connection had answered before the
        last send and ended before any byte of this answer, so the peer closed
        it unread, and sending the same bytes again is safe.
        """
        if self._streams is None:
            raise TransportError("connection closed before the response")
        try:
            response = await self._receive(self._streams[0])
        except OSError as exc:
            self.close()
            raise TransportError(f"Runtime API at {self._shown}: {exc}") from exc
        except TransportError:
            self.close()
            raise
        self._answered += 1
        if self._reader.closed or response.headers.get("connection", "").lower() == "close":
            self.close()
        return response

    @property
    def connected(self) -> bool:
        return self._streams is not None

    def close_if_stale(self) -> None:
        """For a request that cannot be sent twice (a stream): close it if the peer has.

        The loop has read the peer's FIN, if it sent one, while the handler ran.
        """
        if self._streams is not None and self._streams[0].at_eof():
            self.close()

    def close(self) -> None:
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None
        self._reader = ResponseReader()
        self._answered = self._answered_at_send = 0

    @property
    def _shown(self) -> str:
        return f"{self._address[0]}:{self._address[1]}"

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            reader, writer = await asyncio.open_connection(*self._address, limit=_READ_SIZE)
        except OSError as exc:
            raise TransportError(f"cannot connect to {self._shown}: {exc}") from exc
        sock = writer.get_extra_info("socket")
        if sock is not None:  # requests are written whole: Nagle would only delay them
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return reader, writer

    async def _receive(self, stream: asyncio.StreamReader) -> Response:
        reader = self._reader
        while (response := reader.next_response()) is None:
            data = await stream.read(_READ_SIZE)
            if data:
                reader.feed(data)
            elif reader.idle and self._answered_at_send == self._answered > 0:
                raise StaleConnection("Runtime API closed the idle connection")
            else:
                reader.feed_eof()
        return response


class FakeAsyncTransport:
    """:class:`ric.transport.FakeTransport`'s script, awaited; records what was sent.

    ``sent`` holds the bytes of each ``send``, joined. Past the script,
    ``receive`` raises TransportError, as a Runtime API that went away would.
    """

    __slots__ = ("_script", "closes", "sent")

    def __init__(self, script: Iterable[Response | TransportError]) -> None:
        self._script = list(script)
        self.sent: list[bytes] = []
        self.closes = 0

    async def send(self, parts: Sequence[bytes]) -> None:
        self.sent.append(b"".join(parts))

    async def receive(self) -> Response:
        if not self._script:
            raise TransportError("fake transport: script exhausted")
        step = self._script.pop(0)
        if isinstance(step, TransportError):
            raise step
        return step

    @property
    def connected(self) -> bool:
        return True

    def close_if_stale(self) -> None:
        """A scripted peer never closes a connection behind the client's back."""

    def close(self) -> None:
        self.closes += 1
