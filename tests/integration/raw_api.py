"""A Runtime API played byte by byte on a raw socket, for answers no HTTP server would send.

Single-threaded: the kernel buffers what each side writes, so a test sends
with the client, accepts and reads with the server, answers, then receives.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Peer:
    """One accepted connection, read a request at a time."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = b""

    def read_request(self) -> bytes:
        """One request with a Content-Length body (or none), as bytes."""
        while b"\r\n\r\n" not in self._buffer:
            self._fill()
        head, _, rest = self._buffer.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(rest) < length:
            self._buffer = head + b"\r\n\r\n" + rest
            self._fill()
            head, _, rest = self._buffer.partition(b"\r\n\r\n")
        self._buffer = rest[length:]
        return head + b"\r\n\r\n" + rest[:length]

    def read_head(self) -> bytes:
        """A request head, up to and with its blank line; its body is left to read."""
        while b"\r\n\r\n" not in self._buffer:
            self._fill()
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        return head + b"\r\n\r\n"

    def read_chunk(self) -> bytes | None:
        """The next chunk of a chunked body, as soon as it is all in; None for the last chunk."""
        line = self._read_line()
        size = int(line.split(b";")[0], 16)
        if size == 0:
            return None
        while len(self._buffer) < size + 2:
            self._fill()
        data, crlf, self._buffer = (
            self._buffer[:size],
            self._buffer[size : size + 2],
            self._buffer[size + 2 :],
        )
        assert crlf == b"\r\n", crlf
        return data

    def read_trailers(self) -> list[tuple[str, str]]:
        """The trailer section after the last chunk: (name, value) lines, as sent."""
        fields = []
        while line := self._read_line():
            name, _, value = line.decode().partition(":")
            fields.append((name, value.strip()))
        return fields

    def _read_line(self) -> bytes:
        while b"\r\n" not in self._buffer:
            self._fill()
        line, _, self._buffer = self._buffer.partition(b"\r\n")
        return line

    def read_until_closed(self) -> bytes:
        data = self._buffer
        while chunk := self.sock.recv(65536):
            data += chunk
        self._buffer = b""
        return data

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def close(self) -> None:
        self.sock.close()

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"peer closed; unread: {self._buffer!r}")
        self._buffer += chunk


class RawServer:
    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(30)
        self.port = self.listener.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._peers: list[Peer] = []

    def accept(self) -> Peer:
        sock, _ = self.listener.accept()
        sock.settimeout(30)
        peer = Peer(sock)
        self._peers.append(peer)
        return peer

    def close(self) -> None:
        """The listener and every connection accepted."""
        for peer in self._peers:
            peer.close()
        self.listener.close()


@contextmanager
def raw_server() -> Iterator[RawServer]:
    server = RawServer()
    try:
        yield server
    finally:
        server.close()


def ok(body: bytes, **headers: str) -> bytes:
    """A 200 answer with ``headers`` (underscores as dashes) and a Content-Length body."""
    fields = "".join(f"{name.replace('_', '-')}: {value}\r\n" for name, value in headers.items())
    return f"HTTP/1.1 200 OK\r\n{fields}Content-Length: {len(body)}\r\n\r\n".encode() + body


ACCEPTED = b'HTTP/1.1 202 Accepted\r\nContent-Length: 15\r\n\r\n{"status":"OK"}'


class Signal:
    """The test's end of a handler's FIFO: one byte lets the handler go on once."""

    def __init__(self, path: Path) -> None:
        os.mkfifo(path)
        self.path = path
        self._fd = os.open(path, os.O_RDWR)

    def send(self) -> None:
        os.write(self._fd, b"x")

    def close(self) -> None:
        os.close(self._fd)
