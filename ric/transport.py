"""The one socket seam: a keep-alive HTTP/1.1 connection to the Runtime API.

The seam is ``send(parts)`` and ``receive()``: it knows nothing of requests,
so the client decides what one write carries (a request, a request with the
next one pipelined behind it, a piece of a chunked body). Every ``OSError``
is mapped to :class:`~ric.errors.TransportError` here and nowhere else.
:class:`FakeTransport` replays scripted responses for tests.
"""

from __future__ import annotations

# The C module under `socket`: the same socket objects, without the ~9 ms that
# importing `socket` (with `enum` and `selectors`) adds to every cold start.
import _socket

from ric.errors import StaleConnection, TransportError
from ric.wire import Response, ResponseReader

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Protocol

    class Transport(Protocol):
        """Bytes out, responses in; what the bytes are is the caller's business.

        ``send`` may carry several requests (pipelining) or part of one (a
        chunked body); each ``receive`` returns the next response, in order.
        """

        def send(self, parts: Sequence[bytes]) -> None: ...

        def receive(self) -> Response: ...

        @property
        def connected(self) -> bool:
            """Open: a request sent behind the last answer read is still on its way."""

        def close(self) -> None: ...


__all__ = ["Connection", "FakeTransport", "parse_address"]

_READ_SIZE = 256 * 1024
# Below this size joining the parts costs less than a scatter-gather write.
_JOIN_LIMIT = 64 * 1024


def parse_address(address: str) -> tuple[str, int]:
    """``host:port`` or ``[v6-host]:port`` as found in ``AWS_LAMBDA_RUNTIME_API``."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected HOST:PORT, got {address!r}")
    return host.strip("[]"), int(port)


class Connection:
    """A persistent connection, opened by the first send after it was closed.

    No timeout is set: ``GET /next`` legitimately waits for as long as the
    environment is idle, and a blocking read lets signal handlers run. The
    connection is closed after any failure, after an answer with
    ``Connection: close`` and after one framed by the peer closing it, so
    that the next send opens a new one.
    """

    __slots__ = ("_address", "_answered", "_answered_at_send", "_reader", "_sock", "_view")

    def __init__(self, host: str, port: int) -> None:
        self._address = (host, port)
        self._sock: _socket.socket | None = None
        self._reader = ResponseReader()
        # One receive buffer for the life of the process: a fresh 256 KiB
        # buffer per recv() costs an mmap, an mremap and a munmap each time.
        self._view = memoryview(bytearray(_READ_SIZE))
        self._answered = 0  # responses read on this connection
        self._answered_at_send = 0

    def send(self, parts: Sequence[bytes]) -> None:
        sock = self._sock
        if sock is None:
            sock = self._connect()
        self._answered_at_send = self._answered
        try:
            _send(sock, parts)
        except OSError as exc:
            self.close()
            raise TransportError(f"Runtime API at {_show(self._address)}: {exc}") from exc

    def receive(self) -> Response:
        """The next response; :class:`StaleConnection` if the peer had closed the idle connection.

        That is the case when the connection had served a response before the
        last send, and it ended before any byte of the answer to that send:
        the peer closed it unread, so sending the same bytes again is safe.
        """
        sock = self._sock
        if sock is None:
            raise TransportError("connection closed before the response")
        try:
            response = self._receive(sock)
        except OSError as exc:
            self.close()
            raise TransportError(f"Runtime API at {_show(self._address)}: {exc}") from exc
        except TransportError:
            self.close()
            raise
        self._answered += 1
        if self._reader.closed or response.headers.get("connection", "").lower() == "close":
            self.close()
        return response

    @property
    def connected(self) -> bool:
        return self._sock is not None

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._reader = ResponseReader()
        self._answered = self._answered_at_send = 0

    def _connect(self) -> _socket.socket:
        try:
            sock = _open(*self._address)
        except OSError as exc:
            raise TransportError(f"cannot connect to {_show(self._address)}: {exc}") from exc
        self._sock = sock
        return sock

    def _receive(self, sock: _socket.socket) -> Response:
        reader = self._reader
        view = self._view
        while (response := reader.next_response()) is None:
            size = sock.recv_into(view)
            if size:
                reader.feed(view[:size])
            elif reader.idle and self._answered_at_send == self._answered > 0:
                raise StaleConnection("Runtime API closed the idle connection")
            else:
                reader.feed_eof()
        return response


def _open(host: str, port: int) -> _socket.socket:
    failure: OSError = OSError(f"no address found for {host!r}")
    # A str host is IDNA-encoded, which imports `re` and `unicodedata` (~8 ms).
    name = host.encode() if host.isascii() else host
    for family, kind, proto, _, address in _socket.getaddrinfo(name, port, 0, _socket.SOCK_STREAM):
        sock = _socket.socket(family, kind, proto)
        try:
            sock.connect(address)
        except OSError as exc:
            sock.close()
            failure = exc
            continue
        # Requests are written whole; Nagle would only delay them.
        sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
        return sock
    raise failure


def _send(sock: _socket.socket, parts: Sequence[bytes]) -> None:
    if sum(map(len, parts)) <= _JOIN_LIMIT:
        sock.sendall(b"".join(parts))
        return
    sent = sock.sendmsg(parts)  # one write, no copy of a large body
    for part in parts:
        if sent < len(part):
            sock.sendall(memoryview(part)[sent:])
        sent = max(sent - len(part), 0)


def _show(address: tuple[str, int]) -> str:
    return f"{address[0]}:{address[1]}"


class FakeTransport:
    """Replays scripted responses (or raises scripted errors) and records what was sent.

    ``sent`` holds the bytes of each ``send``, joined: a pipelined pair of
    requests is one entry, a chunked body one entry per write.
    """

    def __init__(self, script: Iterable[Response | TransportError]) -> None:
        self._script = list(script)
        self.sent: list[bytes] = []
        self.closed = False
        self._open = True

    def send(self, parts: Sequence[bytes]) -> None:
        self.sent.append(b"".join(parts))

    def receive(self) -> Response:
        if not self._script:
            raise TransportError("fake transport: script exhausted")
        step = self._script.pop(0)
        if isinstance(step, TransportError):
            raise step
        # As a real connection does: one that says it closes is closed after this answer.
        self._open = step.headers.get("connection", "").lower() != "close"
        return step

    @property
    def connected(self) -> bool:
        return self._open and not self.closed

    def close(self) -> None:
        self.closed = True
