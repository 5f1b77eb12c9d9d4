"""HTTP/1.1 framing without I/O: requests out as bytes, responses in as objects.

Only what a Runtime API client needs (RFC 9112):

- the request writer: a head framed by ``Content-Length`` (:func:`request_head`),
  or by ``Transfer-Encoding: chunked`` (:func:`chunked_head`) with a
  :class:`ChunkedBody` that frames each chunk and ends with the last chunk and
  its trailers (section 7.1);
- the response reader: responses framed by ``Content-Length``, chunked
  (trailers kept) or by the closing of the connection. It is fed whatever
  ``recv`` returned, in pieces of any size, and hands out whole responses.
"""

from __future__ import annotations

from ric.errors import MalformedResponse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "ChunkedBody",
    "Response",
    "ResponseReader",
    "chunked_head",
    "parse_head",
    "request_head",
]

_HEAD_END = b"\r\n\r\n"
_MAX_HEAD = 64 * 1024
_MAX_CHUNK_LINE = 4096
# Statuses that never carry a body (RFC 9112 section 6.3, rule 1).
_NO_BODY = frozenset({204, 304})


# The request writer. Header fields are given in wire form, one
# "Name: value\r\n" line each, so that a builder can encode its constant
# fields once; the writer adds the framing.


def request_head(start: str, fields: str, length: int) -> bytes:
    """A request head (``start`` is the request line) whose body has ``length`` bytes."""
    return f"{start}\r\n{fields}Content-Length: {length}\r\n\r\n".encode()


def chunked_head(start: str, fields: str, trailers: Sequence[str] = ()) -> bytes:
    """A request head for a chunked body; ``trailers`` names the fields sent after it.

    The ``Trailer`` field announces them (RFC 9110 section 6.6.2).
    """
    announced = f"Trailer: {', '.join(trailers)}\r\n" if trailers else ""
    return f"{start}\r\n{fields}Transfer-Encoding: chunked\r\n{announced}\r\n".encode()


class ChunkedBody:
    """Frames a body of unknown length: chunks, then the last chunk and its trailers.

    RFC 9112 section 7.1. Only the trailer fields announced in the head may be
    sent; nothing may follow the last chunk.
    """

    __slots__ = ("_announced", "_ended")

    def __init__(self, trailers: Sequence[str] = ()) -> None:
        self._announced = frozenset(name.lower() for name in trailers)
        self._ended = False

    @property
    def ended(self) -> bool:
        return self._ended

    def chunk(self, data: bytes) -> tuple[bytes, ...]:
        """The parts that frame ``data``, for a scatter-gather write (no copy of it)."""
        if self._ended:
            raise ValueError("chunk after the last chunk")
        if not data:  # a chunk of size 0 would end the body
            return ()
        return (b"%x\r\n" % len(data), data, b"\r\n")

    def end(self, trailers: Mapping[str, str] | None = None) -> bytes:
        """The last chunk and the trailer section."""
        if self._ended:
            raise ValueError("the body has already ended")
        lines = []
        for name, value in (trailers or {}).items():
            if name.lower() not in self._announced:
                raise ValueError(f"trailer {name!r} was not announced in the head")
            lines.append(f"{name}: {_field_value(value)}\r\n")
        self._ended = True
        return b"0\r\n" + "".join(lines).encode() + b"\r\n"


def _field_value(value: str) -> str:
    # A CR or LF would end the field early and let the rest pass as another one.
    if "\r" in value or "\n" in value or "\x00" in value:
        raise ValueError(f"field value with a line break or NUL: {value[:40]!r}")
    return value


class Response:
    """One HTTP response: status, lower-cased header names, body, trailers."""

    __slots__ = ("body", "headers", "status", "trailers")

    def __init__(
        self,
        status: int,
        headers: dict[str, str],
        body: bytes,
        trailers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.trailers = trailers or {}

    def __repr__(self) -> str:
        return f"Response(status={self.status}, headers={self.headers!r}, body={self.body!r})"


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    """Status code and headers of a response head (without the blank line)."""
    lines = _text_lines(head)
    return _status(lines[0]), _parse_fields(lines, 1)


def _text_lines(block: bytes) -> list[str]:
    # The usual head is ASCII: decoded once, then split and read as text.
    if block.isascii():
        return block.decode("ascii").split("\r\n")
    return [_decode_line(line) for line in block.split(b"\r\n")]


def _decode_line(line: bytes) -> str:
    # Names are tokens (ASCII); a value may carry obs-text, kept as UTF-8 where it is.
    name, sep, value = line.partition(b":")
    return name.decode("latin-1") + sep.decode("ascii") + value.decode("utf-8", "replace")


def _status(line: str) -> int:
    parts = line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise MalformedResponse(f"not an HTTP/1.x status line: {line[:80]!r}")
    code = parts[1]
    # status-code = 3DIGIT (RFC 9112 section 4), ASCII digits: int() alone would
    # take "+200", "2_00" or "٢٠٠", and isdigit() passes "²²²", which int() refuses.
    if len(code) != 3 or not (code.isascii() and code.isdigit()):
        raise MalformedResponse(f"bad status code: {code[:20]!r}")
    return int(code)


def _parse_fields(lines: list[str], start: int) -> dict[str, str]:
    fields: dict[str, str] = {}
    for index in range(start, len(lines)):
        line = lines[index]
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip(_ASCII_SPACE):
            raise MalformedResponse(f"bad header line: {line[:80]!r}")
        key = name.lower()
        value = value.strip(_ASCII_SPACE)
        # Repeated fields combine into one comma-separated value (RFC 9110 5.3).
        fields[key] = f"{fields[key]}, {value}" if key in fields else value
    return fields


class ResponseReader:
    """Turns received bytes into :class:`Response` objects.

    ``feed`` what the socket gave, then call ``next_response`` until it returns
    ``None`` (more bytes needed). ``feed_eof`` marks the connection closed.
    """

    __slots__ = ("_buf", "_chunks", "_head", "_interim", "closed")

    def __init__(self) -> None:
        self._buf = bytearray()
        self.closed = False  # the connection's end was fed: nothing more will come
        self._head: tuple[int, dict[str, str]] | None = None
        self._chunks: list[bytes] | None = None
        self._interim = False  # an interim response was read; the final one is owed

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        self._buf += data

    def feed_eof(self) -> None:
        self.closed = True

    @property
    def idle(self) -> bool:
        """True between responses: nothing of the next one has arrived."""
        return self._head is None and not self._buf and not self._interim

    def next_response(self) -> Response | None:
        while True:
            if self._head is None and not self._read_head():
                return None
            assert self._head is not None
            status, headers = self._head
            if 100 <= status < 200:  # interim (e.g. 100 Continue): skip it
                self._head = None
                self._interim = True
                continue
            response = self._read_body(status, headers)
            if response is not None:
                self._head = None
                self._interim = False
            return response

    def _read_head(self) -> bool:
        end = self._buf.find(_HEAD_END)
        if end > _MAX_HEAD or (end < 0 and len(self._buf) > _MAX_HEAD):
            raise MalformedResponse("response head larger than 64 KiB")
        if end < 0:
            self._raise_if_eof("in the response head")
            return False
        self._head = parse_head(bytes(self._buf[:end]))
        del self._buf[: end + 4]
        return True

    def _read_body(self, status: int, headers: dict[str, str]) -> Response | None:
        if status in _NO_BODY:
            return Response(status, headers, b"")
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._read_chunked(status, headers)
        length = headers.get("content-length")
        if length is not None:
            return self._read_length(status, headers, _content_length(length))
        if not self.closed:  # framed by the end of the connection
            return None
        body = bytes(self._buf)
        self._buf.clear()
        return Response(status, headers, body)

    def _read_length(self, status: int, headers: dict[str, str], length: int) -> Response | None:
        if len(self._buf) < length:
            self._raise_if_eof("in a Content-Length body")
            return None
        body = _take(self._buf, 0, length)
        del self._buf[:length]
        return Response(status, headers, body)

    def _read_chunked(self, status: int, headers: dict[str, str]) -> Response | None:
        if self._chunks is None:
            self._chunks = []
        while True:
            line_end = self._buf.find(b"\r\n")
            if line_end < 0:
                if len(self._buf) > _MAX_CHUNK_LINE:
                    raise MalformedResponse("chunk size line too long")
                return self._wait_chunked()
            size = _chunk_size(bytes(self._buf[:line_end]))
            if size == 0:
                return self._read_trailers(status, headers, line_end + 2)
            start = line_end + 2
            if len(self._buf) < start + size + 2:
                return self._wait_chunked()
            if self._buf[start + size : start + size + 2] != b"\r\n":
                raise MalformedResponse("chunk data not followed by CRLF")
            self._chunks.append(_take(self._buf, start, size))
            del self._buf[: start + size + 2]

    def _read_trailers(self, status: int, headers: dict[str, str], start: int) -> Response | None:
        if self._buf[start : start + 2] == b"\r\n":
            trailers: dict[str, str] = {}
            end = start
        else:
            end = self._buf.find(_HEAD_END, start - 2)
            if end < 0:
                return self._wait_chunked()
            trailers = _parse_fields(_text_lines(bytes(self._buf[start:end])), 0)
        del self._buf[: end + 2 if end == start else end + 4]
        body = b"".join(self._chunks or ())
        self._chunks = None
        return Response(status, headers, body, trailers)

    def _wait_chunked(self) -> Response | None:
        self._raise_if_eof("in a chunked body")
        return None

    def _raise_if_eof(self, where: str) -> None:
        if self.closed:
            raise MalformedResponse(f"connection closed {where}")


# ASCII whitespace, as bytes.strip() has it: str.strip() would also take \x1c-\x1f.
_ASCII_SPACE = " \t\n\r\x0b\x0c"


def _take(buffer: bytearray, start: int, size: int) -> bytes:
    # One copy: slicing the bytearray first would copy a large body twice.
    with memoryview(buffer) as view:
        return view[start : start + size].tobytes()


# No body we could hold has a longer length, and int() refuses more than 4300
# digits with a ValueError (the CPython limit on str -> int conversion).
_MAX_LENGTH_DIGITS = 18


def _content_length(value: str) -> int:
    if len(value) > _MAX_LENGTH_DIGITS or not (value.isascii() and value.isdigit()):
        raise MalformedResponse(f"bad Content-Length: {value[:40]!r}")
    return int(value)


def _chunk_size(line: bytes) -> int:
    size = line.split(b";", 1)[0].strip()
    if not size or size.strip(b"0123456789abcdefABCDEF") or len(size) > _MAX_LENGTH_DIGITS:
        raise MalformedResponse(f"bad chunk size line: {line[:40]!r}")
    return int(size, 16)
