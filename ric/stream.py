"""What a handler returns to stream its response, and how that becomes a Streamed outcome.

Lambda streams a response to callers of ``InvokeWithResponseStream`` and of
function URLs in ``RESPONSE_STREAM`` mode (configuration-response-streaming.html);
a runtime sends it in chunks (runtimes-custom.html, "Implementing response
streaming in a custom runtime"). A handler streams by returning:

- a generator, or any other iterator (an object whose type has ``__next__``)
  that is not a ``str``, ``bytes``, ``dict`` or ``list``, or an async
  generator (any async iterator): sent as ``application/octet-stream``;
- ``ric.Stream(body, content_type="application/octet-stream")``: ``body`` an
  iterable (or async iterable) of chunks, sent with that content type;
- ``ric.HttpStream(body, status_code=200, headers=None, cookies=None)``: for a
  function URL (or API Gateway's streaming integration), sent as
  ``application/vnd.awslambda.http-integration-response``: a JSON prelude
  ``{"statusCode", "headers", "cookies"}``, exactly 8 NUL bytes, then the body.
  Lambda answers the caller with that status, those headers and cookies
  (``Set-Cookie``), and the body as it comes.

A chunk is ``bytes``, ``bytearray``, ``memoryview`` or ``str`` (sent as UTF-8);
each goes on the wire as one HTTP chunk as soon as it is yielded, and an
empty one sends nothing. A ``bytes`` or ``str`` given as a whole body is one
chunk. Anything else ends the stream with ``Runtime.MarshalError``, the
error Lambda reports when a runtime cannot turn what the handler gave into
response bytes: the same fault as a buffered result JSON cannot encode, under
a name callers already handle (the Rust runtime's ``Runtime.StreamError``
names every mid-stream error, the user's included, where we report those
under their class name as buffered errors are).

The response begins with the body's first chunk: an exception raised before
it is posted to ``/error`` as a buffered handler's is (the same log line and
JSON), one raised after it goes in the stream's trailers. An HttpStream's
prelude goes out with that first chunk, not at once: so an error before any
body still reaches the caller as Lambda's error answer, not as a 200 with the
function's headers and an empty body; and Node.js's ``HttpResponseStream``
(the reference) writes it just before the first write too. The prelude is
sent when the body is empty. A handler that wants its status and headers out
before it has body to send (server-sent events) yields an empty chunk first:
that begins the response, sending the prelude and nothing else.

The chunks' source is any iterator with an optional ``close()``, called when
the stream ends, early or not (a generator's ``finally`` runs then), as a
WSGI server closes its body (PEP 3333). An async generator joins as such an
iterator, one that runs each ``__anext__`` (and ``aclose``) on the runtime's
event loop. Imported when a handler uses ``ric.Stream`` or ``ric.HttpStream``
or returns an iterator: never before the first ``GET /next`` otherwise.
"""

from __future__ import annotations

from ric.errors import MarshalError
from ric.outcome import Streamed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import AsyncIterable, Callable, Iterable, Iterator, Mapping, Sequence
    from contextvars import Context
    from typing import Any

    from ric.marshal import Codec
    from ric.protocol import ErrorReport

    Body = Iterable[bytes | str] | AsyncIterable[bytes | str] | bytes | str

__all__ = [
    "DELIMITER",
    "HTTP_INTEGRATION",
    "OCTET_STREAM",
    "Chunks",
    "HttpStream",
    "Stream",
    "as_bytes",
    "streamed",
]

OCTET_STREAM = "application/octet-stream"
# The content type that tells Lambda the body begins with a prelude
# (configuration-response-streaming.html; Node.js's HttpResponseStream).
HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response"
# What ends the prelude: exactly 8 NUL bytes.
DELIMITER = bytes(8)
_WHOLE = (bytes, bytearray, memoryview, str)


class Stream:
    """A streamed response: ``body``'s chunks, sent with ``content_type``."""

    __slots__ = ("_chunks", "body", "content_type")

    def __init__(self, body: Body, content_type: str = OCTET_STREAM):
        if not isinstance(content_type, str):
            raise TypeError(f"content_type must be a str, not {type(content_type).__name__}")
        if "\r" in content_type or "\n" in content_type or "\x00" in content_type:
            raise ValueError(f"content_type with a line break or NUL: {content_type[:40]!r}")
        self.body = body
        self.content_type = content_type
        self._chunks = _chunk_source(body)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.body!r}, {self.content_type!r})"


class HttpStream(Stream):
    """A streamed HTTP response for a function URL: status, headers and cookies, then ``body``."""

    __slots__ = ("cookies", "headers", "status_code")

    def __init__(
        self,
        body: Body,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        cookies: Sequence[str] | None = None,
    ) -> None:
        super().__init__(body, HTTP_INTEGRATION)
        self.status_code = _status(status_code)
        self.headers = _headers(headers)
        self.cookies = _cookies(cookies)

    @property
    def prelude(self) -> dict[str, Any]:
        """What the JSON prelude holds."""
        return {"statusCode": self.status_code, "headers": self.headers, "cookies": self.cookies}

    def __repr__(self) -> str:
        return (
            f"HttpStream({self.body!r}, {self.status_code!r}, {self.headers!r}, {self.cookies!r})"
        )


def _chunk_source(body: object) -> Any:
    """An iterator over ``body``, or an async iterator for an async iterable one."""
    if isinstance(body, _WHOLE):
        return iter((body,))
    if hasattr(type(body), "__aiter__"):
        return body.__aiter__()  # type: ignore[attr-defined]
    try:
        return iter(body)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(
            "a stream's body must be an iterable or async iterable of bytes or str, "
            f"not {type(body).__name__}"
        ) from None


def _status(code: object) -> int:
    if type(code) is not int:
        raise TypeError(f"status_code must be an int, not {type(code).__name__}")
    if not 100 <= code <= 599:
        raise ValueError(f"status_code must be from 100 to 599, not {code}")
    return code


def _headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    fields = dict(headers or {})
    for name, value in fields.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"headers must map str to str, not {name!r}: {value!r}")
    return fields


def _cookies(cookies: Sequence[str] | None) -> list[str]:
    if isinstance(cookies, str):
        raise TypeError("cookies must be a list of str, not one str")
    listed = list(cookies or ())
    for cookie in listed:
        if not isinstance(cookie, str):
            raise TypeError(f"cookies must be a list of str, not one of {type(cookie).__name__}")
    return listed


class Chunks:
    """A stream's chunks as the wire takes them: bytes, in the order the body made them.

    ``close`` closes the source, if it can be, then calls ``flush`` (the
    function's output flushed, as after a buffered handler returns), so what
    the body printed is in the invocation's log before the stream ends.
    The body runs after the handler has returned: given ``context`` (one where
    the invocation's context is current), each step and ``close`` run in it,
    so ``ric.current_context()`` is right in the body too.
    """

    __slots__ = ("_context", "_flush", "_source")

    def __init__(
        self, source: Iterator[object], flush: Callable[[], None], context: Context | None = None
    ) -> None:
        self._source = source
        self._flush = flush
        self._context = context

    def __iter__(self) -> Chunks:
        return self

    def __next__(self) -> bytes:
        if self._context is None:
            chunk = next(self._source)
        else:
            chunk = self._context.run(next, self._source)
        if type(chunk) is bytes:
            return chunk
        return as_bytes(chunk)

    def close(self) -> None:
        try:
            close = getattr(self._source, "close", None)
            if close is not None:
                if self._context is None:
                    close()
                else:
                    self._context.run(close)
        finally:
            self._flush()


def as_bytes(chunk: object) -> bytes:
    """A chunk's bytes: a str as UTF-8; a type that is not a chunk is a MarshalError."""
    if isinstance(chunk, str):
        try:
            return str.encode(chunk)
        except UnicodeEncodeError as exc:  # a lone surrogate
            raise MarshalError(f"Unable to marshal response: {exc}") from None
    if isinstance(chunk, (bytes, bytearray, memoryview)):
        return bytes(chunk)
    raise MarshalError(
        "Unable to marshal response: a stream chunk must be bytes or str, "
        f"not {type(chunk).__name__}"
    )


def streamed(
    result: object,
    codec: Codec,
    fail: Callable[[Exception], ErrorReport],
    flush: Callable[[], None],
    *,
    asynchronous: Callable[[Any], Iterator[object]],
    context: Context | None = None,
) -> Streamed:
    """The outcome of a result that streams: a Stream, an HttpStream, or an (async) iterator.

    ``asynchronous`` turns an async iterator into an iterator (each step run on
    the runtime's event loop); the body runs in ``context`` (see
    :class:`Chunks`). A prelude that JSON cannot encode is a MarshalError,
    raised here.
    """
    if isinstance(result, HttpStream):
        prelude = codec.encode(result.prelude)[0] + DELIMITER
        chunks = Chunks(_sync(result._chunks, asynchronous), flush, context)
        return Streamed(HTTP_INTEGRATION, chunks, fail, prelude)
    if isinstance(result, Stream):
        chunks = Chunks(_sync(result._chunks, asynchronous), flush, context)
        return Streamed(result.content_type, chunks, fail)
    return Streamed(OCTET_STREAM, Chunks(_sync(result, asynchronous), flush, context), fail)


def _sync(source: Any, asynchronous: Callable[[Any], Iterator[object]]) -> Iterator[object]:
    if hasattr(type(source), "__next__"):
        return source  # type: ignore[no-any-return]
    return asynchronous(source)
