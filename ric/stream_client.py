"""Posting a streamed response: each chunk as it comes, a late error in trailers.

runtimes-custom.html, "Implementing response streaming in a custom runtime":
``POST /runtime/invocation/{id}/response`` with
``Lambda-Runtime-Function-Response-Mode: streaming`` and ``Transfer-Encoding:
chunked``, the ``Trailer`` field announcing ``Lambda-Runtime-Function-Error-Type``
and ``Lambda-Runtime-Function-Error-Body`` (the head is
:meth:`~ric.protocol.RequestBuilder.streaming_response`). ``/error`` "can only be
called before the runtime begins sending an invocation response", so an
exception raised before the first chunk is posted there, and one raised after
it goes in the trailers. The runtime must "close the underlying connection
after it has successfully written the response": the answer is read, then the
connection closed, so nothing is pipelined behind a stream and the next
``GET /next`` opens a new connection. (The Node.js and Rust clients keep the
connection in their pools instead; we follow the documented contract.) A
stream cannot be sent twice, as a buffered post is when it finds the
connection stale: one the Runtime API closed while the handler worked (an
idle timeout) is found out with a peek before the head goes, and replaced.

A Runtime API that refuses a stream while it is sent (413 past the size
limit, 410 once the invocation is over) may answer early and close the
connection: the next write fails, and the answer it had sent is read and
reported rather than the reset. Imported by the client on the first streamed
outcome, so a function that never streams never loads it.
"""

from __future__ import annotations

from ric.errors import TransportError
from ric.outcome import Failed
from ric.protocol import STREAM_TRAILERS, stream_error_trailers
from ric.wire import ChunkedBody

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from ric.outcome import Streamed
    from ric.protocol import ErrorReport, Invocation, RequestBuilder
    from ric.transport import Transport
    from ric.wire import Response

    Fail = Callable[[Exception], ErrorReport]

__all__ = ["send_stream"]


def send_stream(
    transport: Transport, requests: RequestBuilder, invocation: Invocation, outcome: Streamed
) -> Response | Failed:
    """Send ``outcome``: the Runtime API's answer, or the :class:`Failed` outcome to post.

    The response begins when ``chunks`` gives its first item (an empty one
    too: the head and the prelude go out then); an exception raised before it
    is returned as a :class:`Failed` outcome, and nothing was sent. Raises
    :class:`TransportError` when the stream was cut and no answer had come.
    The connection is closed afterwards in every case where the head went out.
    """
    # Iterable here: an AsyncBody is ric.concurrent's, sent by ric.aio_stream.
    chunks = iter(outcome.chunks)  # type: ignore[arg-type]
    fail = outcome.fail
    try:
        first = next(chunks, b"")
    except Exception as exc:
        report = fail(exc)
        _close(chunks, fail)
        return Failed(report)
    body = ChunkedBody(STREAM_TRAILERS)
    head = requests.streaming_response(invocation, outcome.content_type)
    start = (head, *body.chunk(outcome.prelude), *body.chunk(first))
    transport.close_if_stale()  # the handler may have worked long: found out now, not after
    try:
        return _post(transport, body, start, chunks, fail)
    finally:
        transport.close()


def _post(
    transport: Transport,
    body: ChunkedBody,
    start: Sequence[bytes],
    chunks: Iterator[bytes],
    fail: Fail,
) -> Response:
    try:
        transport.send(start)
        report = _rest(transport, body, chunks, fail)
    except TransportError as failure:
        _close(chunks, fail)  # the body ends early: the generator's cleanup runs now
        return _answer_after(transport, failure)
    closing = _close(chunks, fail)
    if report is None:
        report = closing
    last = body.end(None if report is None else stream_error_trailers(report))
    try:
        transport.send((last,))
    except TransportError as failure:
        return _answer_after(transport, failure)
    return transport.receive()


def _rest(
    transport: Transport, body: ChunkedBody, chunks: Iterator[bytes], fail: Fail
) -> ErrorReport | None:
    """Send each further chunk once it is made; the report of what raised, if anything did."""
    while True:
        try:
            chunk = next(chunks)
        except StopIteration:
            return None
        except Exception as exc:  # the user's code failed mid-stream, or gave no bytes
            return fail(exc)
        if framed := body.chunk(chunk):  # an empty chunk sends nothing
            transport.send(framed)


def _close(chunks: Iterator[bytes], fail: Fail) -> ErrorReport | None:
    """Close the chunks' source (a generator's ``finally`` runs); the report if that raised.

    The first error of a stream is the one reported; ``fail`` logs any other.
    """
    close = getattr(chunks, "close", None)
    if close is None:
        return None
    try:
        close()
    except Exception as exc:
        return fail(exc)
    return None


def _answer_after(transport: Transport, failure: TransportError) -> Response:
    """The answer the Runtime API sent before it closed the connection, else ``failure``."""
    try:
        return transport.receive()
    except TransportError:
        raise failure from None
