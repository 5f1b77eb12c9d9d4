"""One HTTP/1.1 connection, driven through h11: requests answered one at a time, in order.

Pipelined requests (RFC 9112 section 9.3) wait their turn; a handler may wait
as long as it likes (a long poll is never idle). What arrives while a
request is answered is held up to ``Limits.buffer`` bytes, in ``_pending`` or
in the body queue, then the socket is not read: the rest stays in the
kernel. A peer that disconnects cancels the handler in flight. When this
side closes with input still unread, it half-closes first and drops what
the peer still sends for a moment, so the peer reads the answer instead of
a reset (RFC 9112 section 9.6).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from typing import Any, cast

import h11

from emulator.http.body import BodyQueue
from emulator.http.head import address, fields, head_size
from emulator.http.messages import (
    BodyTooLarge,
    ConnectionInfo,
    Handler,
    Limits,
    Response,
    error_response,
)
from emulator.http.request import Request
from emulator.http.writer import Output, ResponseWriter

__all__ = ["Connection"]

logger = logging.getLogger("emulator.http")

# Input held while h11 is paused goes to it in slices of this size, so that
# h11 never holds more than one slice beyond the next request it pauses on.
_SLICE = 64 * 1024
# How long a half-closed connection drops input before it is closed.
_LINGER_S = 2.0


class Connection(asyncio.Protocol):
    """The asyncio protocol of one accepted connection; ``closed`` is done once it is gone."""

    def __init__(
        self,
        handler: Handler,
        limits: Limits,
        accept: Callable[[ConnectionInfo], bool] | None,
        registry: set[Connection],
    ) -> None:
        self._handler = handler
        self._limits = limits
        self._accept = accept
        self._registry = registry
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.max_head)
        self._transport: asyncio.Transport | None = None
        self._output: Output | None = None
        self._task: asyncio.Task[None] | None = None
        self._peer: tuple[str, int] | None = None
        self._pending = bytearray()  # received, not yet given to h11
        self._paused = False  # h11 holds a whole request: the next one waits in _pending
        self._eof = False  # the peer half-closed
        self._eof_fed = False
        self._peer_done = False  # h11 saw the end of the peer's input
        self._reading = True
        self._closing = False  # this side is done: nothing more is read for requests
        self._stopping = False  # the server stops: close after the current response
        self._busy = False  # a request is being answered
        self._ready: Request | None = None
        self._current: Request | None = None  # the request being answered
        self._body: BodyQueue | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_kind = ""
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    # -- asyncio's callbacks -----------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not derive from asyncio.Transport; they behave as one.
        self._transport = cast(asyncio.Transport, transport)
        self._peer = address(transport.get_extra_info("peername"))
        local = address(transport.get_extra_info("sockname"))
        if self._accept is not None and not self._accept(ConnectionInfo(self._peer, local)):
            self._closing = True
            self._transport.abort()
            return
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Every answer is one write: no 40 ms Nagle delay in any latency.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._output = Output(self._transport, self._limits.write_buffer)
        self._registry.add(self)
        self._task = asyncio.get_running_loop().create_task(self._serve())
        self._task.add_done_callback(self._served)

    def data_received(self, data: bytes) -> None:
        if self._closing:
            return  # lingering: what the peer still sends is dropped
        if self._pending or self._paused:
            self._pending += data
            self._feed()
        else:  # h11 takes it whole: past a pause it holds at most this one read
            self._h11.receive_data(data)
            self._pump()
            self._flow()
        if self._timer_kind == "idle":  # a head began and is not whole yet
            self._arm("header", self._limits.header_timeout_s, self._header_expired)

    def eof_received(self) -> bool:
        if self._closing:
            return False  # the transport closes
        self._eof = True
        self._feed()
        if self._current is not None:
            self._current.peer_ended()
        return True  # half-closed: the answers owed still go out, then we close

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._disarm()
        if self._output is not None:
            self._output.close()
        self._registry.discard(self)
        if self._current is not None:
            self._current.peer_ended()
        if self._task is not None:
            self._task.cancel()
        if not self.closed.done():
            self.closed.set_result(None)

    def pause_writing(self) -> None:
        self._out.pause()

    def resume_writing(self) -> None:
        self._out.resume()

    # -- the server's controls ---------------------------------------------------

    def shutdown(self) -> None:
        """Close now if idle, else once the response in progress is sent."""
        self._stopping = True
        if not self._busy:
            self._close(linger=False)

    def abort(self) -> None:
        self._closing = True
        if self._output is not None:
            self._output.close()
        if self._transport is not None:
            self._transport.abort()

    # -- the requests, one at a time ---------------------------------------------

    async def _serve(self) -> None:
        writer = ResponseWriter(self._h11, self._out, self.abort)
        while (request := await self._next_request()) is not None:
            self._busy = True
            self._current = request
            if self._eof:
                request.peer_ended()
            response = await self._respond(request)
            if response is None:
                break
            await writer.send(request.method, response, self._must_close())
            try:
                await self._out.drain()  # a pipelined answer waits for the last to leave
            except ConnectionError:
                break
            self._busy = False
            self._current = None
            if not self._next_cycle():
                break
        self._close(linger=True)

    def _served(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (exc := task.exception()) is not None:
            logger.error("connection from %s failed", self._peer, exc_info=exc)
            self.abort()

    async def _next_request(self) -> Request | None:
        self._pump()  # h11 may hold the whole of the next request already
        self._feed()  # and what was held while the last request was answered
        if self._ready is None and not self._closing and not self._peer_done:
            if self._pending or self._h11.trailing_data[0]:
                self._arm("header", self._limits.header_timeout_s, self._header_expired)
            else:
                self._arm("idle", self._limits.idle_timeout_s, self._idle_expired)
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        request, self._ready = self._ready, None
        return request

    async def _respond(self, request: Request) -> Response | None:
        try:
            return await self._handler(request)
        except BodyTooLarge as exc:  # read() without a limit of the handler's own
            return error_response(413, "RequestEntityTooLarge", str(exc))
        except Exception as exc:  # a bug in a handler must not kill the connection
            if self._closing:
                return None  # the connection went first (e.g. a body timeout)
            logger.exception("error answering %s %s", request.method, request.target)
            return error_response(500, "ServiceException", f"{type(exc).__name__}: {exc}")

    def _must_close(self) -> bool:
        # An answer before the whole body arrived: what is left of it cannot be told
        # from the next request, so the connection ends after the answer.
        return self._stopping or self._h11.their_state is not h11.DONE

    def _next_cycle(self) -> bool:
        states = (self._h11.our_state, self._h11.their_state)
        if self._closing or self._stopping or states != (h11.DONE, h11.DONE):
            return False
        self._h11.start_next_cycle()
        self._paused = False
        self._body = None
        return True

    # -- input -------------------------------------------------------------------

    def _feed(self) -> None:
        while self._pending and not self._paused and not self._closing:
            piece = bytes(self._pending[:_SLICE])
            del self._pending[:_SLICE]
            self._h11.receive_data(piece)
            self._pump()
        if self._eof and not self._eof_fed and not self._pending and not self._closing:
            self._eof_fed = True
            self._h11.receive_data(b"")
            self._pump()
        self._flow()

    def _pump(self) -> None:
        while not self._closing and not self._peer_done:
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as exc:
                self._fail(exc.error_status_hint, f"bad request: {exc}")
                return
            if event is h11.NEED_DATA:
                return
            if event is h11.PAUSED:
                self._paused = True
                return
            self._take(event)

    def _take(self, event: Any) -> None:
        if isinstance(event, h11.Request):
            self._head(event)
        elif isinstance(event, h11.Data):
            assert self._body is not None
            self._body.put(event.data)
        elif isinstance(event, h11.EndOfMessage):
            assert self._body is not None
            self._body.end(fields(event.headers))
        elif isinstance(event, h11.ConnectionClosed):
            self._peer_done = True  # a request that came before is still answered
            self._wake()

    def _head(self, event: h11.Request) -> None:
        self._disarm()
        if head_size(event) > self._limits.max_head:
            # h11 only measures a head still incomplete: one that came whole is measured here.
            self._fail(431, "bad request: the request head is too large")
            return
        headers = fields(event.headers)
        if "content-length" in headers and "transfer-encoding" in headers:
            # RFC 9112 section 6.1: such a request may smuggle another; refuse and close.
            self._fail(400, "bad request: both Content-Length and Transfer-Encoding")
            return
        self._body = BodyQueue(self._limits.body_timeout_s, self._flow, self.abort, self._continue)
        self._ready = Request(
            event.method.decode("ascii"),
            event.target.decode("ascii"),  # h11 allows visible ASCII only (RFC 9112 3.2)
            headers,
            http_version=event.http_version.decode("ascii"),
            peer=self._peer,
            source=self._body,
            max_body=self._limits.max_body,
        )
        self._wake()

    def _flow(self) -> None:
        """Read the socket only while what is held is under ``Limits.buffer``."""
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        held = len(self._pending) + (self._body.size if self._body is not None else 0)
        wanted = self._closing or held <= self._limits.buffer
        if wanted != self._reading:
            self._reading = wanted
            if wanted:
                transport.resume_reading()
            else:
                transport.pause_reading()

    def _continue(self) -> None:
        # RFC 9110 section 10.1.1: the client waits for 100 before it sends the body.
        if self._h11.they_are_waiting_for_100_continue and not self._closing:
            event = h11.InformationalResponse(status_code=100, headers=[], reason=b"Continue")
            with contextlib.suppress(ConnectionError):
                self._out.write(self._h11.send_with_data_passthrough(event) or [])

    # -- endings -----------------------------------------------------------------

    def _fail(self, status: int, message: str) -> None:
        """A request that cannot be served: its error if nothing was sent yet, then close."""
        if self._busy and self._task is not None:
            self._task.cancel()
        if self._h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
            ResponseWriter(self._h11, self._out, self.abort).send_now(
                error_response(status, "BadRequest", message)
            )
        self._close(linger=True)

    def _close(self, linger: bool) -> None:
        if self._closing:
            return
        self._closing = True
        self._disarm()
        self._wake()
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        self._out.close()
        if not linger or self._eof or not transport.can_write_eof():
            transport.close()
            return
        try:
            transport.write_eof()  # after what was written: the peer reads the answer
        except OSError:  # the peer had closed, and reset the connection on the answer
            transport.close()
            return
        self._flow()  # read again, to drop what the peer still sends
        self._timer = asyncio.get_running_loop().call_later(_LINGER_S, transport.close)

    def _idle_expired(self) -> None:
        self._timer = None
        self._close(linger=False)

    def _header_expired(self) -> None:
        self._timer = None
        self._fail(408, "the request head did not arrive in time")

    def _arm(self, kind: str, delay: float, callback: Callable[[], None]) -> None:
        self._disarm()
        self._timer = asyncio.get_running_loop().call_later(delay, callback)
        self._timer_kind = kind

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self._timer_kind = ""

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    @property
    def _out(self) -> Output:
        assert self._output is not None, "not connected"
        return self._output
