"""HTTP events in, HTTP results out: the formats Lambda is invoked with for web requests.

Four sources call a function with an HTTP request, in three shapes:

- API Gateway REST API, payload format 1.0 (``httpMethod``, ``path``,
  ``multiValueHeaders``, ``multiValueQueryStringParameters``; the "input format
  of a Lambda function for proxy integration", set-up-lambda-proxy-integrations.html);
- API Gateway HTTP API, payload format 2.0 (``version: "2.0"``, ``rawPath``,
  ``rawQueryString``, ``cookies``, ``requestContext.http``;
  http-api-develop-integrations-lambda.html), which function URLs use as well
  (urls-invocation.html, "Request payload format");
- an Application Load Balancer (``requestContext.elb``; lambda-functions.html
  in the ELB guide), with ``multiValueHeaders`` and
  ``multiValueQueryStringParameters`` only when the target group enables
  multi-value headers, and query values passed on as the client encoded them.

:func:`parse` turns any of them into one :class:`Request`; :func:`render`
turns a :class:`Response` back into the result that format expects:
``multiValueHeaders`` when the event came with them, else ``headers``; for
2.0, ``cookies`` for the ``Set-Cookie`` fields and the other fields in
``headers``, lower-cased. A body goes as text, or base64 with
``isBase64Encoded`` when it is binary: it has a ``Content-Encoding``, or a
``Content-Type`` that does not begin with one of :data:`TEXT_TYPES` (no type
at all is binary). These are apig-wsgi's rules (2.20.0, learned by running
it), with its binary support on for every format, where apig-wsgi leaves it
off for 1.0 by default: a REST API then needs ``binaryMediaTypes`` to pass
binary bodies on, and without it a binary body cannot be answered at all.
One deliberate difference: a 2.0 field given twice is joined with a comma
(RFC 9110 section 5.3), as Mangum does, where apig-wsgi keeps the last value.

An event of none of these shapes raises :class:`NotAnHttpEvent`, naming the
formats understood.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, unquote_plus, urlencode

from ric.errors import InvocationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

    Pairs = tuple[tuple[str, str], ...]

__all__ = [
    "ALB",
    "FORMATS",
    "REST",
    "TEXT_TYPES",
    "V2",
    "NotAnHttpEvent",
    "Request",
    "Response",
    "detect",
    "fold_v2",
    "is_binary",
    "parse",
    "render",
]

REST = "1.0"
V2 = "2.0"
ALB = "alb"
FORMATS = (
    "API Gateway REST API (payload format 1.0)",
    "API Gateway HTTP API (payload format 2.0)",
    "Application Load Balancer (with or without multi-value headers)",
    "function URL (payload format 2.0)",
)
# Content types whose bodies go as text (apig-wsgi's defaults): JSON problem
# details (RFC 9457) and JSON:API (jsonapi.org) included.
TEXT_TYPES = ("text/", "application/json", "application/problem+json", "application/vnd.api+json")
# What an ALB query value may hold as the client sent it: kept, not encoded again.
_RESERVED = "!#$&'()*+,/:;=?@[]%"


class NotAnHttpEvent(InvocationError):
    """The event is none of the HTTP formats a web app can be called with.

    Raised from the handler, so Lambda reports it under this class name.
    """

    error_type = "NotAnHttpEvent"


@dataclass(frozen=True)
class Request:
    """One HTTP request, whichever format it came in.

    ``path`` is percent-decoded (UTF-8), ``raw_path`` as the event gave it.
    ``query`` holds decoded pairs, one per value, in the event's order;
    ``raw_query`` is the query string as a server would have received it.
    ``headers`` holds one pair per value, names spelled as in the event.
    ``multi_value`` tells whether the event came with ``multiValueHeaders``,
    and so whether its answer must use them.
    """

    format: str
    method: str
    path: str
    raw_path: str
    query: Pairs
    raw_query: str
    headers: Pairs
    cookies: tuple[str, ...]
    body: bytes
    source_ip: str
    protocol: str
    multi_value: bool
    event: Mapping[str, Any]
    context: Any

    def header(self, name: str) -> str | None:
        """The last value of the field ``name`` (any case), or None."""
        return _last(self.headers, name)


@dataclass(frozen=True)
class Response:
    """What an app answered: status, header fields in order (repeats kept), body."""

    status: int
    headers: Sequence[tuple[str, str]]
    body: bytes

    @property
    def cookies(self) -> list[str]:
        """The values of the ``Set-Cookie`` fields."""
        return [value for name, value in self.headers if name.lower() == "set-cookie"]


def detect(event: object) -> str:
    """The event's format: :data:`REST`, :data:`V2` or :data:`ALB`; else NotAnHttpEvent."""
    if isinstance(event, dict):
        context = event.get("requestContext")
        if isinstance(context, dict) and "elb" in context and "httpMethod" in event:
            return ALB
        v2 = event.get("version") == "2.0" and "rawPath" in event
        if v2 and isinstance(context, dict) and isinstance(context.get("http"), dict):
            return V2
        if "httpMethod" in event and "path" in event and event.get("version", "1.0") == "1.0":
            return REST
    raise NotAnHttpEvent(_refusal(event))


def _refusal(event: object) -> str:
    if isinstance(event, dict):
        shown = ", ".join(sorted(map(str, event))[:8]) or "none"
        got = f"an object with the keys {shown}"
    else:
        got = f"a JSON {type(event).__name__}"
    return f"Not an HTTP event: got {got}; understood: {'; '.join(FORMATS)}"


def parse(event: object, context: Any) -> Request:
    """The request an HTTP event carries; NotAnHttpEvent for any other event."""
    kind = detect(event)
    assert isinstance(event, dict)  # detect() accepts dicts only
    if kind == V2:
        return _parse_v2(event, context)
    return _parse_v1(event, context, kind)


def _parse_v1(event: dict[str, Any], context: Any, kind: str) -> Request:
    multi = "multiValueHeaders" in event
    headers = _pairs(event["multiValueHeaders"] or {}) if multi else _single(event.get("headers"))
    raw_pairs = _query_v1(event)
    if kind == ALB:  # the load balancer passes the client's encoding on
        query = tuple((unquote_plus(k), unquote_plus(v)) for k, v in raw_pairs)
        raw_query = urlencode(raw_pairs, safe=_RESERVED)
    else:
        query, raw_query = raw_pairs, urlencode(raw_pairs, safe="")
    raw_path = event["path"] or "/"
    cookie = _last(headers, "cookie") or ""
    identity = (event.get("requestContext") or {}).get("identity") or {}
    forwarded = _last(headers, "x-forwarded-for") or ""
    return Request(
        kind,
        event["httpMethod"],
        unquote(raw_path),
        raw_path,
        query,
        raw_query,
        headers,
        tuple(part.strip() for part in cookie.split(";") if part.strip()),
        _body(event),
        identity.get("sourceIp") or forwarded.split(",")[0].strip(),
        "HTTP/1.1",
        multi,
        event,
        context,
    )


def _query_v1(event: Mapping[str, Any]) -> Pairs:
    # multiValue... is None, not absent, when a test event has no query.
    if "multiValueQueryStringParameters" in event:
        return _pairs(event["multiValueQueryStringParameters"] or {})
    return _single(event.get("queryStringParameters"))


def _parse_v2(event: dict[str, Any], context: Any) -> Request:
    http = event["requestContext"]["http"]
    raw_path = event["rawPath"] or "/"
    raw_query = event.get("rawQueryString") or ""
    return Request(
        V2,
        http["method"],
        unquote(raw_path),
        raw_path,
        tuple(parse_qsl(raw_query, keep_blank_values=True)),
        raw_query,
        _single(event.get("headers")),
        tuple(event.get("cookies") or ()),
        _body(event),
        http.get("sourceIp", ""),
        http.get("protocol", "HTTP/1.1"),
        False,
        event,
        context,
    )


def _last(headers: Pairs, name: str) -> str | None:
    wanted = name.lower()
    found = None
    for key, value in headers:
        if key.lower() == wanted:
            found = value
    return found


def _single(fields: Mapping[str, str] | None) -> Pairs:
    return tuple((name, value) for name, value in (fields or {}).items())


def _pairs(fields: Mapping[str, Iterable[str]]) -> Pairs:
    return tuple((name, value) for name, values in fields.items() for value in values)


def _body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return base64.b64decode(body)
    return str.encode(body)


def is_binary(headers: Sequence[tuple[str, str]], text_types: Sequence[str] = TEXT_TYPES) -> bool:
    """Whether a body with these header fields must go base64-encoded (see above)."""
    encoding = content_type = ""
    for name, value in headers:
        lowered = name.lower()
        if lowered == "content-encoding":
            encoding = value
        elif lowered == "content-type":
            content_type = value
    return bool(encoding) or not content_type.startswith(tuple(text_types))


def render(
    request: Request, response: Response, text_types: Sequence[str] = TEXT_TYPES
) -> dict[str, Any]:
    """The Lambda result that answers ``request`` with ``response``."""
    result: dict[str, Any] = {"statusCode": response.status}
    if request.format == V2:
        result["headers"], result["cookies"] = fold_v2(response.headers)
    elif request.multi_value:
        grouped: dict[str, list[str]] = {}
        for name, value in response.headers:
            grouped.setdefault(name, []).append(value)
        result["multiValueHeaders"] = grouped
    else:  # one value a name: the last, as a mapping keeps it
        result["headers"] = dict(response.headers)
    text = None if is_binary(response.headers, text_types) else _text(response.body)
    result["isBase64Encoded"] = text is None
    result["body"] = base64.b64encode(response.body).decode("ascii") if text is None else text
    return result


def fold_v2(headers: Iterable[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Fields as payload 2.0 answers them: names lower-cased, repeats joined, cookies apart."""
    folded: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        lowered = name.lower()
        if lowered == "set-cookie":
            cookies.append(value)
        elif lowered in folded:
            folded[lowered] = f"{folded[lowered]},{value}"
        else:
            folded[lowered] = value
    return folded, cookies


def _text(body: bytes) -> str | None:
    # A "text" body that is not UTF-8 goes as binary (Mangum's rule) rather
    # than failing, as apig-wsgi's does with UnicodeDecodeError.
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None
