"""``ric.wsgi(app)``: a Lambda handler that serves a WSGI app (PEP 3333) in process.

The event is parsed by :mod:`ric.web.events` and handed to the app as the
``environ`` apig-wsgi (2.20.0) builds, so an app written for apig-wsgi reads
the same keys: the CGI variables, ``HTTP_*`` with a field's values joined by
``,``, ``REMOTE_ADDR`` from ``X-Forwarded-For`` for 1.0 and ALB events (the
``sourceIp`` for 2.0), ``wsgi.url_scheme`` from ``X-Forwarded-Proto``, and
``apig_wsgi.full_event``, ``apig_wsgi.context``, ``apig_wsgi.request_context``
and ``apig_wsgi.multi_value_headers``.

Buffered (the default), the app's body is read whole and the iterable closed,
then answered as :func:`ric.web.events.render` maps it. With
``streaming=True`` the handler returns a :class:`ric.HttpStream` whose body is
the app's iterable, chunk by chunk, closed when the stream ends: for a
function URL in ``RESPONSE_STREAM`` mode. Its status and headers are known
once the app has called ``start_response``, which PEP 3333 lets it do as late
as its first chunk: the handler reads up to that chunk before it returns.

What the app raises propagates, as with apig-wsgi: Lambda reports the error
and API Gateway answers 502. (Flask and Django answer their own 500 page for
an exception in a view, so only a broken app gets there.)
"""

from __future__ import annotations

import io
import sys

from ric.web import events

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from types import TracebackType
    from typing import Any

    from ric.stream import HttpStream

    ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
    StartResponse = Callable[..., Callable[[bytes], object]]
    App = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
    Handler = Callable[[Any, Any], Any]

__all__ = ["Body", "Started", "environ", "wsgi"]


def wsgi(app: App, *, streaming: bool = False) -> Handler:
    """A Lambda handler that answers each HTTP event with ``app``."""

    def handler(event: Any, context: Any) -> dict[str, Any] | HttpStream:
        request = events.parse(event, context)
        if streaming:
            return _stream(app, request)
        return _buffered(app, request)

    return handler


def environ(request: events.Request) -> dict[str, Any]:
    """The WSGI environ for ``request``, with apig-wsgi's keys and values."""
    env: dict[str, Any] = {
        "CONTENT_LENGTH": str(len(request.body)),
        "HTTP": "on",  # apig-wsgi sets it; apps may look for it
        "PATH_INFO": _path_info(request.raw_path),
        "QUERY_STRING": request.raw_query,
        "REMOTE_ADDR": request.source_ip if request.format == events.V2 else "127.0.0.1",
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        "SERVER_NAME": "",
        "SERVER_PORT": "",
        "SERVER_PROTOCOL": request.protocol,
        "wsgi.errors": sys.stderr,
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.multiprocess": False,
        "wsgi.multithread": False,
        "wsgi.run_once": False,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "apig_wsgi.multi_value_headers": request.multi_value,
    }
    if request.format == events.V2:
        _fields_v2(env, request)
    else:
        _fields_v1(env, request)
    if "requestContext" in request.event:
        env["apig_wsgi.request_context"] = request.event["requestContext"]
    env["apig_wsgi.full_event"] = request.event
    env["apig_wsgi.context"] = request.context
    return env


def _path_info(raw_path: str) -> str:
    # PEP 3333: native strings hold the bytes as latin-1 code points.
    from urllib.parse import unquote

    return unquote(raw_path, encoding="iso-8859-1")


# Fields that set a CGI variable too, with their last value.
_CGI = {
    "CONTENT_TYPE": "CONTENT_TYPE",
    "HOST": "SERVER_NAME",
    "X_FORWARDED_PROTO": "wsgi.url_scheme",
    "X_FORWARDED_PORT": "SERVER_PORT",
}


def _fields_v1(env: dict[str, Any], request: events.Request) -> None:
    joined: dict[str, list[str]] = {}
    for name, value in request.headers:
        joined.setdefault(name, []).append(value)
    for name, values in joined.items():
        key = name.upper().replace("-", "_")
        if key in _CGI:
            env[_CGI[key]] = values[-1]
        elif key == "X_FORWARDED_FOR":
            env["REMOTE_ADDR"] = values[-1].split(", ")[0]
        env["HTTP_" + key] = ",".join(values)


def _fields_v2(env: dict[str, Any], request: events.Request) -> None:
    # 2.0 has joined a field's values with commas already, and moved the
    # Cookie field's cookies to their own list.
    env["HTTP_COOKIE"] = ";".join(request.cookies)
    for name, value in request.headers:
        key = name.upper().replace("-", "_")
        if key == "COOKIE":
            env["HTTP_COOKIE"] += ";" + value
            continue
        if key in _CGI:
            env[_CGI[key]] = value.split(",")[-1]
        env["HTTP_" + key] = value


class Started:
    """The ``start_response`` given to the app: what it started, and ``write``'s chunks."""

    __slots__ = ("headers", "status", "written")

    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: list[tuple[str, str]] = []
        self.written: list[bytes] = []

    def __call__(
        self,
        status: str,
        headers: Sequence[tuple[str, str]],
        exc_info: ExcInfo | None = None,
    ) -> Callable[[bytes], object]:
        # PEP 3333: a second call (with exc_info) replaces what is not yet
        # sent; nothing is sent before the handler returns, so it always may.
        if exc_info is None and self.status is not None:
            raise AssertionError("start_response called twice without exc_info")
        self.status = int(status.split(None, 1)[0])
        self.headers = list(headers)
        return self.written.append

    def response(self, body: bytes) -> events.Response:
        if self.status is None:
            raise RuntimeError("the WSGI app returned without calling start_response")
        return events.Response(self.status, self.headers, body)


def _buffered(app: App, request: events.Request) -> dict[str, Any]:
    started = Started()
    result = app(environ(request), started)
    try:
        for chunk in result:
            if chunk:
                started.written.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return events.render(request, started.response(b"".join(started.written)))


def _stream(app: App, request: events.Request) -> HttpStream:
    from ric.stream import HttpStream

    started = Started()
    body = Body(app(environ(request), started), started.written)
    try:
        body.until_started(started)
        response = started.response(b"")
    except BaseException:
        body.close()
        raise
    headers, cookies = events.fold_v2(response.headers)
    return HttpStream(body, response.status, headers, cookies)


class Body:
    """The app's iterable as a stream's chunks: ``write``'s first, then the iterable's.

    Chunks read before the stream began (while waiting for ``start_response``)
    are kept and come first. ``close`` closes the app's iterable, once.
    """

    __slots__ = ("_closed", "_iterator", "_result", "_written")

    def __init__(self, result: Iterable[bytes], written: list[bytes]) -> None:
        self._result = result
        self._iterator: Iterator[bytes] = iter(result)
        self._written = written
        self._closed = False

    def until_started(self, started: Started) -> None:
        """Read chunks, kept for later, until the app has called ``start_response``."""
        while started.status is None:
            chunk = next(self._iterator, None)
            if chunk is None:
                return
            self._written.append(chunk)

    def __iter__(self) -> Body:
        return self

    def __next__(self) -> bytes:
        if self._written:
            return self._written.pop(0)
        chunk = next(self._iterator)
        if self._written:  # the app wrote while making this chunk
            self._written.append(chunk)
            return self._written.pop(0)
        return chunk

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        close = getattr(self._result, "close", None)
        if close is not None:
            close()
