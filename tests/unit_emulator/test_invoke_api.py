"""emulator.protocols.invoke_api: what an Invoke request asks for, or Lambda's refusal."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

import pytest

from emulator.errors import ApiError
from emulator.protocols.invoke_api import CLIENT_CONTEXT_LIMIT, InvocationType, parse

PATH = "/2015-03-31/functions/{}/invocations"


def refusal(identifier: str, query: Mapping[str, str] | None = None, **headers: str) -> ApiError:
    with pytest.raises(ApiError) as caught:
        parse("POST", PATH.format(identifier), query or {}, headers)
    return caught.value


@pytest.mark.parametrize(
    ("identifier", "query", "name", "qualifier"),
    [
        ("fn", {}, "fn", None),
        ("fn:prod", {}, "fn", "prod"),
        ("fn", {"Qualifier": "$LATEST"}, "fn", "$LATEST"),
        ("arn:aws:lambda:us-east-1:123456789012:function:fn:7", {}, "fn", "7"),
        ("123456789012:function:fn", {}, "fn", None),
    ],
)
def test_names_arns_and_qualifiers(
    identifier: str, query: dict[str, str], name: str, qualifier: str | None
) -> None:
    wanted = parse("POST", PATH.format(identifier), query, {})
    assert (wanted.name, wanted.qualifier) == (name, qualifier)
    assert wanted.invocation_type is InvocationType.REQUEST_RESPONSE


@pytest.mark.parametrize(
    ("identifier", "query"),
    [("fn:bad\x01", {}), ("fn", {"Qualifier": "a b"}), ("f n", {}), ("x" * 171, {})],
)
def test_a_name_or_qualifier_outside_the_pattern_is_a_validation_error(
    identifier: str, query: dict[str, str]
) -> None:
    error = refusal(identifier, query)
    assert (error.status, error.error_type) == (400, "ValidationException")
    assert error.message.startswith("1 validation error detected: Value '")
    assert "\x01" not in error.message


def test_a_qualifier_in_the_name_and_another_in_the_query_is_refused() -> None:
    error = refusal("fn:a", {"Qualifier": "b"})
    assert (error.status, error.error_type) == (400, "InvalidParameterValueException")


def context(value: object) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def test_a_client_context_over_3583_bytes_is_refused() -> None:
    big = context({"custom": {"k": "v" * 4000}})
    assert len(big) > CLIENT_CONTEXT_LIMIT
    error = refusal("fn", None, **{"x-amz-client-context": big})
    assert (error.status, error.error_type) == (400, "InvalidRequestContentException")
    assert str(CLIENT_CONTEXT_LIMIT) in error.message


@pytest.mark.parametrize(("kind", "tail"), [("RequestResponse", True), ("Event", False)])
def test_a_log_tail_is_for_synchronous_invocations_only(kind: str, tail: bool) -> None:
    headers = {"x-amz-invocation-type": kind, "x-amz-log-type": "Tail"}
    assert parse("POST", PATH.format("fn"), {}, headers).tail is tail


def test_a_client_context_reaches_synchronous_invocations_only() -> None:
    headers = {"x-amz-client-context": context({"custom": {"k": "v"}})}
    sync = parse("POST", PATH.format("fn"), {}, headers)
    assert sync.client_context == '{"custom":{"k":"v"}}'
    event = parse("POST", PATH.format("fn"), {}, {**headers, "x-amz-invocation-type": "Event"})
    assert event.client_context is None


def test_other_methods_are_unknown_operations() -> None:
    with pytest.raises(ApiError) as caught:
        parse("HEAD", PATH.format("fn"), {}, {})
    assert (caught.value.status, caught.value.error_type) == (404, "UnknownOperationException")


STREAM_PATH = "/2021-11-15/functions/{}/response-streaming-invocations"


def test_invoke_with_response_stream_takes_the_same_request() -> None:
    wanted = parse("POST", STREAM_PATH.format("fn:prod"), {}, {"x-amz-log-type": "Tail"})
    assert (wanted.name, wanted.qualifier, wanted.tail, wanted.streaming) == (
        "fn",
        "prod",
        True,
        True,
    )
    assert not parse("POST", PATH.format("fn"), {}, {}).streaming


def test_invoke_with_response_stream_has_no_event_invocation_type() -> None:
    with pytest.raises(ApiError) as caught:
        parse("POST", STREAM_PATH.format("fn"), {}, {"x-amz-invocation-type": "Event"})
    assert caught.value.error_type == "InvalidParameterValueException"
    assert "RequestResponse, DryRun" in caught.value.message
