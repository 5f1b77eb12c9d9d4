"""The ASGI HTTP scope of a :class:`~ric.web.events.Request`, as Mangum (0.22.0) builds it.

An app moved from Mangum sees the same scope (learned by running Mangum on
each event format, checked against it in the tests):

- ``http_version`` is ``"1.1"``, ``root_path`` is ``""`` and ``raw_path`` is
  None (the ASGI spec's default when a server does not have it);
- ``headers`` are lower-cased names and values as bytes; for payload 1.0 a
  field's values are joined with ``", "``; for 2.0 the ``cookies`` come back
  as one ``cookie`` field joined with ``"; "``; an ALB event's values stay
  one pair each;
- ``path`` is percent-decoded: the event's ``path`` (1.0, ALB), or
  ``requestContext.http.path`` (2.0); ``query_string`` is 2.0's
  ``rawQueryString``, else the decoded parameters encoded again;
- ``scheme`` is ``X-Forwarded-Proto`` (else ``https``), ``server`` the
  ``Host`` field and ``X-Forwarded-Port`` (else ``("mangum", 80)``), and
  ``client`` the source address with port 0;
- ``aws.event`` and ``aws.context`` are the event and the context.

One deliberate difference: behind an ALB, ``client`` is the first address of
``X-Forwarded-For`` (the client's; the rest are proxies), where Mangum puts
the whole field there.
"""

from __future__ import annotations

from urllib.parse import unquote, urlencode

from ric.web.events import ALB, V2

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ric.web.events import Request

__all__ = ["ASGI_VERSION", "fields", "http_scope"]

# ASGI 3; the HTTP spec's version Mangum announces.
ASGI_VERSION = {"version": "3.0", "spec_version": "2.0"}


def http_scope(request: Request) -> dict[str, Any]:
    """The ``http`` scope for ``request``, without ``state`` (the lifespan's)."""
    headers = fields(request)
    last = {name.decode(): value.decode() for name, value in headers}
    return {
        "type": "http",
        "asgi": dict(ASGI_VERSION),
        "http_version": "1.1",
        "method": request.method,
        "headers": headers,
        "path": _path(request),
        "raw_path": None,
        "root_path": "",
        "scheme": last.get("x-forwarded-proto", "https"),
        "query_string": _query(request),
        "server": _server(last),
        "client": (request.source_ip, 0),
        "aws.event": request.event,
        "aws.context": request.context,
    }


def fields(request: Request) -> list[list[bytes]]:
    """The request's header fields as the scope holds them (see above)."""
    if request.format == V2:
        folded = {name.lower(): value for name, value in request.headers}
        if request.cookies:
            folded["cookie"] = "; ".join(request.cookies)
        return _encoded(folded.items())
    if request.format == ALB:  # one pair a value, with multi-value headers or not
        return _encoded((name.lower(), value) for name, value in request.headers)
    joined: dict[str, list[str]] = {}
    for name, value in request.headers:
        joined.setdefault(name.lower(), []).append(value)
    return _encoded((name, ", ".join(values)) for name, values in joined.items())


def _encoded(pairs: Any) -> list[list[bytes]]:
    # UTF-8, as Mangum encodes them: a field with other than ASCII in it
    # reaches the app as the client sent it (RFC 9110 section 5.5 allows
    # opaque bytes), not as latin-1 mojibake.
    return [[name.encode(), value.encode()] for name, value in pairs]


def _path(request: Request) -> str:
    if request.format == V2:
        http = request.event["requestContext"]["http"]
        return unquote(http.get("path") or request.raw_path)
    return request.path


def _query(request: Request) -> bytes:
    if request.format == V2:
        return request.raw_query.encode()
    return urlencode(request.query).encode()


def _server(last: dict[str, str]) -> tuple[str, int]:
    host = last.get("host", "mangum")
    name, colon, port = host.rpartition(":")
    if colon and port.isdigit():
        return name, int(port)
    return host, int(last.get("x-forwarded-port", "80"))
