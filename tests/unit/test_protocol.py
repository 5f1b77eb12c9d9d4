"""ric.protocol: Runtime API request bytes and invocation parsing, without I/O."""

from __future__ import annotations

import pytest

from ric.errors import MalformedResponse
from ric.protocol import XRAY_CAUSE_LIMIT, ErrorReport, Invocation, RequestBuilder, parse_invocation
from ric.wire import Response

BUILDER = RequestBuilder("127.0.0.1:9001", "ua/1.0")
COMMON = b"Host: 127.0.0.1:9001\r\nUser-Agent: ua/1.0\r\n"
ALL_HEADERS = {
    "lambda-runtime-aws-request-id": "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
    "lambda-runtime-deadline-ms": "1542409706888",
    "lambda-runtime-invoked-function-arn": "arn:aws:lambda:us-east-2:123456789012:function:f",
    "lambda-runtime-trace-id": "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1",
    "lambda-runtime-client-context": '{"custom":{"k":"v"}}',
    "lambda-runtime-cognito-identity": '{"cognitoIdentityId":"id"}',
    "lambda-runtime-aws-tenant-id": "tenant-1",
    "lambda-runtime-invocation-id": "inv-42",
    "content-type": "application/json",
}


def invocation(**headers: str) -> Invocation:
    return parse_invocation(Response(200, {"lambda-runtime-aws-request-id": "rid", **headers}, b""))


def test_next() -> None:
    assert (
        BUILDER.next == b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n" + COMMON + b"\r\n"
    )


def test_response() -> None:
    head, body = BUILDER.response(invocation(), b'{"ok":true}', "application/json")
    assert head == (
        b"POST /2018-06-01/runtime/invocation/rid/response HTTP/1.1\r\n"
        + COMMON
        + b"Content-Type: application/json\r\nContent-Length: 11\r\n\r\n"
    )
    assert body == b'{"ok":true}'


def test_response_echoes_invocation_id() -> None:
    inv = invocation(**{"lambda-runtime-invocation-id": "inv-42"})
    head, body = BUILDER.response(inv, b"\x00\xff", "application/unknown")
    assert head == (
        b"POST /2018-06-01/runtime/invocation/rid/response HTTP/1.1\r\n"
        + COMMON
        + b"Content-Type: application/unknown\r\n"
        + b"Lambda-Runtime-Invocation-Id: inv-42\r\n"
        + b"Content-Length: 2\r\n\r\n"
    )
    assert body == b"\x00\xff"


def test_empty_response_body() -> None:
    head, body = BUILDER.response(invocation(), b"", "application/json")
    assert head.endswith(b"\r\nContent-Length: 0\r\n\r\n")
    assert body == b""


REPORT = ErrorReport("Runtime.X", b'{"errorMessage": "m"}', b'{"working_directory": "/"}')


@pytest.mark.parametrize(
    ("headers", "echo"),
    [
        ({}, b""),
        ({"lambda-runtime-invocation-id": "inv-42"}, b"Lambda-Runtime-Invocation-Id: inv-42\r\n"),
    ],
    ids=["plain", "invocation-id"],
)
def test_error(headers: dict[str, str], echo: bytes) -> None:
    head, body = BUILDER.error(invocation(**headers), REPORT)
    assert head == (
        b"POST /2018-06-01/runtime/invocation/rid/error HTTP/1.1\r\n"
        + COMMON
        + b"Lambda-Runtime-Function-Error-Type: Runtime.X\r\n"
        + b"Content-Type: application/json\r\n"
        + b'Lambda-Runtime-Function-XRay-Error-Cause: {"working_directory": "/"}\r\n'
        + echo
        + b"Content-Length: 21\r\n\r\n"
    )
    assert body == b'{"errorMessage": "m"}'


def test_error_without_cause() -> None:
    head, _ = BUILDER.error(invocation(), ErrorReport("Runtime.X", b"{}"))
    assert head == (
        b"POST /2018-06-01/runtime/invocation/rid/error HTTP/1.1\r\n"
        + COMMON
        + b"Lambda-Runtime-Function-Error-Type: Runtime.X\r\n"
        + b"Content-Type: application/json\r\n"
        + b"Content-Length: 2\r\n\r\n"
    )


def test_cause_keeps_utf8() -> None:
    cause = '{"message": "é"}'.encode()
    head, _ = BUILDER.error(invocation(), ErrorReport("E", b"{}", cause))
    assert b"\r\nLambda-Runtime-Function-XRay-Error-Cause: " + cause + b"\r\n" in head


@pytest.mark.parametrize(
    ("size", "sent"),
    [(XRAY_CAUSE_LIMIT - 1, True), (XRAY_CAUSE_LIMIT, False), (XRAY_CAUSE_LIMIT + 1, False)],
    ids=["below-1MiB", "exactly-1MiB", "above-1MiB"],
)
def test_cause_dropped_from_1_mib(size: int, sent: bool) -> None:
    assert XRAY_CAUSE_LIMIT == 1048576
    cause = b"c" * size
    head, _ = BUILDER.error(invocation(), ErrorReport("E", b"{}", cause))
    header = b"\r\nLambda-Runtime-Function-XRay-Error-Cause: " + cause + b"\r\n"
    assert (header in head) is sent
    assert head.count(b"XRay-Error-Cause") == int(sent)


def test_init_error() -> None:
    report = ErrorReport("Runtime.ImportModuleError", b'{"errorMessage": "x"}', b"{}")
    head, body = BUILDER.init_error(report)
    assert head == (
        b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\n"
        + COMMON
        + b"Lambda-Runtime-Function-Error-Type: Runtime.ImportModuleError\r\n"
        + b"Content-Type: application/json\r\n"
        + b"Lambda-Runtime-Function-XRay-Error-Cause: {}\r\n"
        + b"Content-Length: 21\r\n\r\n"
    )
    assert body == b'{"errorMessage": "x"}'


def test_parse_invocation_reads_every_header() -> None:
    inv = parse_invocation(Response(200, dict(ALL_HEADERS), b'{"n":1}'))
    assert (
        inv.request_id,
        inv.body,
        inv.deadline_ms,
        inv.function_arn,
        inv.trace_id,
        inv.client_context,
        inv.cognito_identity,
        inv.tenant_id,
        inv.invocation_id,
        inv.content_type,
    ) == (
        "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
        b'{"n":1}',
        1542409706888,
        "arn:aws:lambda:us-east-2:123456789012:function:f",
        "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Sampled=1",
        '{"custom":{"k":"v"}}',
        '{"cognitoIdentityId":"id"}',
        "tenant-1",
        "inv-42",
        "application/json",
    )


def test_parse_invocation_defaults() -> None:
    inv = invocation()
    assert (
        inv.deadline_ms,
        inv.function_arn,
        inv.trace_id,
        inv.client_context,
        inv.cognito_identity,
        inv.tenant_id,
        inv.invocation_id,
        inv.content_type,
    ) == (0, "", None, None, None, None, None, "")


@pytest.mark.parametrize(
    "headers", [{}, {"lambda-runtime-aws-request-id": ""}], ids=["missing", "empty"]
)
def test_request_id_required(headers: dict[str, str]) -> None:
    with pytest.raises(MalformedResponse, match="Request-Id"):
        parse_invocation(Response(200, headers, b"{}"))


@pytest.mark.parametrize("deadline", ["", "abc", "-1", "1.5e12", "12 34", "1" * 20, "9" * 5000])
def test_non_numeric_deadline_is_zero(deadline: str) -> None:
    assert invocation(**{"lambda-runtime-deadline-ms": deadline}).deadline_ms == 0


def test_superscript_deadline_is_zero() -> None:
    assert invocation(**{"lambda-runtime-deadline-ms": "²"}).deadline_ms == 0
