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
    from collections.abc import Iterable, Mapping, Sequence
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

        def close_if_stale(self) -> None:
            """Close the connection if the peer has closed it: the next send opens a new one."""

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
    connection is closed after a failed read, after an answer with
    ``Connection: close`` and after one framed by the peer closing it, so
    that the next send opens a new one. A failed write leaves it open for
    reading only: a peer that answered early and closed (a 413 in the middle
    of a streamed body) has its answer in the receive buffer, and
    :meth:`receive` still hands it out; the next send opens a new connection.
    """

    __slots__ = (
        "_address",
        "_answered",
        "_answered_at_send",
        "_reader",
        "_sock",
        "_view",
        "_write_failed",
    )

    def __init__(self, host: str, port: int) -> None:
        self._address = (host, port)
        self._sock: _socket.socket | None = None
        self._reader = ResponseReader()
        # One receive buffer for the life of the process: a fresh 256 KiB
        # buffer per recv() costs an mmap, an mremap and a munmap each time.
        self._view = memoryview(bytearray(_READ_SIZE))
        self._answered = 0  # responses read on this connection
        self._answered_at_send = 0
        self._write_failed = False

    def send(self, parts: Sequence[bytes]) -> None:
        sock = self._sock
        if sock is None or self._write_failed:
            self.close()
            sock = self._connect()
        self._answered_at_send = self._answered
        try:
            _send(sock, parts)
        except OSError as exc:
            # The peer reset or closed the connection. What it sent before is
            # still readable (Linux keeps the receive queue on a reset), so the
            # socket stays open for receive(); nothing more is written on it.
            self._write_failed = True
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
        return self._sock is not None and not self._write_failed

    def close_if_stale(self) -> None:
        """For a request that cannot be sent twice (a stream): one peek, no wait.

        A peer that closed the idle connection (a Runtime API's idle timeout
        while the handler ran) has sent its FIN: the peek reads the end.
        """
        sock = self._sock
        if sock is None or self._write_failed:
            return
        try:
            ended = not sock.recv(1, _socket.MSG_PEEK | _socket.MSG_DONTWAIT)
        except BlockingIOError:  # open, and nothing to read: as it should be
            return
        except OSError:  # reset
            ended = True
        if ended:
            self.close()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        self._reader = ResponseReader()
        self._answered = self._answered_at_send = 0
        self._write_failed = False

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
    requests is one entry, a chunked body one entry per write. ``failing``
    maps the number of a send (from 0) to the error it raises, as a
    connection the peer closed would: that send is not recorded, and the
    transport is no longer ``connected``; ``receive`` goes on with the script.
    As a real connection does, a send after a failure or a ``close`` opens a
    new one; ``closes`` counts the calls to ``close``.
    """

    def __init__(
        self,
        script: Iterable[Response | TransportError],
        failing: Mapping[int, TransportError] | None = None,
    ) -> None:
        self._script = list(script)
        self._failing = dict(failing or {})
        self._sends = 0
        self.sent: list[bytes] = []
        self.closes = 0
        self._open = True

    def send(self, parts: Sequence[bytes]) -> None:
        failure = self._failing.pop(self._sends, None)
        self._sends += 1
        self._open = failure is None
        if failure is not None:
            raise failure
        self.sent.append(b"".join(parts))

    def receive(self) -> Response:
        if not self._script:
            raise TransportError("fake transport: script exhausted")
        step = self._script.pop(0)
        if isinstance(step, TransportError):
            raise step
        # As a real connection does: one that says it closes is closed after this answer.
        if step.headers.get("connection", "").lower() == "close":
            self._open = False
        return step

    @property
    def connected(self) -> bool:
        return self._open

    def close_if_stale(self) -> None:
        """A scripted peer never closes a connection behind the client's back."""

    def close(self) -> None:
        self.closes += 1
        self._open = False
