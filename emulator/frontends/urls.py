"""Function URLs: any HTTP request to a function's URL port is an invocation.

"Invoking Lambda function URLs" (urls-invocation.html): the request becomes an
event of payload format 2.0 and the function's answer an HTTP response. With
the ``BUFFERED`` invoke mode the result is mapped whole; with
``RESPONSE_STREAM`` ("Response streaming", configuration-response-streaming.html)
status, headers and cookies come from the stream's prelude and the body is
sent chunk by chunk as the function produces it. A stream that fails midway
just ends (a browser has no trailers to read); the error is in the log.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator
from typing import Any

from emulator.config import FunctionConfig, UrlConfig
from emulator.core.events import EventBus, Notice
from emulator.core.invocation import Ids, Invocation, Outcome, OutcomeKind
from emulator.core.lifecycle import Clock
from emulator.core.placement import Throttled
from emulator.environments.relay import StreamRelay
from emulator.functions.registry import Function
from emulator.http import BodyTooLarge, Request, Response, json_response
from emulator.protocols import function_url
from emulator.protocols.function_url import HttpAnswer, Prelude, PreludeError, PreludeReader
from emulator.protocols.invoke_api import SYNC_LIMIT

__all__ = ["UrlFrontend", "url_id"]

# The event's requestContext.accountId for a URL whose auth type is NONE.
_ACCOUNT = "anonymous"


def url_id(function: FunctionConfig) -> str:
    """The URL's id, as Lambda makes one: 32 lower-case characters, the same each run."""
    digest = hashlib.sha256(function.arn.encode()).digest()
    return base64.b32encode(digest).decode("ascii").lower()[:32]


class UrlFrontend:
    """Serves one function's URL."""

    def __init__(
        self, function: Function, url: UrlConfig, ids: Ids, clock: Clock, bus: EventBus
    ) -> None:
        self._function = function
        self._bus = bus
        self._url = url
        self._ids = ids
        self._clock = clock
        self._id = url_id(function.config)
        self._background: set[asyncio.Task[Any]] = set()
        self.closing = False

    async def handle(self, request: Request) -> Response:
        request_id = self._ids.request_id()
        common = ("X-Amzn-RequestId", request_id)
        try:
            body = await request.read(SYNC_LIMIT)
        except BodyTooLarge:
            return json_response(413, b'{"Message":"Request Entity Too Large"}', common)
        if self.closing:
            return json_response(503, b'{"Message":"Service Unavailable"}', common)
        # A URL of an alias runs the version it points to now ("Creating and managing
        # Lambda function URLs": a URL is of $LATEST or of an alias).
        target = self._function.resolve(self._url.qualifier)
        if target is None:
            return json_response(404, b'{"Message":"Function not found"}', common)
        invocation = self._invocation(request, body, request_id)
        relay = StreamRelay() if self._url.streaming else None
        run = asyncio.ensure_future(target.service.invoke(invocation, relay=relay))
        self._background.add(run)
        run.add_done_callback(self._background.discard)
        if relay is None:
            # Shielded: a caller that hangs up never leaves an environment wedged.
            return _answer(await asyncio.shield(run), request_id)
        return await self._streamed(relay, run, request_id)

    async def close(self) -> None:
        await asyncio.gather(*self._background, return_exceptions=True)

    def _invocation(self, request: Request, body: bytes, request_id: str) -> Invocation:
        now = self._clock.time()
        trace_id = self._ids.trace_id(now)
        region = self._function.config.region
        context = function_url.UrlContext(
            _ACCOUNT, self._id, region, request_id, int(now * 1000), trace_id
        )
        wanted = function_url.UrlRequest(
            request.method,
            request.target,
            tuple(request.headers.items()),
            body,
            request.peer[0] if request.peer else "127.0.0.1",
        )
        arn = self._function.config.qualified_arn(self._url.qualifier)
        event = function_url.url_event(wanted, context)
        return Invocation(request_id, event, trace_id, self._ids.request_id(), function_arn=arn)

    async def _streamed(
        self, relay: StreamRelay, run: asyncio.Future[Outcome | Throttled], request_id: str
    ) -> Response:
        try:
            if not await relay.opened(run):  # answered buffered, or never ran
                return _unmapped(run.result(), request_id)
            content_type = relay.began.result()
            chunks = relay.chunks()
            if content_type != function_url.HTTP_INTEGRATION_CONTENT_TYPE:
                headers = [("Content-Type", content_type), ("X-Amzn-RequestId", request_id)]
                return _relaying(relay, 200, headers, self._relayed(relay, chunks, [], run))
            prelude, first = await _prelude(chunks)
        except PreludeError:  # the function's fault: the caller gets Lambda's 502
            relay.leave()
            return _http(function_url.error_answer(), request_id)
        except BaseException:
            relay.leave()
            raise
        headers = [*prelude.header_lines(), ("X-Amzn-RequestId", request_id)]
        return _relaying(relay, prelude.status, headers, self._relayed(relay, chunks, first, run))

    async def _relayed(
        self,
        relay: StreamRelay,
        chunks: AsyncIterator[bytes],
        first: list[bytes],
        run: asyncio.Future[Outcome | Throttled],
    ) -> AsyncIterator[bytes]:
        """The body as it comes; a failure midway just ends it, and is told in the log."""
        try:
            for chunk in first:
                yield chunk
            async for chunk in chunks:
                yield chunk
        finally:
            relay.leave()
        outcome = await asyncio.shield(run)
        if isinstance(outcome, Outcome) and outcome.failed:
            self._notice(outcome)

    def _notice(self, outcome: Outcome) -> None:
        error = outcome.body.decode("utf-8", "replace")[:500]
        text = f"function URL: the response stream ended early with an error: {error}"
        self._bus.emit(Notice(self._function.name, text))


def _relaying(
    relay: StreamRelay, status: int, headers: list[tuple[str, str]], body: AsyncIterator[bytes]
) -> Response:
    """The answer whose body is the relayed stream; once it is sent, the relay is left.

    The body may never be read (a HEAD request, a 204 or 304, a head that
    cannot be sent): the runtime must not wait on a caller that will not read.
    """
    return Response(status, headers, body, on_sent=lambda sent: relay.leave())


async def _prelude(chunks: AsyncIterator[bytes]) -> tuple[Prelude, list[bytes]]:
    """The stream's prelude, and the body bytes that came with it (PreludeError if none).

    A stream that ends before its prelude was whole, a failed one included,
    has none: the function's error is in its log, the caller gets a 502.
    """
    reader = PreludeReader()
    async for chunk in chunks:
        parts = reader.feed(chunk)
        if parts and isinstance(parts[0], Prelude):
            return parts[0], [p for p in parts[1:] if isinstance(p, bytes)]
    prelude = reader.end()
    if prelude is None:
        raise PreludeError("the stream ended before its prelude")
    return prelude, []


def _settled(outcome: Outcome | Throttled, request_id: str) -> Outcome | Response:
    """The answer when the invocation failed or never ran; else its outcome."""
    common = ("X-Amzn-RequestId", request_id)
    if isinstance(outcome, Throttled):
        return json_response(429, b'{"Message":"Rate Exceeded."}', common)
    if outcome.kind is OutcomeKind.SHUTDOWN:
        return json_response(503, b'{"Message":"Service Unavailable"}', common)
    if outcome.failed:
        return _http(function_url.error_answer(), request_id)
    return outcome


def _unmapped(outcome: Outcome | Throttled, request_id: str) -> Response:
    """A buffered answer through a RESPONSE_STREAM URL: sent as it is, not mapped
    (Lambda does not read a statusCode document in this mode)."""
    settled = _settled(outcome, request_id)
    if isinstance(settled, Response):
        return settled
    headers = [("Content-Type", settled.content_type), ("X-Amzn-RequestId", request_id)]
    return Response(200, headers, settled.body)


def _answer(result: Outcome | Throttled, request_id: str) -> Response:
    outcome = _settled(result, request_id)
    if isinstance(outcome, Response):
        return outcome
    if outcome.content_type == function_url.HTTP_INTEGRATION_CONTENT_TYPE:
        # An HTTP stream read whole: its prelude is the answer's head.
        prelude, body = function_url.strip_prelude(outcome.body)
        if prelude is None:
            return _http(function_url.error_answer(), request_id)
        headers = [*prelude.header_lines(), ("X-Amzn-RequestId", request_id)]
        return Response(prelude.status, headers, body)
    return _http(function_url.buffered_answer(outcome.body, outcome.content_type), request_id)


def _http(answer: HttpAnswer, request_id: str) -> Response:
    return Response(answer.status, [*answer.headers, ("X-Amzn-RequestId", request_id)], answer.body)
