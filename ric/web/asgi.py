"""``ric.asgi(app)``: a Lambda handler that serves an ASGI 3 app in process.

The handler is an ``async def`` function: the runtime awaits it on its
persistent event loop (:mod:`ric.aio`), where the app's lifespan task and
whatever its startup opened live across warm invocations
(:mod:`ric.web.lifespan`). It never runs a loop itself, so it works the same
when the runtime awaits it inside a loop that is already running.

Each event is parsed by :mod:`ric.web.events` and handed to the app as the
scope Mangum (0.22.0) builds (:mod:`ric.web.asgi_scope`) with the lifespan's
``state``. ``receive()`` gives one ``http.request`` with the whole body
(``more_body`` False), then waits and gives ``http.disconnect`` once the
response is complete (or the stream is closed). ``send()`` takes
``http.response.start`` and then ``http.response.body`` messages until one
has ``more_body`` False; any other message, or one out of order, raises
:class:`~ric.web.lifespan.UnexpectedMessage` into the app.

Buffered (the default), the body is gathered and answered as Mangum answers
it (:mod:`ric.web.asgi_result`). An exception from the app is Mangum's too:
logged (logger ``ric.web``) and, before the response is complete, answered
``500 Internal Server Error`` (``text/plain; charset=utf-8``), after it
dropped; an app that returns without completing its response is a Lambda
error (Mangum's is an ``AttributeError``).

With ``streaming=True`` the app runs as a task and the handler returns, once
the app has sent ``http.response.start``, a :class:`ric.HttpStream` with its
status, headers and cookies, whose body is an async generator of the app's
``http.response.body`` chunks as it sends them: for a function URL in
``RESPONSE_STREAM`` mode (server-sent events, large downloads). The body
begins with an empty chunk, so the status and headers go out at once. One
chunk waits in between: the app's ``send`` waits while the caller is slower.
An exception before the start is answered 500 as above; after it, it ends
the stream with the error in its trailers. A stream closed early
(the caller went away) gives the app ``http.disconnect`` and cancels its
task; at the end the handler waits for the app to return (Starlette runs
its background tasks then).
"""

from __future__ import annotations

import asyncio
import logging

from ric.web import asgi_result, events
from ric.web.asgi_scope import http_scope
from ric.web.lifespan import Lifespan, UnexpectedMessage

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine
    from typing import Any

    from ric.stream import HttpStream
    from ric.web.lifespan import App, Message

    Handler = Callable[[Any, Any], Coroutine[Any, Any, Any]]

__all__ = ["Bridge", "Exchange", "asgi"]

_STARTED = object()  # in a stream's queue: the app has sent http.response.start
_FAILED_HEADERS = [("content-type", "text/plain; charset=utf-8")]
_LOG = "ric.web"


def asgi(app: App, *, streaming: bool = False, lifespan: str = "auto") -> Handler:
    """An ``async def`` Lambda handler that answers each HTTP event with ``app``.

    Called at module import, as a handler is made, it registers the
    lifespan's startup with ``ric.on_init`` and its shutdown with
    ``ric.on_shutdown`` (unless ``lifespan="off"``); a handler made later
    starts the lifespan at its first request.
    """
    bridge = Bridge(app, Lifespan(app, lifespan), streaming=streaming)
    if lifespan != "off":
        from ric.oninit import on_init
        from ric.shutdown import on_shutdown

        on_init(bridge.lifespan.startup)
        on_shutdown(bridge.lifespan.stop)

    async def handler(event: Any, context: Any) -> dict[str, Any] | HttpStream:
        return await bridge.handle(event, context)

    return handler


class Bridge:
    """An app, its lifespan and the mode: one event in, one Lambda result out."""

    __slots__ = ("app", "lifespan", "streaming")

    def __init__(self, app: App, lifespan: Lifespan, *, streaming: bool = False) -> None:
        self.app = app
        self.lifespan = lifespan
        self.streaming = streaming

    async def handle(self, event: Any, context: Any) -> dict[str, Any] | HttpStream:
        request = events.parse(event, context)
        await self.lifespan.ready()
        scope = http_scope(request)
        if self.lifespan.mode != "off":
            scope["state"] = dict(self.lifespan.state)  # as Mangum: a shallow copy
        if self.streaming:
            return await _streamed(self.app, scope, request.body)
        return asgi_result.render(request, await _buffered(self.app, scope, request.body))


class Exchange:
    """One request's ``receive`` and ``send``: the response's phase, status, headers, body.

    Phases: ``request`` -> ``response`` (started) -> ``complete``. Buffered,
    the body's chunks are kept; given a queue, each is put on it instead,
    after a ``_STARTED`` marker for the start and ``None`` after the last.
    """

    __slots__ = ("_chunks", "_disconnected", "_queue", "_request", "headers", "phase", "status")

    def __init__(self, body: bytes, queue: asyncio.Queue[object] | None = None) -> None:
        self._request: Message | None = {"type": "http.request", "body": body, "more_body": False}
        self._disconnected = asyncio.Event()
        self._queue = queue
        self._chunks: list[bytes] = []
        self.phase = "request"
        self.status = 0
        self.headers: list[tuple[str, str]] = []

    async def receive(self) -> Message:
        if self._request is not None:
            message, self._request = self._request, None
            return message
        await self._disconnected.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message.get("type")
        if self.phase == "request" and kind == "http.response.start":
            self.status = int(message["status"])
            self.headers = [(k.decode(), v.decode()) for k, v in message.get("headers") or ()]
            self.phase = "response"
            await self._hand_on(_STARTED)
        elif self.phase == "response" and kind == "http.response.body":
            await self._body(bytes(message.get("body", b"")), message.get("more_body", False))
        else:
            raise UnexpectedMessage(f"unexpected ASGI message {kind!r} in phase {self.phase}")

    async def _body(self, chunk: bytes, more: bool) -> None:
        if self._queue is None:
            self._chunks.append(chunk)
        elif chunk:
            await self._queue.put(chunk)
        if not more:
            self.phase = "complete"
            await self._hand_on(None)
            self.disconnect()

    async def _hand_on(self, item: object) -> None:
        if self._queue is not None:
            await self._queue.put(item)

    def disconnect(self) -> None:
        """From now on, ``receive()`` gives ``http.disconnect``."""
        self._disconnected.set()

    def response(self) -> events.Response:
        """The buffered response; RuntimeError if the app did not complete it."""
        if self.phase != "complete":
            raise RuntimeError(f"the ASGI app returned in phase {self.phase}, without a response")
        return events.Response(self.status, self.headers, b"".join(self._chunks))

    def failed(self) -> events.Response:
        """What answers an app that raised: 500 unless its response was complete."""
        if self.phase == "complete":
            return self.response()
        return events.Response(500, _FAILED_HEADERS, b"Internal Server Error")


async def _buffered(app: App, scope: dict[str, Any], body: bytes) -> events.Response:
    exchange = Exchange(body)
    try:
        await app(scope, exchange.receive, exchange.send)
    except Exception:
        logging.getLogger(_LOG).exception("the ASGI app raised")
        return exchange.failed()
    return exchange.response()


async def _streamed(app: App, scope: dict[str, Any], body: bytes) -> HttpStream:
    from ric.stream import HttpStream

    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=1)
    exchange = Exchange(body, queue)
    task = asyncio.ensure_future(_serve(app, scope, exchange, queue))
    try:
        first = await queue.get()
    except BaseException:
        task.cancel()
        raise
    if first is _STARTED:
        headers, cookies = events.fold_v2(exchange.headers)
        return HttpStream(_chunks(exchange, queue, task), exchange.status, headers, cookies)
    await task
    if not isinstance(first, BaseException):  # None: the app returned
        raise RuntimeError("the ASGI app returned without starting a response")
    logging.getLogger(_LOG).error("the ASGI app raised", exc_info=first)
    return HttpStream(b"Internal Server Error", 500, dict(_FAILED_HEADERS))


async def _serve(
    app: App, scope: dict[str, Any], exchange: Exchange, queue: asyncio.Queue[object]
) -> None:
    """Run the app; what it raised or left unfinished goes on ``queue``."""
    try:
        await app(scope, exchange.receive, exchange.send)
    except Exception as exc:
        if exchange.phase == "complete":  # the response is out: Mangum drops it too
            logging.getLogger(_LOG).exception("the ASGI app raised after its response")
        else:
            await queue.put(exc)
        return
    if exchange.phase == "request":
        await queue.put(None)
    elif exchange.phase == "response":
        await queue.put(RuntimeError("the ASGI app returned before its response was complete"))


async def _chunks(
    exchange: Exchange, queue: asyncio.Queue[object], task: asyncio.Future[None]
) -> AsyncIterator[bytes]:
    """The stream's body: an empty chunk (the prelude goes out), then the app's chunks."""
    try:
        yield b""
        while (item := await queue.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            assert isinstance(item, bytes)  # the queue holds chunks after _STARTED
            yield item
        await task  # the app goes on after its last chunk: background tasks
    finally:
        exchange.disconnect()
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
