"""ric.web.asgi_result against Mangum (from PyPI): the same response gives the same result.

Mangum's format handlers take the response an ASGI app sent (status, header
fields as bytes, body) and return the Lambda result: each case goes through
both, for every sample event.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

import mangum.handlers
import pytest
from mangum.adapter import DEFAULT_TEXT_MIME_TYPES
from mangum.handlers.alb import all_casings
from mangum.types import LambdaConfig

from ric.web.asgi_result import TEXT_TYPES, casings, render
from ric.web.events import Response, parse
from tests.unit.test_web_events import CONTEXT, SAMPLES, sample

CASES: dict[str, tuple[list[tuple[str, str]], bytes]] = {
    "json": ([("Content-Type", "application/json")], b'{"a": 1}'),
    "html": ([("content-type", "text/html; charset=utf-8")], "café".encode()),
    "png": ([("Content-Type", "image/png")], b"\x89PNG\r\n\x1a\n\xff"),
    "no type": ([], b"\x00\x01"),
    "empty": ([("Content-Type", "image/png")], b""),
    "not utf-8": ([("Content-Type", "text/plain")], b"\xff\xfe"),
    "xml": ([("Content-Type", "application/xml")], b"<a/>"),
    "gzip html": ([("Content-Type", "text/html"), ("Content-Encoding", "gzip")], b"\x1f\x8b\x08"),
    "repeats": (
        [
            ("Content-Type", "text/plain"),
            ("Set-Cookie", "a=1"),
            ("set-cookie", "b=2; HttpOnly"),
            ("X-Many", "1"),
            ("X-Many", "2"),
            ("X-Many", "3"),
            ("Vary", "Accept"),
        ],
        b"ok",
    ),
}


def mangum_result(event: dict[str, Any], status: int, headers: Any, body: bytes) -> Any:
    config = LambdaConfig(
        api_gateway_base_path="/", text_mime_types=list(DEFAULT_TEXT_MIME_TYPES), exclude_headers=[]
    )
    for handler in (mangum.handlers.ALB, mangum.handlers.HTTPGateway, mangum.handlers.APIGateway):
        if handler.infer(event, CONTEXT, config):
            fields = [[name.encode(), value.encode()] for name, value in headers]
            return handler(event, CONTEXT, config)(
                {"status": status, "headers": fields, "body": body}
            )
    raise AssertionError("Mangum reads no handler from the sample")


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_result_is_mangums(name: str, case: str) -> None:
    headers, body = CASES[case]
    event = sample(name)
    ours = render(parse(event, CONTEXT), Response(203, headers, body))
    assert ours == mangum_result(event, 203, headers, body)


def test_the_text_types_are_mangums() -> None:
    assert list(TEXT_TYPES) == DEFAULT_TEXT_MIME_TYPES


@pytest.mark.parametrize("name", ["set-cookie", "x-1", "a", "-"])
def test_casings_come_in_mangums_order(name: str) -> None:
    assert list(islice(casings(name), 64)) == list(islice(all_casings(name), 64))


def test_a_result_can_take_other_text_types() -> None:
    request = parse(sample("http-api"), CONTEXT)
    result = render(request, Response(200, [("Content-Type", "image/svg+xml")], b"<svg/>"), ["svg"])
    assert (result["body"], result["isBase64Encoded"]) == ("<svg/>", False)
