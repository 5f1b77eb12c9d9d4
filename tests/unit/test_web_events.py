"""ric.web.events: HTTP events parsed into one Request, Responses rendered per format.

The sample events follow the examples of the AWS docs for each format (REST
API proxy integration input, HTTP API payload 2.0, ALB target with and
without multi-value headers, function URL request payload). Mangum (from
PyPI) reads the same events: where both read a value, they must agree.
"""

from __future__ import annotations

import base64
import copy
from typing import Any
from urllib.parse import parse_qsl

import mangum.handlers
import pytest
from mangum.types import LambdaConfig

from ric.web import events
from ric.web.events import NotAnHttpEvent, Request, Response, detect, parse, render


def rest() -> dict[str, Any]:
    return {
        "resource": "/my/path",
        "path": "/my/path",
        "httpMethod": "GET",
        "headers": {
            "Host": "abc123.execute-api.us-east-1.amazonaws.com",
            "Cookie": "theme=dark; session=abc",
            "X-Forwarded-For": "192.0.2.10, 198.51.100.1",
            "X-Forwarded-Port": "443",
            "X-Forwarded-Proto": "https",
            "header2": "value2",
        },
        "multiValueHeaders": {
            "Host": ["abc123.execute-api.us-east-1.amazonaws.com"],
            "Cookie": ["theme=dark; session=abc"],
            "X-Forwarded-For": ["192.0.2.10, 198.51.100.1"],
            "X-Forwarded-Port": ["443"],
            "X-Forwarded-Proto": ["https"],
            "header2": ["value1", "value2"],
        },
        "queryStringParameters": {"parameter1": "value2", "parameter2": "a b&c"},
        "multiValueQueryStringParameters": {
            "parameter1": ["value1", "value2"],
            "parameter2": ["a b&c"],
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "httpMethod": "GET",
            "identity": {"sourceIp": "192.0.2.10", "userAgent": "Custom User Agent String"},
            "path": "/prod/my/path",
            "protocol": "HTTP/1.1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "resourcePath": "/my/path",
            "stage": "prod",
        },
        "pathParameters": None,
        "stageVariables": None,
        "body": "Hello from Lambda!",
        "isBase64Encoded": False,
    }


def v2() -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/my/path",
        "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=a+b%26c",
        "cookies": ["theme=dark", "session=abc"],
        "headers": {
            "host": "abc123.execute-api.us-east-1.amazonaws.com",
            "x-forwarded-for": "192.0.2.20",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            "header2": "value1,value2",
        },
        "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "a b&c"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": "POST",
                "path": "/my/path",
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.20",
                "userAgent": "agent",
            },
            "requestId": "id",
            "routeKey": "$default",
            "stage": "$default",
            "time": "12/Mar/2020:19:03:58 +0000",
            "timeEpoch": 1583348638390,
        },
        "body": "Hello from Lambda",
        "pathParameters": {"parameter1": "value1"},
        "isBase64Encoded": False,
        "stageVariables": {"stageVariable1": "value1"},
    }


def function_url() -> dict[str, Any]:
    event = v2()
    event["headers"]["host"] = "abcdefg.lambda-url.us-west-2.on.aws"
    event["requestContext"].update(
        {
            "apiId": "abcdefg",
            "authentication": None,
            "authorizer": {"iam": {"accountId": "111122223333", "userArn": "arn:aws:iam::1"}},
            "domainName": "abcdefg.lambda-url.us-west-2.on.aws",
            "domainPrefix": "abcdefg",
        }
    )
    del event["pathParameters"], event["stageVariables"]
    return event


def alb() -> dict[str, Any]:
    return {
        "requestContext": {
            "elb": {
                "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-2:123456789012:"
                "targetgroup/my-target-group/6d0ecf831eec9f09"
            }
        },
        "httpMethod": "GET",
        "path": "/my/path",
        "queryStringParameters": {"parameter1": "value2", "parameter2": "a%20b%26c"},
        "headers": {
            "accept": "text/html,application/xhtml+xml",
            "content-type": "text/plain",
            "cookie": "theme=dark; session=abc",
            "host": "lambda-846800462-us-east-2.elb.amazonaws.com",
            "x-forwarded-for": "192.0.2.30",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
        },
        "isBase64Encoded": False,
        "body": "request_body",
    }


def alb_multi() -> dict[str, Any]:
    event = alb()
    del event["headers"], event["queryStringParameters"]
    event["multiValueHeaders"] = {
        "accept": ["text/html,application/xhtml+xml"],
        "content-type": ["text/plain"],
        "cookie": ["theme=dark; session=abc"],
        "host": ["lambda-846800462-us-east-2.elb.amazonaws.com"],
        "x-forwarded-for": ["192.0.2.30"],
        "x-forwarded-port": ["443"],
        "x-forwarded-proto": ["https"],
        "header2": ["value1", "value2"],
    }
    event["multiValueQueryStringParameters"] = {
        "parameter1": ["value1", "value2"],
        "parameter2": ["a%20b%26c"],
    }
    return event


SAMPLES = {
    "rest": rest,
    "http-api": v2,
    "function-url": function_url,
    "alb": alb,
    "alb-multi": alb_multi,
}
CONTEXT: Any = object()


def sample(name: str) -> dict[str, Any]:
    return copy.deepcopy(SAMPLES[name]())


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("rest", "1.0"),
        ("http-api", "2.0"),
        ("function-url", "2.0"),
        ("alb", "alb"),
        ("alb-multi", "alb"),
    ],
)
def test_each_sample_is_detected(name: str, kind: str) -> None:
    assert detect(sample(name)) == kind


@pytest.mark.parametrize(
    "event",
    [
        {"Records": [{"eventSource": "aws:s3"}]},
        {},
        [1, 2],
        "GET /",
        {"version": "2.0", "requestContext": {"http": {}}},
        {"httpMethod": "GET", "path": "/", "version": "3.0"},
    ],
)
def test_other_events_raise_a_typed_error_naming_the_formats(event: object) -> None:
    with pytest.raises(NotAnHttpEvent) as raised:
        parse(event, CONTEXT)
    message = raised.value.message
    assert message.startswith("Not an HTTP event: got ")
    for understood in ("payload format 1.0", "payload format 2.0", "Load Balancer", "URL"):
        assert understood in message
    assert raised.value.error_type == type(raised.value).__name__


def test_the_refusal_names_the_keys_it_saw() -> None:
    with pytest.raises(NotAnHttpEvent, match=r"got an object with the keys Records; "):
        detect({"Records": []})
    with pytest.raises(NotAnHttpEvent, match=r"got a JSON list; "):
        detect([])


def test_rest_request() -> None:
    request = parse(sample("rest"), CONTEXT)
    assert (request.format, request.method, request.path) == ("1.0", "GET", "/my/path")
    assert request.query == (
        ("parameter1", "value1"),
        ("parameter1", "value2"),
        ("parameter2", "a b&c"),
    )
    assert request.raw_query == "parameter1=value1&parameter1=value2&parameter2=a+b%26c"
    assert ("header2", "value1") in request.headers
    assert ("header2", "value2") in request.headers
    assert request.cookies == ("theme=dark", "session=abc")
    assert (request.body, request.source_ip, request.multi_value) == (
        b"Hello from Lambda!",
        "192.0.2.10",
        True,
    )
    assert request.event["resource"] == "/my/path"
    assert request.context is CONTEXT


def test_http_api_request() -> None:
    request = parse(sample("http-api"), CONTEXT)
    assert (request.format, request.method, request.protocol) == ("2.0", "POST", "HTTP/1.1")
    assert request.query == (
        ("parameter1", "value1"),
        ("parameter1", "value2"),
        ("parameter2", "a b&c"),
    )
    assert request.raw_query == "parameter1=value1&parameter1=value2&parameter2=a+b%26c"
    assert request.cookies == ("theme=dark", "session=abc")
    assert request.header("HEADER2") == "value1,value2"
    assert (request.source_ip, request.multi_value) == ("192.0.2.20", False)


def test_alb_query_values_are_decoded_once() -> None:
    # The load balancer passes values as the client encoded them.
    for name in ("alb", "alb-multi"):
        request = parse(sample(name), CONTEXT)
        assert ("parameter2", "a b&c") in request.query
        assert "parameter2=a%20b%26c" in request.raw_query
    assert parse(sample("alb"), CONTEXT).multi_value is False
    assert parse(sample("alb-multi"), CONTEXT).multi_value is True


def test_a_base64_body_is_decoded() -> None:
    event = sample("http-api")
    event["body"], event["isBase64Encoded"] = base64.b64encode(b"\x89PNG\x00").decode(), True
    assert parse(event, CONTEXT).body == b"\x89PNG\x00"


def test_missing_parts_read_as_empty() -> None:
    event = sample("rest")
    event.update(multiValueHeaders=None, multiValueQueryStringParameters=None, body=None)
    del event["requestContext"]
    request = parse(event, CONTEXT)
    assert (request.headers, request.query, request.body, request.source_ip) == ((), (), b"", "")
    assert request.header("host") is None


def mangum_reading(event: dict[str, Any]) -> tuple[Any, bytes]:
    config = LambdaConfig(api_gateway_base_path="/", text_mime_types=[], exclude_headers=[])
    for handler in (mangum.handlers.ALB, mangum.handlers.HTTPGateway, mangum.handlers.APIGateway):
        if handler.infer(event, CONTEXT, config):
            reader = handler(event, CONTEXT, config)
            return reader.scope, reader.body
    raise AssertionError("Mangum reads no handler from the sample")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_mangum_reads_the_same_request(name: str) -> None:
    event = sample(name)
    request = parse(event, CONTEXT)
    scope, body = mangum_reading(event)
    assert request.method == scope["method"]
    assert request.path == scope["path"]
    assert list(request.query) == parse_qsl(scope["query_string"].decode(), True)
    assert request.body == body
    assert request.source_ip == scope["client"][0]
    assert scope["aws.event"] is event


def response(headers: list[tuple[str, str]], body: bytes = b"hi") -> Response:
    return Response(201, headers, body)


def test_rest_answers_with_multi_value_headers() -> None:
    headers = [("Content-Type", "text/plain"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]
    result = render(parse(sample("rest"), CONTEXT), response(headers))
    assert result == {
        "statusCode": 201,
        "multiValueHeaders": {"Content-Type": ["text/plain"], "Set-Cookie": ["a=1", "b=2"]},
        "isBase64Encoded": False,
        "body": "hi",
    }


def test_alb_without_multi_value_answers_with_one_value_a_name() -> None:
    headers = [("Content-Type", "text/plain"), ("X-A", "1"), ("X-A", "2")]
    result = render(parse(sample("alb"), CONTEXT), response(headers))
    assert result["headers"] == {"Content-Type": "text/plain", "X-A": "2"}
    assert "multiValueHeaders" not in result


def test_v2_answers_cookies_apart_and_joins_repeats() -> None:
    headers = [
        ("Content-Type", "application/json"),
        ("Set-Cookie", "a=1"),
        ("Vary", "Accept"),
        ("vary", "Cookie"),
        ("set-cookie", "b=2"),
    ]
    result = render(parse(sample("function-url"), CONTEXT), response(headers, b"{}"))
    assert result == {
        "statusCode": 201,
        "headers": {"content-type": "application/json", "vary": "Accept,Cookie"},
        "cookies": ["a=1", "b=2"],
        "isBase64Encoded": False,
        "body": "{}",
    }
    assert Response(200, headers, b"").cookies == ["a=1", "b=2"]


@pytest.mark.parametrize(
    ("headers", "binary"),
    [
        ([("Content-Type", "text/html; charset=utf-8")], False),
        ([("content-type", "application/json")], False),
        ([("Content-Type", "application/problem+json")], False),
        ([("Content-Type", "application/vnd.api+json")], False),
        ([("Content-Type", "image/png")], True),
        ([("Content-Type", "application/octet-stream")], True),
        ([], True),
        ([("Content-Type", "text/html"), ("Content-Encoding", "gzip")], True),
    ],
)
def test_binary_by_content_type_and_encoding(headers: list[tuple[str, str]], binary: bool) -> None:
    assert events.is_binary(headers) is binary
    result = render(parse(sample("http-api"), CONTEXT), response(headers, b"\x00\x01"))
    assert result["isBase64Encoded"] is binary
    assert result["body"] == ("AAE=" if binary else "\x00\x01")


def test_a_text_body_that_is_not_utf8_goes_as_base64() -> None:
    result = render(
        parse(sample("rest"), CONTEXT), response([("Content-Type", "text/plain")], b"\xff")
    )
    assert (result["isBase64Encoded"], result["body"]) == (True, "/w==")


def test_text_types_can_be_chosen() -> None:
    request = parse(sample("alb"), CONTEXT)
    result = render(request, response([("Content-Type", "image/svg+xml")]), ("image/svg",))
    assert (result["isBase64Encoded"], result["body"]) == (False, "hi")


def test_request_is_a_value() -> None:
    assert parse(sample("alb"), CONTEXT) == parse(sample("alb"), CONTEXT)
    assert isinstance(parse(sample("alb"), CONTEXT), Request)
