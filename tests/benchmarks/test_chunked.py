"""The fake Runtime API's framing: request heads, chunked bodies with trailers, sized bodies."""

from __future__ import annotations

import pytest
from chunked import (
    MAX_LINE,
    ChunkedBody,
    SizedBody,
    body_reader,
    parse_head,
    parse_response_head,
)

# As Node's aws-lambda-ric sends a stream (seen on the wire): the mode header,
# two Trailer lines, then chunks as written; here two, then error trailers.
NODE_HEAD = (
    b"POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1\r\n"
    b"Lambda-Runtime-Function-Response-Mode: streaming\r\n"
    b"Trailer: Lambda-Runtime-Function-Error-Type\r\n"
    b"Trailer: Lambda-Runtime-Function-Error-Body\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"Host: 127.0.0.1:9001"
)
BODY = (
    b"5\r\nhello\r\n"
    b"1A;name=value\r\n" + b"x" * 26 + b"\r\n"
    b"0\r\n"
    b"Lambda-Runtime-Function-Error-Type: Runtime.Oops\r\n"
    b"Lambda-Runtime-Function-Error-Body: e30=\r\n"
    b"\r\n"
)
PIPELINED = b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n\r\n"


def _fed(body: ChunkedBody | SizedBody, parts: list[bytes]) -> bytes:
    """Feed ``parts`` in turn; the bytes left over after the body ended."""
    rest = b""
    for part in parts:
        used = body.feed(part)
        rest += part[used:]
    return rest


def _check(body: ChunkedBody) -> None:
    assert body.done
    assert body.data_bytes == 31
    assert body.chunks == 2
    assert body.prefix == b"hellox"
    assert body.trailers == (
        ("Lambda-Runtime-Function-Error-Type", "Runtime.Oops"),
        ("Lambda-Runtime-Function-Error-Body", "e30="),
    )


def test_a_chunked_body_in_one_piece_leaves_the_pipelined_request() -> None:
    body = ChunkedBody(keep=6)
    assert _fed(body, [BODY + PIPELINED]) == PIPELINED
    _check(body)


def test_a_chunked_body_cut_anywhere_reads_the_same() -> None:
    wire = BODY + PIPELINED
    for cut in range(1, len(wire)):
        body = ChunkedBody(keep=6)
        assert _fed(body, [wire[:cut], wire[cut:]]) == PIPELINED, cut
        _check(body)


def test_a_chunked_body_byte_by_byte() -> None:
    body = ChunkedBody(keep=6)
    assert _fed(body, [bytes([b]) for b in BODY + PIPELINED]) == PIPELINED
    _check(body)


def test_large_chunks_are_counted_not_kept() -> None:
    size = 1 << 20
    body = ChunkedBody(keep=20)
    chunk = b"%X\r\n" % size + b"y" * size + b"\r\n"
    assert body.feed(memoryview(bytearray(chunk * 3 + b"0\r\n\r\n"))) == len(chunk) * 3 + 5
    assert (body.data_bytes, body.chunks, body.prefix, body.trailers) == (
        3 * size,
        3,
        b"y" * 20,
        (),
    )


def test_no_trailers_and_nothing_after() -> None:
    body = ChunkedBody()
    assert _fed(body, [b"3\r\nabc\r\n0\r\n\r\n"]) == b""
    assert body.done and body.prefix == b""


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        (b"zz\r\n", "not a chunk size"),
        (b"\r\n", "not a chunk size"),
        (b"-5\r\nhello\r\n", "not a chunk size"),
        (b"3\r\nabcd\r\n", "longer than its size"),
        (b"0\r\nno colon\r\n\r\n", "not a trailer field"),
        (b"0\r\n :value\r\n\r\n", "not a trailer field"),
        (b"1" * (MAX_LINE + 100), "never ends"),
    ],
)
def test_bad_framing_is_refused(wire: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ChunkedBody().feed(wire)


def test_a_sized_body_stops_at_its_length() -> None:
    body = SizedBody(10, keep=4)
    assert not body.done
    assert _fed(body, [b"0123", b"456789" + PIPELINED]) == PIPELINED
    assert (body.done, body.data_bytes, body.prefix, body.chunks) == (True, 10, b"0123", 1)
    assert SizedBody(0).done


def test_the_head_as_node_sends_it() -> None:
    head = parse_head(NODE_HEAD)
    assert (head.method, head.target) == ("POST", "/2018-06-01/runtime/invocation/req-1/response")
    assert head.values("trailer") == [
        "Lambda-Runtime-Function-Error-Type",
        "Lambda-Runtime-Function-Error-Body",
    ]
    assert head.value("LAMBDA-RUNTIME-FUNCTION-RESPONSE-MODE") == "streaming"
    assert head.value("Content-Length") is None
    assert isinstance(body_reader(head), ChunkedBody)


def test_go_style_lists_both_trailers_on_one_line() -> None:
    head = parse_head(
        b"POST /r HTTP/1.1\r\ntransfer-encoding: chunked\r\n"
        b"trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body"
    )
    assert head.values("Trailer") == [
        "Lambda-Runtime-Function-Error-Type",
        "Lambda-Runtime-Function-Error-Body",
    ]
    assert head.value("trailer") == (
        "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body"
    )


def test_the_reader_for_each_framing() -> None:
    def reader(*fields: bytes) -> ChunkedBody | SizedBody:
        return body_reader(parse_head(b"\r\n".join([b"POST /r HTTP/1.1", *fields])))

    sized = reader(b"Content-Length: 12")
    assert isinstance(sized, SizedBody) and sized.left == 12
    assert reader().done  # no body at all
    # RFC 9112 section 6.3: with both, Transfer-Encoding wins.
    assert isinstance(
        reader(b"Content-Length: 5", b"Transfer-Encoding: gzip, chunked"), ChunkedBody
    )
    with pytest.raises(ValueError, match="no length"):
        reader(b"Transfer-Encoding: gzip")
    with pytest.raises(ValueError, match="Content-Length"):
        reader(b"Content-Length: -1")


@pytest.mark.parametrize(
    "raw", [b"GET /next", b"GET /next HTTP/1.1\r\nNoColon", b"GET / HTTP/1.1\r\n Folded: x"]
)
def test_bad_heads_are_refused(raw: bytes) -> None:
    with pytest.raises(ValueError, match="not a"):
        parse_head(raw)


def test_a_response_head_as_the_emulator_sends_it() -> None:
    head = parse_response_head(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.amazon.eventstream\r\n"
        b"X-Amzn-RequestId: r-1\r\nTransfer-Encoding: chunked"
    )
    assert head.status == 200
    assert head.value("content-type") == "application/vnd.amazon.eventstream"
    assert isinstance(body_reader(head), ChunkedBody)
    # A reason phrase may hold spaces, or be empty (RFC 9112 section 4).
    assert parse_response_head(b"HTTP/1.1 502 Bad Gateway").status == 502
    assert parse_response_head(b"HTTP/1.1 299 ").status == 299
    assert parse_response_head(b"HTTP/1.1 204").fields == ()


@pytest.mark.parametrize("raw", [b"POST / HTTP/1.1", b"HTTP/1.1 OK", b"HTTP/1.1 200 OK\r\nBad"])
def test_bad_status_lines_are_refused(raw: bytes) -> None:
    with pytest.raises(ValueError, match="not a"):
        parse_response_head(raw)


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "sized"])
def test_a_sink_is_handed_the_data_piece_by_piece(chunked: bool) -> None:
    pieces: list[bytes] = []
    head = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: 31"
    body = body_reader(
        parse_head(b"POST /r HTTP/1.1\r\n" + head), 3, lambda view: pieces.append(bytes(view))
    )
    wire = BODY if chunked else b"hello" + b"x" * 26
    # Byte by byte: a piece per byte of data, and no empty one.
    assert _fed(body, [wire[i : i + 1] for i in range(len(wire))]) == b""
    assert b"".join(pieces) == b"hello" + b"x" * 26
    assert all(len(piece) == 1 for piece in pieces)
    assert (body.prefix, body.data_bytes) == (b"hel", 31)
