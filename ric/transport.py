"""The one socket seam: a keep-alive HTTP/1.1 connection to the Runtime API.

Every ``OSError`` is mapped to :class:`~ric.errors.TransportError` here and
nowhere else. :class:`FakeTransport` replays scripted responses for tests.
"""

from __future__ import annotations

# The C module under `socket`: the same socket objects, without the ~9 ms that
# importing `socket` (with `enum` and `selectors`) adds to every cold start.
import _socket

from ric.errors import TransportError
from ric.wire import Response, ResponseReader

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Protocol

    class Transport(Protocol):
        def request(self, head: bytes, body: bytes = b"", then: bytes = b"") -> Response: ...

        def receive(self) -> Response: ...

        def close(self) -> None: ...


__all__ = ["Connection", "FakeTransport", "parse_address"]

_READ_SIZE = 256 * 1024
# Below this size joining head and body costs less than a scatter-gather write.
_JOIN_LIMIT = 64 * 1024


def parse_address(address: str) -> tuple[str, int]:
    """``host:port`` or ``[v6-host]:port`` as found in ``AWS_LAMBDA_RUNTIME_API``."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected HOST:PORT, got {address!r}")
    return host.strip("[]"), int(port)


class Connection:
    """A persistent connection, opened on first use and reopened after a failure.

    No timeout is set: ``GET /next`` legitimately waits for as long as the
    environment is idle, and a blocking read lets signal handlers run.
    """

    __slots__ = ("_address", "_reader", "_sock", "_view")

    def __init__(self, host: str, port: int) -> None:
        self._address = (host, port)
        self._sock: _socket.socket | None = None
        self._reader = ResponseReader()
        # One receive buffer for the life of the process: a fresh 256 KiB
        # buffer per recv() costs an mmap, an mremap and a munmap each time.
        self._view = memoryview(bytearray(_READ_SIZE))

    def request(self, head: bytes, body: bytes = b"", then: bytes = b"") -> Response:
        """Send a request, and ``then`` (a pipelined request) in the same write.

        Returns the first request's response; :meth:`receive` reads the second.
        """
        if self._sock is None:
            return self._exchange(self._connect(), (head, body, then))
        try:
            return self._exchange(self._sock, (head, body, then))
        except _StaleConnection:
            # The peer closed the idle keep-alive connection before reading our
            # request, so it was not processed: one retry on a new connection.
            return self._exchange(self._connect(), (head, body, then))

    def receive(self) -> Response:
        """The response to a request sent earlier as ``then``."""
        if self._sock is None:
            raise TransportError("connection closed before the pipelined response")
        return self._exchange(self._sock, ())

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._reader = ResponseReader()

    def _exchange(self, sock: _socket.socket, parts: tuple[bytes, ...]) -> Response:
        try:
            if parts:
                _send(sock, parts)
            response = self._receive(sock)
        except OSError as exc:
            self.close()
            raise TransportError(f"Runtime API at {_show(self._address)}: {exc}") from exc
        except TransportError:
            self.close()
            raise
        if response.headers.get("connection", "").lower() == "close":
            self.close()
        return response

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
            elif reader.idle:
                raise _StaleConnection("Runtime API closed the connection")
            else:
                reader.feed_eof()
        return response


class _StaleConnection(TransportError):
    """Closed by the peer before any byte of the answer arrived."""


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


def _send(sock: _socket.socket, parts: tuple[bytes, ...]) -> None:
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
    """Replays scripted responses (or raises scripted errors) and records requests."""

    def __init__(self, script: Iterable[Response | TransportError]) -> None:
        self._script = list(script)
        self.requests: list[bytes] = []
        self.closed = False

    def request(self, head: bytes, body: bytes = b"", then: bytes = b"") -> Response:
        self.requests.append(head + body)
        if then:
            self.requests.append(then)
        return self.receive()

    def receive(self) -> Response:
        if not self._script:
            raise TransportError("fake transport: script exhausted")
        step = self._script.pop(0)
        if isinstance(step, TransportError):
            raise step
        return step

    def close(self) -> None:
        self.closed = True
