"""Lambda function URLs without I/O: the event a request becomes, the answer a result becomes.

Payload format 2.0: "Invoking Lambda function URLs" (urls-invocation.html:
"Request payload format", "Response payload format", "Cookies") and API
Gateway's "Payload format version" (http-api-develop-integrations-lambda.html).
Where the docs are silent, a rule follows what AWS answered in recorded tests
(LocalStack's AWS-validated function URL snapshots; HTTP API checks of the same
format), and says so. A streaming function's HTTP-integration response is a JSON
prelude, 8 NUL bytes, then the body ("Response streaming"; Node's HttpResponseStream).

Errors: :class:`PreludeError` (an ``EmulatorError``) for an unreadable prelude;
whatever else a function gets wrong becomes :func:`error_answer`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl

from emulator.errors import EmulatorError

__all__ = [
    "DELIMITER",
    "HTTP_INTEGRATION_CONTENT_TYPE",
    "PRELUDE_LIMIT",
    "HttpAnswer",
    "Prelude",
    "PreludeError",
    "PreludeReader",
    "UrlContext",
    "UrlRequest",
    "buffered_answer",
    "error_answer",
    "strip_prelude",
    "url_event",
]

HTTP_INTEGRATION_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response"
DELIMITER = b"\0" * 8  # after the prelude (HttpResponseStream: "8 null bytes")
# Our cap on a prelude: status, headers and cookies; no HTTP server takes more.
PRELUDE_LIMIT = 64 * 1024
# Bodies passed as text; any other type, or none, is base64 (checked against AWS
# for payload format 2.0; form posts and multipart come base64 from function URLs).
_TEXT_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})
# Hop-by-hop fields (RFC 9110, 7.6.1) end at the URL's front door: AWS's recorded
# events carry no "connection" header although the client sent one.
_HOP_BY_HOP = frozenset(
    ("connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade")
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_JSON = ("Content-Type", "application/json")
# RFC 9110 section 5.1: a field name is a token. Section 5.5: no value holds
# a line break or NUL (h11 refuses a vertical tab and a form feed too).
_TOKEN = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_BREAK = re.compile(r"[\0\n\r\v\f]")


class PreludeError(EmulatorError):
    """A streamed HTTP-integration response whose prelude cannot be read."""


@dataclass(frozen=True)
class UrlRequest:
    """An HTTP request to a function URL, as received."""

    method: str
    target: str  # path, then "?" and the query, as on the request line
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str
    scheme: str = "http"  # for x-forwarded-proto
    port: int | None = None  # the port the request came in on, for x-forwarded-port


@dataclass(frozen=True)
class UrlContext:
    """What the event says about the URL and the invocation."""

    account_id: str  # Lambda puts "anonymous" here for the NONE auth type
    url_id: str
    region: str
    request_id: str
    epoch_ms: int
    trace_id: str | None = None  # for x-amzn-trace-id


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True)
class Prelude:
    """Status, headers and cookies of a streamed HTTP-integration response."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    cookies: tuple[str, ...] = ()

    def header_lines(self) -> tuple[tuple[str, str], ...]:
        """The headers, then one ``Set-Cookie`` per cookie (as for a buffered answer)."""
        return self.headers + tuple(("Set-Cookie", cookie) for cookie in self.cookies)


def url_event(request: UrlRequest, context: UrlContext) -> bytes:
    """The payload format 2.0 event of ``request`` ("Request payload format")."""
    path, _, query = request.target.partition("?")
    path = path or "/"
    headers, cookies = _event_headers(request, context.trace_id)
    event: dict[str, object] = {
        "version": "2.0",
        "routeKey": "$default",  # "Lambda sets this to $default as a placeholder"
        "rawPath": path,
        "rawQueryString": query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if parameters := _query_parameters(query):
        event["queryStringParameters"] = parameters
    event["requestContext"] = _request_context(request, context, path, headers)
    if request.body:
        event["body"], event["isBase64Encoded"] = _body(request.body, headers.get("content-type"))
    else:
        event["isBase64Encoded"] = False
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def _event_headers(request: UrlRequest, trace_id: str | None) -> tuple[dict[str, str], list[str]]:
    """Lower-cased names, repeats joined with "," (format 2.0: "Duplicate headers are
    combined with commas"); the Cookie headers become the ``cookies`` array."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
        elif key not in _HOP_BY_HOP:
            headers[key] = f"{headers[key]},{value}" if key in headers else value
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = (
        f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
    )
    headers["x-forwarded-proto"] = request.scheme
    if request.port is not None:
        headers["x-forwarded-port"] = str(request.port)
    if trace_id is not None:
        headers["x-amzn-trace-id"] = trace_id
    return headers, cookies


def _query_parameters(query: str) -> dict[str, str]:
    """URL-decoded; repeated keys joined with "," (format 2.0: "Duplicate query
    strings are combined with commas"), as AWS recorded ``multiQuery=foo,/bar``."""
    parameters: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        parameters[key] = f"{parameters[key]},{value}" if key in parameters else value
    return parameters


def _request_context(
    request: UrlRequest, context: UrlContext, path: str, headers: Mapping[str, str]
) -> dict[str, object]:
    return {
        "accountId": context.account_id,
        "apiId": context.url_id,
        "domainName": f"{context.url_id}.lambda-url.{context.region}.on.aws",
        "domainPrefix": context.url_id,
        "http": {
            "method": request.method,
            "path": path,  # undecoded, as AWS recorded "/pa2%Fth/1"
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": context.request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": _request_time(context.epoch_ms),
        "timeEpoch": context.epoch_ms,
    }


def _request_time(epoch_ms: int) -> str:
    """``12/Mar/2020:19:03:58 +0000``, in English whatever the locale."""
    t = time.gmtime(epoch_ms // 1000)
    clock = f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    return f"{t.tm_mday:02d}/{_MONTHS[t.tm_mon - 1]}/{t.tm_year}:{clock} +0000"


def _body(body: bytes, content_type: str | None) -> tuple[str, bool]:
    """Base64 "if the content type of the request is binary" (the body's entry)."""
    media = _media_type(content_type or "")
    if media.startswith("text/") or media in _TEXT_TYPES:
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass  # declared text, but not UTF-8: only base64 carries it intact
    return base64.b64encode(body).decode("ascii"), True


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def buffered_answer(result: bytes, content_type: str) -> HttpAnswer:
    """The HTTP answer to a BUFFERED function's ``result`` ("Response payload format").

    A JSON object with ``statusCode`` sets the status, ``headers``, ``cookies``
    (one ``Set-Cookie`` each: "Cookies") and ``body`` (base64-decoded with
    ``isBase64Encoded``). Any other JSON value: "Lambda assumes" 200,
    application/json, the result as the body; AWS recorded a string result sent
    as its text (``hello``), and other values re-serialized compactly. A result
    that is not JSON, or a bad ``statusCode``, is Lambda's 502. A result in the
    HTTP-integration format (a streaming handler behind a BUFFERED URL) is read
    through its prelude, as the streamed path reads it.
    """
    if _media_type(content_type) == HTTP_INTEGRATION_CONTENT_TYPE:
        return _integration_answer(result)
    try:
        value = json.loads(result)
    except (ValueError, RecursionError):
        return error_answer()
    if isinstance(value, dict) and "statusCode" in value:
        return _custom_answer(value)
    return HttpAnswer(200, (_JSON,), _as_body(value))


def error_answer() -> HttpAnswer:
    """A function URL's answer when the function failed, or its result is unusable:
    502 with the body ``Internal Server Error`` (AWS-recorded status and body)."""
    return HttpAnswer(502, (_JSON,), b"Internal Server Error")


def _integration_answer(result: bytes) -> HttpAnswer:
    reader = PreludeReader()
    try:
        parts = [*reader.feed(result), reader.end()]
    except PreludeError:
        return error_answer()
    prelude = next(part for part in parts if isinstance(part, Prelude))
    body = b"".join(part for part in parts if isinstance(part, bytes))
    return HttpAnswer(prelude.status, prelude.header_lines(), body)


def _custom_answer(value: Mapping[str, object]) -> HttpAnswer:
    status = _status(value["statusCode"])
    body = _custom_body(value.get("body"), value.get("isBase64Encoded") is True)
    if status is None or body is None:
        return error_answer()
    headers = _answer_headers(value.get("headers"))
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.insert(0, _JSON)  # AWS recorded application/json without one
    cookies = value.get("cookies")
    if isinstance(cookies, list):
        headers += [("Set-Cookie", cookie) for cookie in cookies if isinstance(cookie, str)]
    sendable = _sendable(headers)
    if sendable is None:
        return error_answer()
    return HttpAnswer(status, sendable, body)


def _sendable(lines: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...] | None:
    """Header lines as HTTP sends them: each value without the whitespace around
    it, which is not part of it (RFC 9110 section 5.5); None when a name or a
    value is one that no HTTP message can hold."""
    sent = tuple((name, value.strip(" \t")) for name, value in lines)
    if all(_TOKEN.fullmatch(name) and not _BREAK.search(value) for name, value in sent):
        return sent
    return None


def _status(value: object) -> int | None:
    """An HTTP status: a number, or its digits ("418", accepted in AWS's recorded test)."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
        return value
    return None


def _custom_body(body: object, is_base64: bool) -> bytes | None:
    if body is None:
        return b""
    if isinstance(body, str) and is_base64:
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error:
            return None
    return _as_body(body)


def _as_body(value: object) -> bytes:
    """A string as its text; any other JSON value as compact JSON (what AWS sent)."""
    if isinstance(value, str):
        return value.encode()
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def _answer_headers(headers: object) -> list[tuple[str, str]]:
    """The ``headers`` object's fields (format 2.0 has no ``multiValueHeaders``):
    numbers and booleans as JSON writes them, other values dropped."""
    if not isinstance(headers, dict):
        return []
    return [
        (name, value if isinstance(value, str) else json.dumps(value))
        for name, value in headers.items()
        if isinstance(value, (str, int, float))
    ]


class PreludeReader:
    """Reads a streamed HTTP-integration response: first its :class:`Prelude`, once
    the 8 NULs are in, then every body byte as it comes (none kept back)."""

    def __init__(self, limit: int = PRELUDE_LIMIT) -> None:
        self._limit = limit
        self._pending = bytearray()
        self._searched = 0  # where the delimiter may begin, for the next search
        self._done = False

    def feed(self, data: bytes) -> list[Prelude | bytes]:
        """What ``data`` completes: nothing yet, the prelude, or body bytes."""
        if self._done:
            return [data] if data else []
        self._pending += data
        end = self._pending.find(DELIMITER, self._searched)
        if end < 0 or end > self._limit:
            self._refuse_growth(end)
            self._searched = max(0, len(self._pending) - len(DELIMITER) + 1)
            return []
        prelude = _parse_prelude(bytes(self._pending[:end]))
        body = bytes(self._pending[end + len(DELIMITER) :])
        self._pending.clear()
        self._done = True
        return [prelude, body] if body else [prelude]

    def end(self) -> Prelude | None:
        """At the end of the stream: the prelude if none was read, else None.

        No bytes at all is 200 without headers: Node's runtime writes the prelude
        before the first body write only, and such functions answer 200. Bytes
        without a delimiter are a prelude cut short: PreludeError."""
        if self._done:
            return None
        self._done = True
        if self._pending:
            raise PreludeError(
                f"the response ended after {len(self._pending)} bytes of its prelude, "
                "before the 8 NUL bytes that end it"
            )
        return Prelude()

    def _refuse_growth(self, end: int) -> None:
        if end > self._limit or len(self._pending) >= self._limit + len(DELIMITER):
            raise PreludeError(
                f"the response's prelude is over {self._limit} bytes: no 8 NUL bytes end it"
            )


def strip_prelude(body: bytes) -> tuple[Prelude | None, bytes]:
    """For the classic Invoke of an HTTP-integration stream: its prelude and the rest
    (the body as it is, without a readable prelude before the 8 NULs)."""
    end = body.find(DELIMITER, 0, PRELUDE_LIMIT + len(DELIMITER))
    if end < 0:
        return None, body
    try:
        return _parse_prelude(body[:end]), body[end + len(DELIMITER) :]
    except PreludeError:
        return None, body


def _parse_prelude(raw: bytes) -> Prelude:
    """``{"statusCode", "headers", "cookies"}``, each optional (HttpResponseStream
    writes the object it is given); a header value may be a list of values (the
    Rust runtime's form for a repeated header), each then on its own line."""
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise PreludeError(f"the response's prelude is not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise PreludeError("the response's prelude is not a JSON object")
    status = _status(value.get("statusCode", 200))
    if status is None:
        raise PreludeError(
            f"the prelude's statusCode is not an HTTP status: {value['statusCode']!r}"
        )
    headers = _sendable(_prelude_headers(value.get("headers")))
    cookies = _sendable([("Set-Cookie", cookie) for cookie in _cookies(value.get("cookies"))])
    if headers is None or cookies is None:
        raise PreludeError("the prelude has a header or cookie that HTTP cannot send")
    return Prelude(status, headers, tuple(cookie for _, cookie in cookies))


def _prelude_headers(headers: object) -> tuple[tuple[str, str], ...]:
    if headers is None:
        return ()
    if not isinstance(headers, dict):
        raise PreludeError("the prelude's headers are not a JSON object")
    lines: list[tuple[str, str]] = []
    for name, value in headers.items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(item, str) for item in values):
            raise PreludeError(f"the prelude's header {name!r} is not a string or strings")
        lines += [(name, item) for item in values]
    return tuple(lines)


def _cookies(cookies: object) -> tuple[str, ...]:
    if cookies is None:
        return ()
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise PreludeError("the prelude's cookies are not a list of strings")
    return tuple(cookies)
