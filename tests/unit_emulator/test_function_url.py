"""emulator.protocols.function_url: payload format 2.0 events, answers, and the prelude."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from emulator.errors import EmulatorError
from emulator.protocols.function_url import (
    DELIMITER,
    HTTP_INTEGRATION_CONTENT_TYPE,
    HttpAnswer,
    Prelude,
    PreludeError,
    PreludeReader,
    UrlContext,
    UrlRequest,
    buffered_answer,
    error_answer,
    strip_prelude,
    url_event,
)

# 2020-03-04T19:03:58.390Z (the doc's sample pairs this timeEpoch with 12/Mar).
EPOCH_MS = 1583348638390
CONTEXT = UrlContext("anonymous", "abcdefg", "us-east-1", "req-1", EPOCH_MS)


def event(
    target: str = "/",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
    method: str = "GET",
    **extra: Any,
) -> dict[str, Any]:
    request = UrlRequest(method, target, headers or [], body, "203.0.113.9", **extra)
    decoded: dict[str, Any] = json.loads(url_event(request, CONTEXT))
    return decoded


def request_context(method: str, path: str, user_agent: str = "") -> dict[str, Any]:
    return {
        "accountId": "anonymous",
        "apiId": "abcdefg",
        "domainName": "abcdefg.lambda-url.us-east-1.on.aws",
        "domainPrefix": "abcdefg",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "203.0.113.9",
            "userAgent": user_agent,
        },
        "requestId": "req-1",
        "routeKey": "$default",
        "stage": "$default",
        "time": "04/Mar/2020:19:03:58 +0000",
        "timeEpoch": EPOCH_MS,
    }


def test_the_event_of_a_post_with_everything() -> None:
    headers = [
        ("Host", "127.0.0.1:9000"),
        ("User-Agent", "curl/8.5.0"),
        ("Content-Type", "application/json"),
        ("X-Multi", "one"),
        ("Cookie", "session=abc; theme=dark"),
        ("x-multi", "two"),
        ("Connection", "keep-alive"),
    ]
    target = "/my/path?parameter1=value1&parameter1=value2&parameter2=value"
    got = event(target, headers, b'{"example": "test"}', "POST", port=9000)
    assert got == {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/my/path",
        "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
        "cookies": ["session=abc", "theme=dark"],
        "headers": {
            "host": "127.0.0.1:9000",
            "user-agent": "curl/8.5.0",
            "content-type": "application/json",
            "x-multi": "one,two",
            "x-forwarded-for": "203.0.113.9",
            "x-forwarded-proto": "http",
            "x-forwarded-port": "9000",
        },
        "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
        "requestContext": request_context("POST", "/my/path", "curl/8.5.0"),
        "body": '{"example": "test"}',
        "isBase64Encoded": False,
    }


def test_the_event_of_a_bare_get_has_no_cookies_query_or_body() -> None:
    assert event("/") == {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {"x-forwarded-for": "203.0.113.9", "x-forwarded-proto": "http"},
        "requestContext": request_context("GET", "/"),
        "isBase64Encoded": False,
    }


def test_an_empty_path_is_the_root_and_a_lone_question_mark_no_query() -> None:
    got = event("?")
    assert (got["rawPath"], got["rawQueryString"]) == ("/", "")
    assert "queryStringParameters" not in got


def test_the_path_stays_as_sent() -> None:
    got = event("/a%20b/pa2%Fth?x=1")
    assert got["rawPath"] == got["requestContext"]["http"]["path"] == "/a%20b/pa2%Fth"


def test_query_parameters_are_decoded_and_repeats_joined() -> None:
    got = event("/?a=1&a=2&b=%2Fbar&c=&flag&sp=a+b&u=%C3%A9")
    assert got["rawQueryString"] == "a=1&a=2&b=%2Fbar&c=&flag&sp=a+b&u=%C3%A9"
    assert got["queryStringParameters"] == {
        "a": "1,2",
        "b": "/bar",
        "c": "",
        "flag": "",
        "sp": "a b",
        "u": "é",
    }


def test_every_cookie_header_goes_to_the_cookies_array() -> None:
    got = event("/", [("Cookie", "a=1; b=2"), ("cookie", "c=3;d=4 ;"), ("X", "y")])
    assert got["cookies"] == ["a=1", "b=2", "c=3", "d=4"]
    assert "cookie" not in got["headers"]


def test_hop_by_hop_headers_stop_at_the_url() -> None:
    hop = ["Connection", "Keep-Alive", "TE", "Trailer", "Transfer-Encoding", "Upgrade"]
    got = event("/", [(name, "x") for name in hop] + [("Accept", "*/*")])
    assert set(got["headers"]) == {"accept", "x-forwarded-for", "x-forwarded-proto"}


def test_forwarding_headers_append_to_the_clients_and_carry_the_trace() -> None:
    request = UrlRequest("GET", "/", [("X-Forwarded-For", "198.51.100.1")], b"", "203.0.113.9")
    traced = UrlContext("anonymous", "abcdefg", "us-east-1", "req-1", EPOCH_MS, "Root=1-abc")
    headers = json.loads(url_event(request, traced))["headers"]
    assert headers["x-forwarded-for"] == "198.51.100.1, 203.0.113.9"
    assert headers["x-amzn-trace-id"] == "Root=1-abc"


def test_the_request_time_is_the_epochs_in_english() -> None:
    context = UrlContext("1", "u", "eu-west-1", "r", 1_704_067_199_999)
    got = json.loads(url_event(UrlRequest("GET", "/", [], b"", "::1"), context))
    assert got["requestContext"]["time"] == "31/Dec/2023:23:59:59 +0000"
    assert got["requestContext"]["domainName"] == "u.lambda-url.eu-west-1.on.aws"


@pytest.mark.parametrize(
    ("content_type", "as_text"),
    [
        ("text/plain", True),
        ("text/html; charset=utf-8", True),
        ("application/json", True),
        ("Application/JSON; charset=UTF-8", True),
        ("application/xml", True),
        ("application/javascript", True),
        ("application/x-www-form-urlencoded", False),
        ("multipart/form-data; boundary=x", False),
        ("application/octet-stream", False),
        ("image/png", False),
        ("application/vnd.api+json", False),
        (None, False),
    ],
)
def test_which_bodies_are_text_and_which_base64(content_type: str | None, as_text: bool) -> None:
    headers = [] if content_type is None else [("Content-Type", content_type)]
    got = event("/", headers, "körper".encode(), "POST")
    assert got["isBase64Encoded"] is not as_text
    wanted = "körper" if as_text else base64.b64encode("körper".encode()).decode()
    assert got["body"] == wanted


def test_a_text_body_that_is_not_utf8_goes_base64() -> None:
    got = event("/", [("Content-Type", "text/plain")], b"\xff\xfe", "POST")
    assert (got["body"], got["isBase64Encoded"]) == ("//4=", True)


def test_the_event_is_utf8_json() -> None:
    request = UrlRequest("GET", "/", [("X-Name", "Zoë")], b"", "::1")
    assert '"x-name":"Zoë"'.encode() in url_event(request, CONTEXT)


JSON = ("Content-Type", "application/json")


@pytest.mark.parametrize(
    ("result", "body"),
    [
        # What AWS answered for these Python results (LocalStack's recorded snapshots):
        # 200, application/json, and the body below.
        (b'{"hello": "world"}', b'{"hello":"world"}'),
        (b'{"statusCode": 200, "body": "body123"}', b"body123"),
        (b'{"statusCode": 200, "body": "{\\"hello\\": \\"world\\"}"}', b'{"hello": "world"}'),
        (b'["hello", 3, true]', b'["hello",3,true]'),
        (b'"hello"', b"hello"),
        (b"3", b"3"),
        (b"3.1", b"3.1"),
        (b"true", b"true"),
    ],
)
def test_results_as_aws_answered_them(result: bytes, body: bytes) -> None:
    assert buffered_answer(result, "application/json") == HttpAnswer(200, (JSON,), body)


def test_without_a_status_the_whole_result_is_the_body() -> None:
    result = b'{"body": "not used alone", "headers": {"X": "y"}}'
    wanted = b'{"body":"not used alone","headers":{"X":"y"}}'
    assert buffered_answer(result, "application/json") == HttpAnswer(200, (JSON,), wanted)


def test_a_custom_answer_keeps_status_headers_and_cookies() -> None:
    result = {
        "statusCode": 201,
        "headers": {"Content-Type": "text/plain", "My-Custom-Header": "Custom Value"},
        "body": "created",
        "cookies": ["Cookie_1=Value1; Expires=21 Oct 2021 07:48 GMT", "Cookie_2=Value2"],
        "isBase64Encoded": False,
    }
    assert buffered_answer(json.dumps(result).encode(), "application/json") == HttpAnswer(
        201,
        (
            ("Content-Type", "text/plain"),
            ("My-Custom-Header", "Custom Value"),
            ("Set-Cookie", "Cookie_1=Value1; Expires=21 Oct 2021 07:48 GMT"),
            ("Set-Cookie", "Cookie_2=Value2"),
        ),
        b"created",
    )


def answer(**result: Any) -> HttpAnswer:
    return buffered_answer(json.dumps(result).encode(), "application/json")


def test_a_status_alone_is_an_empty_json_answer() -> None:
    assert answer(statusCode=204) == HttpAnswer(204, (JSON,), b"")


def test_a_status_may_be_its_digits() -> None:
    assert answer(statusCode="418", body="i'm a teapot").status == 418


def test_a_base64_body_is_decoded() -> None:
    png = b"\x89PNG\r\n\x1a\n"
    got = answer(statusCode=200, body=base64.b64encode(png).decode(), isBase64Encoded=True)
    assert got.body == png


def test_a_body_that_is_not_a_string_is_sent_as_json() -> None:
    assert answer(statusCode=200, body={"a": [1, "é"]}).body == '{"a":[1,"é"]}'.encode()


def test_header_values_are_written_as_text_and_others_dropped() -> None:
    headers = {"X-Int": 5, "X-Bool": True, "X-Null": None, "X-List": ["a"], "X-Str": "s"}
    got = answer(statusCode=200, headers=headers, multiValueHeaders={"X-Multi": ["a", "b"]})
    assert got.headers == (JSON, ("X-Int", "5"), ("X-Bool", "true"), ("X-Str", "s"))


def test_unusable_headers_and_cookies_are_ignored() -> None:
    assert answer(statusCode=200, headers=["x"], cookies="a=1").headers == (JSON,)
    assert answer(statusCode=200, cookies=["a=1", 2]).headers == (JSON, ("Set-Cookie", "a=1"))


@pytest.mark.parametrize(
    "result",
    [
        b"plain text, not JSON",
        b"\xff",
        b"",
        b'{"statusCode": "abc"}',
        b'{"statusCode": 99}',
        b'{"statusCode": 600}',
        b'{"statusCode": true}',
        b'{"statusCode": null}',
        b'{"statusCode": 200.5}',
        b'{"statusCode": 200, "body": "not base64!", "isBase64Encoded": true}',
    ],
)
def test_what_lambda_cannot_map_is_its_502(result: bytes) -> None:
    assert buffered_answer(result, "application/json") == error_answer()


def test_whitespace_around_a_header_value_is_not_part_of_it() -> None:
    # RFC 9110 section 5.5; an HTTP server refuses to send a value with it.
    got = answer(statusCode=200, headers={"Content-Type": " text/html "}, cookies=["a=1 "])
    assert got.headers == (("Content-Type", "text/html"), ("Set-Cookie", "a=1"))
    (prelude,) = PreludeReader().feed(prelude_bytes(headers={"X": "\ty"}, cookies=[" c=1"]))
    assert prelude == Prelude(200, (("X", "y"),), ("c=1",))


@pytest.mark.parametrize(
    ("headers", "cookies"),
    [({"X": "a\r\nInjected: 1"}, []), ({"X": "a\x00"}, []), ({"Bad Name": "a"}, []), ({}, ["a\n"])],
)
def test_a_header_no_http_message_can_hold_makes_the_answer_a_502(
    headers: dict[str, str], cookies: list[str]
) -> None:
    assert answer(statusCode=200, headers=headers, cookies=cookies) == error_answer()
    with pytest.raises(PreludeError, match="cannot send"):
        PreludeReader().feed(prelude_bytes(headers=headers, cookies=cookies))


def test_the_error_answer() -> None:
    assert error_answer() == HttpAnswer(502, (JSON,), b"Internal Server Error")


def test_an_http_integration_result_is_read_through_its_prelude() -> None:
    prelude = {"statusCode": 404, "headers": {"Content-Type": "text/html"}, "cookies": ["a=1"]}
    result = json.dumps(prelude).encode() + DELIMITER + b"<h1>gone</h1>"
    got = buffered_answer(result, HTTP_INTEGRATION_CONTENT_TYPE)
    assert got == HttpAnswer(
        404, (("Content-Type", "text/html"), ("Set-Cookie", "a=1")), b"<h1>gone</h1>"
    )
    assert buffered_answer(b"", HTTP_INTEGRATION_CONTENT_TYPE) == HttpAnswer(200, (), b"")
    assert buffered_answer(b"{oops" + DELIMITER, HTTP_INTEGRATION_CONTENT_TYPE) == error_answer()


def prelude_bytes(**fields: Any) -> bytes:
    return json.dumps(fields).encode() + DELIMITER


def test_the_prelude_then_the_body_in_one_piece() -> None:
    reader = PreludeReader()
    wire = prelude_bytes(statusCode=201, headers={"Content-Type": "text/plain"}) + b"hello"
    assert reader.feed(wire) == [Prelude(201, (("Content-Type", "text/plain"),)), b"hello"]
    assert reader.end() is None


def test_fed_byte_by_byte_the_body_is_never_held_back() -> None:
    reader = PreludeReader()
    wire = prelude_bytes(statusCode=200, cookies=["a=1"])
    handed = [part for byte in wire for part in reader.feed(bytes([byte]))]
    assert handed == [Prelude(200, (), ("a=1",))]
    assert [reader.feed(b"x"), reader.feed(b""), reader.feed(b"\0yz")] == [[b"x"], [], [b"\0yz"]]


def test_nul_bytes_after_the_delimiter_belong_to_the_body() -> None:
    reader = PreludeReader()
    assert reader.feed(prelude_bytes() + b"\0\0data") == [Prelude(), b"\0\0data"]


def test_a_prelude_without_a_body() -> None:
    reader = PreludeReader()
    assert reader.feed(prelude_bytes(statusCode=302, headers={"Location": "/x"})) == [
        Prelude(302, (("Location", "/x"),))
    ]
    assert reader.end() is None


def test_an_empty_stream_is_200_with_no_headers() -> None:
    reader = PreludeReader()
    assert reader.end() == Prelude()
    assert reader.end() is None


def test_a_stream_cut_inside_its_prelude_is_an_error() -> None:
    reader = PreludeReader()
    assert reader.feed(b'{"statusCode": 200}\0\0\0') == []
    with pytest.raises(PreludeError, match="ended after 22 bytes of its prelude"):
        reader.end()


def test_the_prelude_has_a_cap() -> None:
    with pytest.raises(PreludeError, match="over 16 bytes: no 8 NUL bytes end it"):
        PreludeReader(limit=16).feed(b" " * 24)
    # 23 bytes: a delimiter could still begin at byte 16, within the cap.
    assert PreludeReader(limit=16).feed(b" " * 23) == []
    with pytest.raises(PreludeError, match="over 16 bytes"):
        PreludeReader(limit=16).feed(b" " * 17 + b"{}" + DELIMITER)


def test_the_cap_counts_the_prelude_not_the_delimiter() -> None:
    prelude = b'{"statusCode":404}'
    reader = PreludeReader(limit=len(prelude))
    assert reader.feed(prelude + DELIMITER[:7]) == []
    assert reader.feed(DELIMITER[7:] + b"body") == [Prelude(404), b"body"]


@pytest.mark.parametrize(
    ("prelude", "complaint"),
    [
        (b"{not json", "not JSON"),
        (b"", "not JSON"),
        (b"[200]", "not a JSON object"),
        (b'{"statusCode": "OK"}', "statusCode is not an HTTP status: 'OK'"),
        (b'{"headers": ["a"]}', "headers are not a JSON object"),
        (b'{"headers": {"a": 1}}', "header 'a' is not a string"),
        (b'{"headers": {"a": ["x", null]}}', "header 'a' is not a string"),
        (b'{"cookies": "a=1"}', "cookies are not a list of strings"),
        (b'{"cookies": [1]}', "cookies are not a list of strings"),
    ],
)
def test_a_malformed_prelude_is_a_typed_error(prelude: bytes, complaint: str) -> None:
    with pytest.raises(PreludeError, match=complaint) as caught:
        PreludeReader().feed(prelude + DELIMITER)
    assert isinstance(caught.value, EmulatorError)


def test_prelude_fields_in_every_form_runtimes_write() -> None:
    # Node's HttpResponseStream writes the object it is given; keys it does not
    # know (an example of AWS's uses "status") are ignored. Rust writes a repeated
    # header as a list of values.
    reader = PreludeReader()
    wire = prelude_bytes(status=404, statusCode="202", headers={"Vary": ["Accept", "Origin"]})
    (prelude,) = reader.feed(wire)
    assert prelude == Prelude(202, (("Vary", "Accept"), ("Vary", "Origin")))
    assert Prelude(200, (("A", "b"),), ("c=1", "d=2")).header_lines() == (
        ("A", "b"),
        ("Set-Cookie", "c=1"),
        ("Set-Cookie", "d=2"),
    )


def test_strip_prelude_for_a_classic_invoke() -> None:
    wire = prelude_bytes(statusCode=200, headers={"Content-Type": "text/plain"})
    assert strip_prelude(wire + b"body") == (
        Prelude(200, (("Content-Type", "text/plain"),)),
        b"body",
    )


@pytest.mark.parametrize(
    "body",
    [b"no prelude here", b"{broken" + DELIMITER + b"rest", b" " * 70_000 + b"{}" + DELIMITER],
)
def test_strip_prelude_leaves_a_body_without_one_as_it_is(body: bytes) -> None:
    assert strip_prelude(body) == (None, body)
