"""The stream handlers: the same bytes for the Invoke API and for a function URL's event."""

from __future__ import annotations

import json
from collections.abc import Iterable

import handlers
from stream_timing import parse_stamp

import ric

SPEC = {"chunks": 3, "size": 25}
# A function URL's event (payload format 2.0), as far as the handlers read it.
URL_EVENT = {"requestContext": {"http": {"method": "POST"}}, "body": json.dumps(SPEC)}


def _body(chunks: object) -> bytes:
    assert isinstance(chunks, Iterable)
    return b"".join(chunks)


def test_a_stream_is_its_chunks_stamped_first() -> None:
    chunks = list(handlers.stream(SPEC, None))  # type: ignore[call-overload]
    assert [len(chunk) for chunk in chunks] == [25, 25, 25]
    assert parse_stamp(chunks[0]) > 0 and chunks[1] == b"x" * 25


def test_a_function_url_gets_an_http_stream_of_the_same_bytes() -> None:
    answer = handlers.stream(URL_EVENT, None)  # type: ignore[arg-type]
    assert isinstance(answer, ric.HttpStream)
    assert answer.prelude == {"statusCode": 200, "headers": {}, "cookies": []}
    body = _body(answer.body)
    assert len(body) == 75 and parse_stamp(body) > 0


def test_the_buffered_answer_is_the_same_bytes_whole() -> None:
    for event in (SPEC, URL_EVENT):
        body = handlers.stream_buffered(event, None)  # type: ignore[arg-type]
        assert isinstance(body, bytes)
        assert len(body) == 75 and parse_stamp(body) > 0 and body.endswith(b"x" * 55)
