"""ric.wire: HTTP/1.1 response framing fed from memory, no sockets (RFC 9112)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ric.errors import MalformedResponse, TransportError
from ric.wire import ChunkedBody, Response, ResponseReader, chunked_head, parse_head, request_head

LENGTH = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}'
# Chunk extensions (";name=value") are ignored; trailers follow the last chunk.
CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"4;name=value\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"
)
CHUNKED_NO_TRAILERS = (
    b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
)
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
NO_CONTENT = b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"

Summary = tuple[int, dict[str, str], bytes, dict[str, str]]

LENGTH_SUMMARY: Summary = (
    200,
    {"content-type": "application/json", "content-length": "7"},
    b'{"a":1}',
    {},
)
CHUNKED_SUMMARY: Summary = (
    200,
    {"transfer-encoding": "chunked"},
    b"Wikipedia",
    {"x-checksum": "abc", "x-other": "1"},
)
NO_TRAILERS_SUMMARY: Summary = (202, {"transfer-encoding": "chunked"}, b"ok", {})

# Each stream and the responses it frames, whatever the pieces it arrives in.
STREAMS = {
    "content-length": (LENGTH, [LENGTH_SUMMARY]),
    "chunked-trailers": (CHUNKED, [CHUNKED_SUMMARY]),
    "chunked-no-trailers": (CHUNKED_NO_TRAILERS, [NO_TRAILERS_SUMMARY]),
    "pipelined": (LENGTH + CHUNKED, [LENGTH_SUMMARY, CHUNKED_SUMMARY]),
    "continue-then-204-then-length": (
        CONTINUE + NO_CONTENT + LENGTH,
        [(204, {"content-length": "5"}, b"", {}), LENGTH_SUMMARY],
    ),
}


def summary(response: Response) -> Summary:
    return response.status, response.headers, response.body, response.trailers


def drain(reader: ResponseReader) -> list[Summary]:
    responses = []
    while (response := reader.next_response()) is not None:
        responses.append(summary(response))
    return responses


def read_pieces(
    pieces: Sequence[bytes | bytearray | memoryview], eof: bool = False
) -> list[Summary]:
    """Feed each piece and take every response it completes, as a socket loop does."""
    reader = ResponseReader()
    responses = []
    for piece in pieces:
        reader.feed(piece)
        responses += drain(reader)
    if eof:
        reader.feed_eof()
        responses += drain(reader)
    return responses


@pytest.mark.parametrize("name", STREAMS)
def test_whole_stream(name: str) -> None:
    data, expected = STREAMS[name]
    assert read_pieces([data]) == expected


@pytest.mark.parametrize("name", STREAMS)
def test_byte_by_byte(name: str) -> None:
    data, expected = STREAMS[name]
    assert read_pieces([data[i : i + 1] for i in range(len(data))]) == expected


@pytest.mark.parametrize("name", STREAMS)
def test_every_split_into_two(name: str) -> None:
    data, expected = STREAMS[name]
    for cut in range(1, len(data)):
        assert read_pieces([data[:cut], data[cut:]]) == expected, f"split at {cut}"


def test_accepts_memoryview_and_bytearray_pieces() -> None:
    assert read_pieces([bytearray(LENGTH[:10]), memoryview(LENGTH)[10:]]) == [LENGTH_SUMMARY]


def test_incomplete_body_waits_for_more() -> None:
    reader = ResponseReader()
    reader.feed(LENGTH[:-1])
    assert reader.next_response() is None
    reader.feed(LENGTH[-1:])
    assert reader.next_response() is not None


@pytest.mark.parametrize(
    "pieces",
    [[b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nhello", b" world"], [b"HTTP/1.1 200 OK\r\n\r\n"]],
    ids=["with-body", "empty-body"],
)
def test_body_without_length_is_framed_by_eof(pieces: list[bytes]) -> None:
    reader = ResponseReader()
    for piece in pieces:
        reader.feed(piece)
        assert reader.next_response() is None
    reader.feed_eof()
    response = reader.next_response()
    assert response is not None
    assert response.body == b"".join(pieces).partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize("status", [204, 304])
def test_no_body_statuses_ignore_content_length(status: int) -> None:
    data = f"HTTP/1.1 {status} X\r\nContent-Length: 5\r\n\r\n".encode() + LENGTH
    responses = read_pieces([data])
    assert [(s, body) for s, _, body, _ in responses] == [(status, b""), (200, b'{"a":1}')]


def test_interim_responses_are_skipped() -> None:
    data = CONTINUE + b"HTTP/1.1 102 Processing\r\nX: y\r\n\r\n" + LENGTH
    assert read_pieces([data]) == [LENGTH_SUMMARY]


def test_chunked_wins_over_content_length() -> None:
    data = CHUNKED_NO_TRAILERS.replace(b"\r\n\r\n", b"\r\nContent-Length: 999\r\n\r\n", 1)
    [(_, _, body, _)] = read_pieces([data])
    assert body == b"ok"


def test_repeated_fields_combine_and_names_are_lowercased() -> None:
    head = b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Amz-Thing:  Mixed Case \r\nset-cookie: b=2"
    assert parse_head(head) == (200, {"set-cookie": "a=1, b=2", "x-amz-thing": "Mixed Case"})


@pytest.mark.parametrize(
    ("line", "status"),
    [(b"HTTP/1.1 200 OK", 200), (b"HTTP/1.0 404 Not Found", 404), (b"HTTP/1.1 202", 202)],
)
def test_status_line(line: bytes, status: int) -> None:
    assert parse_head(line) == (status, {})


def test_non_ascii_names_are_latin1_and_bad_utf8_in_values_is_replaced() -> None:
    head = b"HTTP/1.1 200 OK\r\nX-\xe9: a\xff b \r\nX-Plain:  c\t"
    assert parse_head(head)[1] == {"x-\xe9": "a\ufffd b", "x-plain": "c"}


def test_header_values_are_utf8() -> None:
    head = "HTTP/1.1 200 OK\r\nX-Name: café".encode()
    assert parse_head(head)[1] == {"x-name": "café"}


def test_idle_only_between_responses() -> None:
    reader = ResponseReader()
    assert reader.idle
    states = []
    for byte in range(len(LENGTH) - 1):
        reader.feed(LENGTH[byte : byte + 1])
        assert reader.next_response() is None
        states.append(reader.idle)
    assert not any(states)
    reader.feed(LENGTH[-1:] + LENGTH[:5])  # the end of one response, the start of the next
    assert reader.next_response() is not None
    assert not reader.idle
    reader.feed(LENGTH[5:])
    assert reader.next_response() is not None
    assert reader.idle


def test_not_idle_after_interim_response() -> None:
    reader = ResponseReader()
    reader.feed(CONTINUE)
    assert reader.next_response() is None
    assert not reader.idle


def test_malformed_response_is_a_transport_error() -> None:
    assert issubclass(MalformedResponse, TransportError)


HEAD = b"HTTP/1.1 200 OK\r\n"
CHUNKED_HEAD = HEAD + b"Transfer-Encoding: chunked\r\n\r\n"
# (bytes, then EOF?) that no HTTP/1.1 reader may accept.
GARBAGE = {
    "http2-status-line": (b"HTTP/2 200 OK\r\n\r\n", False),
    "not-http": (b"SSH-2.0-OpenSSH_9.6\r\n\r\n", False),
    "status-line-alone": (b"HTTP/1.1\r\n\r\n", False),
    "non-numeric-status": (b"HTTP/1.1 abc OK\r\n\r\n", False),
    "header-without-colon": (HEAD + b"NoColon\r\n\r\n", False),
    "header-without-name": (HEAD + b": value\r\n\r\n", False),
    "space-before-colon": (HEAD + b"Name : value\r\n\r\n", False),
    "space-before-name": (HEAD + b" Name: value\r\n\r\n", False),
    "content-length-abc": (HEAD + b"Content-Length: abc\r\n\r\n", False),
    "content-length-negative": (HEAD + b"Content-Length: -1\r\n\r\n", False),
    "content-length-superscript": (HEAD + "Content-Length: ²\r\n\r\n".encode(), False),
    "content-length-twice": (HEAD + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n", False),
    # int() refuses more than 4300 digits with a ValueError; 19 are already beyond any body.
    "content-length-5000-digits": (HEAD + b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n", False),
    "content-length-19-digits": (HEAD + b"Content-Length: " + b"1" * 19 + b"\r\n\r\n", False),
    "status-superscript-digits": (b"HTTP/1.1 \xb2\xb2\xb2 OK\r\n\r\n", False),
    "status-arabic-indic-digits": ("HTTP/1.1 ٢٠٠ OK\r\n\r\n".encode(), False),
    "chunk-size-19-hex-digits": (CHUNKED_HEAD + b"1" * 19 + b"\r\n", False),
    "chunk-size-zz": (CHUNKED_HEAD + b"zz\r\n", False),
    "chunk-size-negative": (CHUNKED_HEAD + b"-1\r\n", False),
    "chunk-size-0x": (CHUNKED_HEAD + b"0x10\r\n", False),
    "chunk-size-empty": (CHUNKED_HEAD + b"\r\n", False),
    "chunk-data-without-crlf": (CHUNKED_HEAD + b"3\r\nabcXY", False),
    "bad-trailer": (CHUNKED_HEAD + b"0\r\nNoColon\r\n\r\n", False),
    "eof-before-anything": (b"", True),
    "eof-in-status-line": (b"HTTP/1.1 20", True),
    "eof-in-head": (HEAD + b"Content-Length: 5\r\n", True),
    "eof-in-length-body": (HEAD + b"Content-Length: 5\r\n\r\nabc", True),
    "eof-in-chunk-size": (CHUNKED_HEAD + b"1", True),
    "eof-in-chunk-data": (CHUNKED_HEAD + b"5\r\nab", True),
    "eof-before-last-chunk": (CHUNKED_HEAD + b"2\r\nab\r\n", True),
    "eof-in-trailers": (CHUNKED_HEAD + b"0\r\nX: y\r\n", True),
}


@pytest.mark.parametrize("name", GARBAGE)
def test_garbage_raises(name: str) -> None:
    data, eof = GARBAGE[name]
    with pytest.raises(MalformedResponse):
        read_pieces([data], eof)


@pytest.mark.parametrize("name", GARBAGE)
def test_garbage_raises_byte_by_byte(name: str) -> None:
    data, eof = GARBAGE[name]
    with pytest.raises(MalformedResponse):
        read_pieces([data[i : i + 1] for i in range(len(data))], eof)


def test_head_over_64_kib_without_end_raises() -> None:
    reader = ResponseReader()
    reader.feed(HEAD + b"X: " + b"a" * (64 * 1024))
    with pytest.raises(MalformedResponse, match="64 KiB"):
        reader.next_response()


def test_head_just_under_64_kib_is_fine() -> None:
    filler = b"X: " + b"a" * (64 * 1024 - len(HEAD) - 3 - 4)
    data = HEAD + filler + b"\r\n\r\n"
    assert len(data) == 64 * 1024
    reader = ResponseReader()
    reader.feed(data)
    reader.feed_eof()
    response = reader.next_response()
    assert response is not None
    assert len(response.headers["x"]) == 64 * 1024 - len(HEAD) - 3 - 4


def test_head_over_64_kib_in_one_piece_raises() -> None:
    reader = ResponseReader()
    reader.feed(HEAD + b"X: " + b"a" * (64 * 1024) + b"\r\nContent-Length: 0\r\n\r\n")
    with pytest.raises(MalformedResponse):
        reader.next_response()


def test_chunk_size_line_over_limit_raises() -> None:
    reader = ResponseReader()
    reader.feed(CHUNKED_HEAD + b"1;" + b"e" * 5000)
    with pytest.raises(MalformedResponse, match="too long"):
        reader.next_response()


@pytest.mark.parametrize("status", [b"+200", b"2_00", b"-200", "٢٠٠".encode(), "²²²".encode()])
def test_status_code_must_be_three_ascii_digits(status: bytes) -> None:
    with pytest.raises(MalformedResponse):
        parse_head(b"HTTP/1.1 " + status + b" OK")


# The request writer, read back by an independent HTTP/1.1 implementation (h11).


def server_side(data: bytes) -> list[object]:
    """The events h11, as a server, reads from ``data``."""
    import h11

    connection = h11.Connection(h11.SERVER)
    connection.receive_data(data)
    events: list[object] = []
    while True:
        event = connection.next_event()
        if event is h11.NEED_DATA:
            return events
        events.append(event)
        if isinstance(event, h11.EndOfMessage):
            return events


def test_request_head_with_content_length_reads_back() -> None:
    import h11

    head = request_head("POST /path HTTP/1.1", "Host: h\r\nX-Name: café\r\n", 5)
    assert head == (
        b"POST /path HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9\r\nContent-Length: 5\r\n\r\n"
    )
    request, data, end = server_side(head + b"hello")
    assert isinstance(request, h11.Request)
    assert (request.method, request.target) == (b"POST", b"/path")
    assert isinstance(data, h11.Data)
    assert data.data == b"hello"
    assert isinstance(end, h11.EndOfMessage)


def test_chunked_body_with_trailers_reads_back() -> None:
    import h11

    names = ["X-Error-Type", "X-Error-Body"]
    head = chunked_head("POST /stream HTTP/1.1", "Host: h\r\n", names)
    assert head == (
        b"POST /stream HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
        b"Trailer: X-Error-Type, X-Error-Body\r\n\r\n"
    )
    body = ChunkedBody(names)
    parts = [*body.chunk(b"a" * 17), *body.chunk(b""), *body.chunk(b"bc")]
    assert parts == [b"11\r\n", b"a" * 17, b"\r\n", b"2\r\n", b"bc", b"\r\n"]
    last = body.end({"X-Error-Type": "ValueError", "x-error-body": "eyJ9"})
    assert last == b"0\r\nX-Error-Type: ValueError\r\nx-error-body: eyJ9\r\n\r\n"
    assert body.ended
    events = server_side(head + b"".join(parts) + last)
    received = b"".join(bytes(e.data) for e in events if isinstance(e, h11.Data))
    assert received == b"a" * 17 + b"bc"
    end = events[-1]
    assert isinstance(end, h11.EndOfMessage)
    assert list(end.headers) == [(b"x-error-type", b"ValueError"), (b"x-error-body", b"eyJ9")]


def test_chunked_body_without_trailers() -> None:
    body = ChunkedBody()
    assert chunked_head("POST / HTTP/1.1", "") == (
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    assert body.end() == b"0\r\n\r\n"


def test_nothing_after_the_last_chunk() -> None:
    body = ChunkedBody()
    body.end()
    with pytest.raises(ValueError, match="after the last chunk"):
        body.chunk(b"x")
    with pytest.raises(ValueError, match="already ended"):
        body.end()


@pytest.mark.parametrize(
    "trailers",
    [{"X-Other": "v"}, {"X-Type": "a\r\nInjected: 1"}, {"X-Type": "a\nb"}, {"X-Type": "\x00"}],
    ids=["not-announced", "crlf", "lf", "nul"],
)
def test_bad_trailers_are_refused(trailers: dict[str, str]) -> None:
    body = ChunkedBody(["X-Type"])
    with pytest.raises(ValueError):
        body.end(trailers)
    assert not body.ended
