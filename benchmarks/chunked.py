"""HTTP/1.1 framing for the benchmarks, without I/O: heads, chunked and sized bodies.

A streamed response arrives as ``Transfer-Encoding: chunked`` (RFC 9112
section 7.1) with trailers; a buffered one with ``Content-Length``. Both
readers take the bytes as they are received and count the body without
keeping it (a 64 MiB stream is never held), except for its first ``keep``
bytes, where the handler put its clock stamp, and what they hand a ``sink``
(the body's data, piece by piece, as views into the bytes fed). Each ``feed``
says how many of the bytes it was given belong to this message; the rest is
the next one (a client that pipelines its ``GET /next`` sends it in the same
write). The fake Runtime API reads requests (``parse_head``), the callers
through the emulator read responses (``parse_response_head``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "ChunkedBody",
    "Fields",
    "RequestHead",
    "ResponseHead",
    "Sink",
    "SizedBody",
    "body_reader",
    "parse_head",
    "parse_response_head",
]

# A size line or a trailer line longer than this is not a client's framing.
MAX_LINE = 8192
# Bytes copied at a time to look for the end of a line: a size line is a few
# bytes, and the data after it is skipped, not copied.
_WINDOW = 64

# Where a body's data goes as it is read (a view: copy what is kept).
Sink = Callable[[memoryview], None]


class Fields:
    """Header fields as sent (names keep their case), looked up in any case."""

    fields: tuple[tuple[str, str], ...]

    def values(self, name: str) -> list[str]:
        """Every value of the field ``name`` (any case), comma-separated lists split out."""
        wanted = name.lower()
        return [
            item.strip()
            for key, value in self.fields
            if key.lower() == wanted
            for item in value.split(",")
            if item.strip()
        ]

    def value(self, name: str) -> str | None:
        """The field's value as sent, or None; a repeated field's values joined by commas."""
        found = [value for key, value in self.fields if key.lower() == name.lower()]
        return ", ".join(found) if found else None


@dataclass(frozen=True)
class RequestHead(Fields):
    """A request line and its header fields."""

    method: str
    target: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ResponseHead(Fields):
    """A status line's code and the response's header fields."""

    status: int
    fields: tuple[tuple[str, str], ...]


def parse_head(raw: bytes) -> RequestHead:
    """The head of a request, up to (not including) the blank line that ends it."""
    line, *rest = raw.decode("latin-1").split("\r\n")
    parts = line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise ValueError(f"not a request line: {line!r}")
    return RequestHead(parts[0], parts[1], _fields(rest))


def parse_response_head(raw: bytes) -> ResponseHead:
    """The head of a response, up to (not including) the blank line that ends it."""
    line, *rest = raw.decode("latin-1").split("\r\n")
    parts = line.split(" ", 2)  # RFC 9112 section 4: the reason phrase may hold spaces
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"not a status line: {line!r}")
    return ResponseHead(int(parts[1]), _fields(rest))


def _fields(lines: list[str]) -> tuple[tuple[str, str], ...]:
    fields = []
    for field in lines:
        name, sep, value = field.partition(":")
        if not sep or not name or name != name.strip():
            raise ValueError(f"not a header field: {field!r}")
        fields.append((name, value.strip()))
    return tuple(fields)


class _Prefix:
    """The first ``keep`` bytes of a body, how many bytes it had in all; each piece to ``sink``."""

    def __init__(self, keep: int, sink: Sink | None) -> None:
        self.keep = keep
        self.prefix = b""
        self.data_bytes = 0
        self._sink = sink

    def take(self, view: memoryview) -> None:
        if len(self.prefix) < self.keep:
            self.prefix += bytes(view[: self.keep - len(self.prefix)])
        self.data_bytes += len(view)
        if self._sink is not None and len(view):
            self._sink(view)


class SizedBody(_Prefix):
    """A ``Content-Length`` body."""

    def __init__(self, length: int, keep: int = 0, sink: Sink | None = None) -> None:
        super().__init__(keep, sink)
        self.left = length
        self.chunks = 1 if length else 0  # one piece, as framed
        self.trailers: tuple[tuple[str, str], ...] = ()

    @property
    def done(self) -> bool:
        return self.left == 0

    def feed(self, data: bytes | bytearray | memoryview) -> int:
        """Takes what belongs to the body; returns how many of the bytes that was."""
        view = memoryview(data)[: self.left]
        self.take(view)
        self.left -= len(view)
        return len(view)


_SIZE, _DATA, _DATA_END, _TRAILERS, _DONE = range(5)


class ChunkedBody(_Prefix):
    """A ``Transfer-Encoding: chunked`` body: its data counted, its chunks, its trailers."""

    def __init__(self, keep: int = 0, sink: Sink | None = None) -> None:
        super().__init__(keep, sink)
        self.chunks = 0  # chunks with data (the last, zero-size chunk is not counted)
        self.trailers: tuple[tuple[str, str], ...] = ()
        self._state = _SIZE
        self._left = 0  # data bytes left in this chunk
        self._line = b""  # the start of a line the last feed cut

    @property
    def done(self) -> bool:
        return self._state == _DONE

    def feed(self, data: bytes | bytearray | memoryview) -> int:
        """Takes what belongs to the body; returns how many of the bytes that was."""
        view = memoryview(data)
        pos, end = 0, len(view)
        while pos < end and self._state != _DONE:
            if self._state == _DATA:
                take = min(self._left, end - pos)
                self.take(view[pos : pos + take])
                self._left -= take
                pos += take
                if not self._left:
                    self._state = _DATA_END
                continue
            line, pos = self._next_line(view, pos)
            if line is not None:
                self._on_line(line)
        return pos

    def _next_line(self, view: memoryview, pos: int) -> tuple[bytes | None, int]:
        window = bytes(view[pos : pos + _WINDOW])
        newline = window.find(b"\n")
        if newline < 0:
            self._line += window
            if len(self._line) > MAX_LINE:
                raise ValueError("a chunk size or trailer line that never ends")
            return None, pos + len(window)
        line, self._line = self._line + window[:newline], b""
        return line.removesuffix(b"\r"), pos + newline + 1

    def _on_line(self, line: bytes) -> None:
        if self._state == _SIZE:
            self._on_size(line)
        elif self._state == _DATA_END:
            if line:
                raise ValueError(f"chunk data longer than its size: {line[:40]!r}")
            self._state = _SIZE
        elif not line:
            self._state = _DONE
        else:
            self._on_trailer(line)

    def _on_size(self, line: bytes) -> None:
        digits = line.split(b";", 1)[0].strip()  # chunk extensions are ignored
        if not digits or digits.strip(b"0123456789abcdefABCDEF"):
            raise ValueError(f"not a chunk size: {line[:40]!r}")
        self._left = int(digits, 16)
        if self._left:
            self.chunks += 1
            self._state = _DATA
        else:
            self._state = _TRAILERS

    def _on_trailer(self, line: bytes) -> None:
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep or not name or name != name.strip():
            raise ValueError(f"not a trailer field: {line[:40]!r}")
        self.trailers += ((name, value.strip()),)


def body_reader(head: Fields, keep: int = 0, sink: Sink | None = None) -> ChunkedBody | SizedBody:
    """The reader for this message's body (RFC 9112 section 6.3: chunked wins)."""
    codings = [coding.lower() for coding in head.values("Transfer-Encoding")]
    if codings:
        if codings[-1] != "chunked":
            raise ValueError(f"a body with no length: Transfer-Encoding {codings}")
        return ChunkedBody(keep, sink)
    length = head.value("Content-Length") or "0"
    if not length.isdigit():
        raise ValueError(f"not a Content-Length: {length!r}")
    return SizedBody(int(length), keep, sink)
