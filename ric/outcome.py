"""How an invocation ends, defined once; the client posts it, whatever layer made it.

``Outcome = Buffered | Streamed | Failed`` (runtimes-api.html):

- :class:`Buffered`: ``POST /runtime/invocation/{id}/response`` with the whole
  body and its ``Content-Length``.
- :class:`Streamed`: the same path in streaming mode (runtimes-custom.html,
  "Implementing response streaming in a custom runtime"), the body sent chunk
  by chunk as ``chunks`` produces it, ``prelude`` (if any) in the same write as
  the first chunk. An exception raised by ``chunks`` before the first chunk
  makes the invocation a :class:`Failed` one; after it, the error goes in the
  trailers (``Lambda-Runtime-Function-Error-Type`` and
  ``Lambda-Runtime-Function-Error-Body``). ``fail`` turns that exception into
  its report, and logs it, as the layer that made the stream knows how.
  ``chunks`` is closed (its ``close()``, if it has one) when the stream ends.
- :class:`Failed`: ``POST /runtime/invocation/{id}/error`` with the report.

A result layer that wants to stream (a generator, a web framework's body, an
async generator driven by an event loop) builds a :class:`Streamed`; nothing
on the buffered path changes for it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from ric.aio_stream import AsyncBody
    from ric.protocol import ErrorReport

__all__ = ["Buffered", "Failed", "Outcome", "Streamed"]


class Buffered:
    """A whole response body and its content type."""

    __slots__ = ("body", "content_type")

    def __init__(self, body: bytes, content_type: str) -> None:
        self.body = body
        self.content_type = content_type

    def __repr__(self) -> str:
        return f"Buffered({self.body[:80]!r}, {self.content_type!r})"


class Streamed:
    """A response body produced chunk by chunk; ``fail`` reports an error raised mid-stream.

    ``prelude`` goes before the first chunk, once that chunk exists: an HTTP
    integration response's JSON and its 8 NUL bytes.
    """

    __slots__ = ("chunks", "content_type", "fail", "prelude")

    def __init__(
        self,
        content_type: str,
        chunks: Iterable[bytes] | AsyncBody,
        fail: Callable[[Exception], ErrorReport],
        prelude: bytes = b"",
    ) -> None:
        self.content_type = content_type
        self.chunks = chunks
        self.fail = fail
        self.prelude = prelude

    def __repr__(self) -> str:
        return f"Streamed({self.content_type!r}, {self.chunks!r})"


class Failed:
    """An invocation that failed: the report to post (already logged)."""

    __slots__ = ("report",)

    def __init__(self, report: ErrorReport) -> None:
        self.report = report

    def __repr__(self) -> str:
        return f"Failed({self.report.error_type!r})"


Outcome = Buffered | Streamed | Failed
