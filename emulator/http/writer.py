"""Sending one response through h11: the head, then a bytes body or a streamed one.

A bytes body gets a Content-Length and goes out with its head in one write
while it is small. An async iterable is sent chunk by chunk as it is
produced (``Transfer-Encoding: chunked`` to HTTP/1.1 peers, delimited by the
connection's close for HTTP/1.0 ones, RFC 9112 sections 7.1 and 6.3), each
chunk waiting while the transport's buffer is above its high-water mark.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterable, AsyncIterator, Callable
from http import HTTPStatus

import h11

from emulator.http.messages import Response, error_response

__all__ = ["Output", "ResponseWriter"]

logger = logging.getLogger("emulator.http")

# A body up to this size is joined to its head: one write, one segment.
_JOIN_LIMIT = 64 * 1024
# Responses that never carry a body (RFC 9110 sections 15.3.5 and 15.4.5).
_NO_BODY = (204, 304)


class Output:
    """The write side of a transport, with its flow control as an awaitable.

    uvloop's transports do not derive from asyncio.Transport but have the
    same methods, so the transport is only named by what it is used for.
    """

    def __init__(self, transport: asyncio.WriteTransport, high: int) -> None:
        self._transport = transport
        transport.set_write_buffer_limits(high=high)
        self._writable = asyncio.Event()
        self._writable.set()
        self.shut = False  # no more writes: aborted, lost, or our side half-closed

    def write(self, pieces: list[bytes]) -> None:
        if self.shut or self._transport.is_closing():
            raise ConnectionResetError("the connection is closed")
        if len(pieces) == 1:
            self._transport.write(pieces[0])
        elif sum(map(len, pieces)) <= _JOIN_LIMIT:
            # One write, one segment: uvloop's writelines sends each piece on its own.
            self._transport.write(b"".join(pieces))
        else:
            self._transport.writelines(pieces)

    async def drain(self) -> None:
        """Returns once the transport takes more; ConnectionResetError if it never will."""
        if not self._writable.is_set():
            await self._writable.wait()
        if self.shut:
            raise ConnectionResetError("the connection is closed")

    def pause(self) -> None:
        self._writable.clear()

    def resume(self) -> None:
        self._writable.set()

    def close(self) -> None:
        self.shut = True
        self._writable.set()


class ResponseWriter:
    """Sends responses on one h11 connection; errors in a body abort the connection."""

    def __init__(self, conn: h11.Connection, output: Output, abort: Callable[[], None]) -> None:
        self._h11 = conn
        self._output = output
        self._abort = abort

    async def send(self, method: str, response: Response, close: bool) -> None:
        """Send ``response`` to a ``method`` request; ``close``: say Connection: close."""
        sent = False
        iterator = None if isinstance(response.body, bytes) else aiter(response.body)
        try:
            sent = await self._send(method, response, iterator, close)
        finally:
            if iterator is not None:
                await _aclose(iterator)
            if response.on_sent is not None:
                _notify(response, sent)

    async def _send(
        self,
        method: str,
        response: Response,
        iterator: AsyncIterator[bytes] | None,
        close: bool,
    ) -> bool:
        try:
            head = _head(response, close)
        except (h11.LocalProtocolError, UnicodeEncodeError) as exc:
            logger.exception("invalid answer to %s (%d)", method, response.status)
            answer = error_response(500, "ServiceException", f"invalid answer: {exc}")
            await self.send(method, answer, close)
            return False
        try:
            if method == "HEAD" or response.status in _NO_BODY:
                self._write(head, h11.EndOfMessage())
            elif iterator is None and response.trailers is None:
                assert isinstance(response.body, bytes)
                self._write_whole(head, response.body)
            else:
                self._write(head)
                await self._stream(iterator or _once(response.body), response)
        except ConnectionError:
            return False
        except Exception:  # a body or trailers that fail: the peer must not see a clean end
            logger.exception("error streaming the answer to %s (%d)", method, response.status)
            self._abort()
            return False
        return True

    def send_now(self, response: Response) -> None:
        """A bytes response written at once, Connection: close (the server's own errors)."""
        assert isinstance(response.body, bytes)
        with contextlib.suppress(h11.LocalProtocolError, ConnectionError):
            self._write_whole(_head(response, close=True), response.body)

    def _write_whole(self, head: h11.Response, body: bytes) -> None:
        if len(body) <= _JOIN_LIMIT:
            self._write(head, h11.Data(data=body), h11.EndOfMessage())
        else:  # not copied into one buffer with its head
            self._write(head)
            self._write(h11.Data(data=body), h11.EndOfMessage())

    async def _stream(self, iterator: AsyncIterator[bytes], response: Response) -> None:
        async for chunk in iterator:
            if chunk:  # an empty chunk would read as the end of a chunked body
                self._write(h11.Data(data=chunk))
                await self._output.drain()
        trailers: list[tuple[bytes, bytes]] = []
        if response.trailers is not None and self._chunked():
            trailers = [(n.encode("ascii"), v.encode()) for n, v in response.trailers()]
        self._write(h11.EndOfMessage(headers=trailers))

    def _chunked(self) -> bool:
        # h11 frames a body of unknown length by close for HTTP/1.0 peers, which have no trailers.
        version = self._h11.their_http_version
        return version is not None and version >= b"1.1"

    def _write(self, *events: h11.Event) -> None:
        pieces: list[bytes] = []
        for event in events:
            pieces += self._h11.send_with_data_passthrough(event) or []
        self._output.write(pieces)


def _head(response: Response, close: bool) -> h11.Response:
    headers = [(name.encode("ascii"), value.encode()) for name, value in response.headers]
    names = {name.lower() for name, _ in headers}
    body = response.body
    if (
        isinstance(body, bytes)
        and response.trailers is None
        and response.status not in _NO_BODY
        and b"content-length" not in names
    ):
        headers.append((b"Content-Length", str(len(body)).encode()))
    if close:
        headers.append((b"Connection", b"close"))
    return h11.Response(
        status_code=response.status, headers=headers, reason=_reason(response.status)
    )


def _reason(status: int) -> bytes:
    try:
        return HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


async def _once(body: bytes | AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    # A bytes body with trailers: sent as one chunk, then the trailers.
    assert isinstance(body, bytes)
    yield body


async def _aclose(iterator: AsyncIterator[bytes]) -> None:
    aclose = getattr(iterator, "aclose", None)
    if aclose is not None:
        try:
            await aclose()
        except Exception:
            logger.exception("error closing a response body")


def _notify(response: Response, sent: bool) -> None:
    assert response.on_sent is not None
    try:
        response.on_sent(sent)
    except Exception:
        logger.exception("error in on_sent(%s)", sent)
