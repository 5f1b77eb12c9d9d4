"""A streamed response in async concurrency mode: :mod:`ric.stream_client`, awaited.

The same contract (runtimes-custom.html, "Implementing response streaming in
a custom runtime"): the head, the prelude and the first chunk in one write;
each further chunk as the body makes it; an error before the first chunk
posted to ``/error`` instead, one after it in the trailers; the answer read,
then the connection closed. The body is :class:`AsyncBody`: an async
iterator (an async generator, awaited on the running loop, so other
invocations go on while it waits) or a plain iterator (stepped in place, as
a sync handler's generator would be), its chunks turned into bytes as
:func:`ric.stream.as_bytes` does, closed (``aclose``/``close``) however the
stream ends, and the function's output flushed then.
"""

from __future__ import annotations

from ric.errors import TransportError
from ric.outcome import Failed
from ric.protocol import STREAM_TRAILERS, stream_error_trailers
from ric.stream import as_bytes
from ric.wire import ChunkedBody

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ric.aio_transport import AsyncTransport
    from ric.outcome import Streamed
    from ric.protocol import ErrorReport, Invocation, RequestBuilder
    from ric.wire import Response

    Fail = Callable[[Exception], ErrorReport]

__all__ = ["AsyncBody", "send_stream"]

_END = object()  # what next() gives past a plain iterator's end


class AsyncBody:
    """A stream's source, sync or async, as awaited bytes; ``None`` once it is done."""

    __slots__ = ("_flush", "_source")

    def __init__(self, source: object, flush: Callable[[], None]) -> None:
        self._source = source
        self._flush = flush

    async def next(self) -> bytes | None:
        source: object = self._source
        if hasattr(type(source), "__anext__"):
            try:
                chunk = await source.__anext__()  # type: ignore[attr-defined]
            except StopAsyncIteration:
                return None
        else:
            chunk = next(source, _END)  # type: ignore[call-overload]
            if chunk is _END:
                return None
        return chunk if type(chunk) is bytes else as_bytes(chunk)

    async def close(self) -> None:
        try:
            aclose = getattr(self._source, "aclose", None)
            if aclose is not None:
                await aclose()
            elif (close := getattr(self._source, "close", None)) is not None:
                close()
        finally:
            self._flush()


async def send_stream(
    transport: AsyncTransport, requests: RequestBuilder, invocation: Invocation, outcome: Streamed
) -> Response | Failed:
    """Send ``outcome``: the Runtime API's answer, or the :class:`Failed` outcome to post."""
    body = outcome.chunks
    assert isinstance(body, AsyncBody)  # what ric.concurrent's Respond makes
    fail = outcome.fail
    try:
        first = await body.next()
    except Exception as exc:
        report = fail(exc)
        await _close(body, fail)
        return Failed(report)
    framing = ChunkedBody(STREAM_TRAILERS)
    head = requests.streaming_response(invocation, outcome.content_type)
    start = (head, *framing.chunk(outcome.prelude), *framing.chunk(first or b""))
    transport.close_if_stale()  # the handler may have worked long: found out now, not after
    try:
        return await _post(transport, framing, start, body, fail)
    finally:
        transport.close()


async def _post(
    transport: AsyncTransport,
    framing: ChunkedBody,
    start: tuple[bytes, ...],
    body: AsyncBody,
    fail: Fail,
) -> Response:
    try:
        await transport.send(start)
        report = await _rest(transport, framing, body, fail)
    except TransportError as failure:
        await _close(body, fail)
        return await _answer_after(transport, failure)
    closing = await _close(body, fail)
    if report is None:
        report = closing
    last = framing.end(None if report is None else stream_error_trailers(report))
    try:
        await transport.send((last,))
    except TransportError as failure:
        return await _answer_after(transport, failure)
    return await transport.receive()


async def _rest(
    transport: AsyncTransport, framing: ChunkedBody, body: AsyncBody, fail: Fail
) -> ErrorReport | None:
    while True:
        try:
            chunk = await body.next()
        except Exception as exc:  # the user's code failed mid-stream, or gave no bytes
            return fail(exc)
        if chunk is None:
            return None
        if framed := framing.chunk(chunk):
            await transport.send(framed)


async def _close(body: AsyncBody, fail: Fail) -> ErrorReport | None:
    try:
        await body.close()
    except Exception as exc:
        return fail(exc)
    return None


async def _answer_after(transport: AsyncTransport, failure: TransportError) -> Response:
    try:
        return await transport.receive()
    except TransportError:
        raise failure from None
