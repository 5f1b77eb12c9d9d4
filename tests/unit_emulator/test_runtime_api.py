"""emulator.protocols.runtime_api: what a runtime's streamed response says of itself."""

from __future__ import annotations

import base64
import json

import pytest

from emulator.protocols.runtime_api import is_streamed, streamed_error

TYPE = "lambda-runtime-function-error-type"
BODY = "lambda-runtime-function-error-body"


@pytest.mark.parametrize(
    ("headers", "streamed"),
    [
        ({"lambda-runtime-function-response-mode": "streaming"}, True),  # Node's
        ({"lambda-runtime-function-response-mode": "Streaming"}, True),
        ({"transfer-encoding": "chunked"}, True),  # Go's: no mode, a chunked body
        ({"content-length": "2"}, False),
        ({}, False),
    ],
)
def test_a_stream_is_told_by_its_mode_or_its_chunked_body(
    headers: dict[str, str], streamed: bool
) -> None:
    assert is_streamed(headers) is streamed


def test_error_trailers_give_the_decoded_error_body() -> None:
    error = b'{"errorType":"KeyError","errorMessage":"x"}'
    trailers = {TYPE: "KeyError", BODY: base64.b64encode(error).decode()}
    assert streamed_error(trailers) == error
    assert streamed_error({}) is None


@pytest.mark.parametrize(
    ("body", "message"),
    [("", ""), ("not base64!", "the error body in the response's trailers is not base64")],
)
def test_an_error_type_without_a_usable_body_still_names_the_type(body: str, message: str) -> None:
    failure = streamed_error({TYPE: "Custom.Error", BODY: body})
    assert failure is not None
    assert json.loads(failure) == {"errorType": "Custom.Error", "errorMessage": message}
