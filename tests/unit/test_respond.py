"""Streaming handlers: which results Respond streams, the stream objects, the chunks, the prelude."""

from __future__ import annotations

import array
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

import ric
from ric.errors import MarshalError
from ric.marshal import Codec
from ric.outcome import Buffered, Streamed
from ric.records import ErrorLog
from ric.runtime import Failures, Respond
from ric.stream import DELIMITER, HTTP_INTEGRATION, Chunks, HttpStream, Stream, as_bytes


def untyped(value: object) -> Any:
    """A value of the wrong type, given as a caller without type checks would."""
    return value


def respond(result: object, logged: list[ErrorLog] | None = None) -> Any:
    failures = Failures("/cwd", (logged if logged is not None else []).append)
    return Respond(Codec(), failures)(result, "r1")


# Classification


def gen() -> Iterator[bytes]:
    yield b"x"


class Countdown:
    """An iterator that is not a generator."""

    def __init__(self) -> None:
        self.left = 2

    def __iter__(self) -> Countdown:
        return self

    def __next__(self) -> bytes:
        if not self.left:
            raise StopIteration
        self.left -= 1
        return b"%d" % self.left


class IteratingDict(dict[str, int]):
    def __next__(self) -> int:
        return 1


@pytest.mark.parametrize(
    "result",
    [gen(), iter([b"a"]), map(str.encode, ["a"]), Countdown()],
    ids=["generator", "list-iterator", "map", "iterator-class"],
)
def test_an_iterator_streams_as_octets(result: object) -> None:
    outcome = respond(result)
    assert isinstance(outcome, Streamed)
    assert (outcome.content_type, outcome.prelude) == ("application/octet-stream", b"")


@pytest.mark.parametrize(
    "result",
    [{"a": [1, "é"]}, [1, 2], "text", b"\x00\xff", None, 3, 2.5, True, (1,), IteratingDict(a=1)],
    ids=["dict", "list", "str", "bytes", "none", "int", "float", "bool", "tuple", "dict-sub"],
)
def test_everything_else_stays_buffered_byte_for_byte(result: object) -> None:
    outcome = respond(result)
    assert isinstance(outcome, Buffered)
    assert (outcome.body, outcome.content_type) == Codec().encode(result)


def test_a_value_json_refuses_is_still_a_marshal_error() -> None:
    with pytest.raises(MarshalError, match="Object of type set is not JSON serializable"):
        respond({1, 2})


def test_a_stream_has_its_content_type() -> None:
    outcome = respond(Stream([b"a"], "text/event-stream"))
    assert isinstance(outcome, Streamed)
    assert isinstance(outcome.chunks, Chunks)
    assert (outcome.content_type, outcome.prelude, list(outcome.chunks)) == (
        "text/event-stream",
        b"",
        [b"a"],
    )
    assert Stream([]).content_type == "application/octet-stream"


def test_an_http_stream_has_its_prelude() -> None:
    outcome = respond(HttpStream([b"body"]))
    assert isinstance(outcome, Streamed)
    assert (
        outcome.content_type
        == HTTP_INTEGRATION
        == ("application/vnd.awslambda.http-integration-response")
    )
    assert outcome.prelude == b'{"statusCode":200,"headers":{},"cookies":[]}' + bytes(8)
    assert DELIMITER == b"\x00" * 8


def test_the_prelude_holds_status_headers_and_cookies() -> None:
    stream = HttpStream(
        "<p>é</p>",
        status_code=404,
        headers={"Content-Type": "text/html; charset=utf-8", "X-Note": "ünï"},
        cookies=("a=1; Secure", "b=2"),
    )
    outcome = respond(stream)
    assert outcome.prelude == (
        b'{"statusCode":404,"headers":{"Content-Type":"text/html; charset=utf-8",'
        b'"X-Note":"\xc3\xbcn\xc3\xaf"},"cookies":["a=1; Secure","b=2"]}' + bytes(8)
    )
    assert list(outcome.chunks) == ["<p>é</p>".encode()]  # a whole str body: one chunk


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (
            lambda: Stream(untyped(3)),
            TypeError,
            "body must be an iterable or async iterable of bytes or str, not int",
        ),
        (lambda: Stream([], "text/plain\r\nX: 1"), ValueError, "line break or NUL"),
        (
            lambda: Stream([], untyped(b"text/plain")),
            TypeError,
            "content_type must be a str, not bytes",
        ),
        (
            lambda: HttpStream([], status_code=untyped("200")),
            TypeError,
            "status_code must be an int",
        ),
        (lambda: HttpStream([], status_code=True), TypeError, "status_code must be an int"),
        (lambda: HttpStream([], status_code=99), ValueError, "from 100 to 599, not 99"),
        (
            lambda: HttpStream([], headers=untyped({"a": 1})),
            TypeError,
            "headers must map str to str",
        ),
        (lambda: HttpStream([], cookies="a=1"), TypeError, "not one str"),
        (lambda: HttpStream([], cookies=untyped([1])), TypeError, "not one of int"),
    ],
    ids=[
        "body",
        "content-type-crlf",
        "content-type-bytes",
        "status-str",
        "status-bool",
        "status-range",
        "headers",
        "cookies-str",
        "cookies-int",
    ],
)
def test_a_bad_stream_is_refused_where_it_is_made(make: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        make()


def test_streams_show_what_they_hold() -> None:
    assert repr(Stream([b"a"], "text/plain")) == "Stream([b'a'], 'text/plain')"
    assert (
        repr(HttpStream(b"x", 201, {"a": "b"}, ["c"])) == "HttpStream(b'x', 201, {'a': 'b'}, ['c'])"
    )


def test_the_classes_are_exported_lazily() -> None:
    assert (ric.Stream, ric.HttpStream) == (Stream, HttpStream)
    code = (
        "import sys, ric, ric.runtime\n"
        "before = 'ric.stream' in sys.modules\n"
        "ric.Stream\n"
        "print(before, 'ric.stream' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert (result.stdout, result.stderr) == ("False True\n", "")


# Chunks


@pytest.mark.parametrize(
    ("chunk", "data"),
    [
        (b"raw", b"raw"),
        ("é", b"\xc3\xa9"),
        (bytearray(b"ba"), b"ba"),
        (memoryview(b"mv"), b"mv"),
        (memoryview(array.array("H", [1])), b"\x01\x00"),
        (type("Sub", (bytes,), {})(b"s"), b"s"),
        (type("Sub", (str,), {"encode": lambda self: b"no"})("s"), b"s"),
    ],
    ids=["bytes", "str", "bytearray", "memoryview", "memoryview-of-shorts", "bytes-sub", "str-sub"],
)
def test_chunks_are_bytes(chunk: object, data: bytes) -> None:
    (out,) = Chunks(iter([chunk]), lambda: None)
    assert (type(out), out) == (bytes, data)


@pytest.mark.parametrize(
    ("chunk", "name"), [(1, "int"), ({"a": 1}, "dict"), (None, "NoneType"), ([b"a"], "list")]
)
def test_a_chunk_of_another_type_is_a_marshal_error(chunk: object, name: str) -> None:
    with pytest.raises(MarshalError) as info:
        as_bytes(chunk)
    assert info.value.error_type == "Runtime.MarshalError"
    assert info.value.message == (
        f"Unable to marshal response: a stream chunk must be bytes or str, not {name}"
    )


def test_a_lone_surrogate_is_a_marshal_error() -> None:
    with pytest.raises(MarshalError, match="Unable to marshal response: 'utf-8' codec"):
        as_bytes("\ud800")


def test_closing_chunks_closes_the_source_then_flushes() -> None:
    events: list[str] = []

    def source() -> Iterator[bytes]:
        try:
            yield b"a"
            yield b"b"
        finally:
            events.append("closed")

    chunks = Chunks(source(), lambda: events.append("flushed"))
    assert next(chunks) == b"a"
    chunks.close()
    assert events == ["closed", "flushed"]
    Chunks(iter([b"a"]), lambda: events.append("flushed again")).close()  # nothing to close
    assert events[-1] == "flushed again"
